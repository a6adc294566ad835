"""Rendering packet-derived strings safely.

Client ids, topics, device names and payloads come from the network, i.e. from whoever sent the
packet. They must never be parsed as Rich/Textual markup and never reach the terminal with control
characters (an ESC could rewrite the screen, an OSC 8 could plant a link, U+202E could reverse the text
that follows). `inert` turns any such string into a `rich.text.Text` with those characters replaced by
visible escapes.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls (incl. TAB/CR/LF: one-line cells), DEL, C1 controls, bidi embeddings/overrides/isolates,
# and the invisible bidi marks (LRM, RLM, ALM) that can also reorder what follows.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

ESCAPE_STYLE = "reverse"


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(value: object) -> str:
    """The plain-string form of `inert`: unsafe characters replaced by `\\xNN` / `\\uNNNN`."""
    return _UNSAFE.sub(lambda m: _escape(m.group()), "" if value is None else str(value))


def inert(value: object, style: str = "", max_len: int | None = None) -> Text:
    """A Text that shows `value` literally: no markup parsing, controls as highlighted escapes."""
    s = "" if value is None else str(value)
    if max_len is not None and len(s) > max_len:
        s = s[: max(0, max_len - 1)] + "…"
    text = Text(style=style, no_wrap=True, overflow="ellipsis")
    pos = 0
    for m in _UNSAFE.finditer(s):
        if m.start() > pos:
            text.append(s[pos : m.start()])
        text.append(_escape(m.group()), style=ESCAPE_STYLE)
        pos = m.end()
    if pos < len(s):
        text.append(s[pos:])
    return text
