"""Rendering packet-derived strings safely.

Client ids, topics, device names and payloads come from the network, i.e. from whoever sent the
packet. They must never be parsed as Rich/Textual markup and never reach the terminal with control
characters (an ESC could rewrite the screen, an OSC 8 could plant a link, U+202E could reverse the text
that follows). `inert` turns any such string into a `rich.text.Text` with those characters replaced by
visible escapes.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from spear_tui.text import CANDIDATES, escape_char, escape_controls, is_unsafe

__all__ = ["escape_controls", "inert"]

ESCAPE_STYLE = "reverse"


def inert(value: object, style: str | Style = "", max_len: int | None = None) -> Text:
    """A Text that shows `value` literally: no markup parsing, controls as highlighted escapes."""
    s = "" if value is None else str(value)
    if max_len is not None and len(s) > max_len:
        s = s[: max(0, max_len - 1)] + "…"
    text = Text(style=style, no_wrap=True, overflow="ellipsis")
    pos = 0
    for m in CANDIDATES.finditer(s):
        if not is_unsafe(m.group()):
            continue
        if m.start() > pos:
            text.append(s[pos : m.start()])
        text.append(escape_char(m.group()), style=ESCAPE_STYLE)
        pos = m.end()
    if pos < len(s):
        text.append(s[pos:])
    return text
