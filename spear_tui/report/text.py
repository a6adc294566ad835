"""Making packet-derived text inert before it reaches a terminal, a spreadsheet or a browser.

Client ids, topics, device names and talkers come off the wire: they may carry ANSI/OSC escapes,
bidi overrides or zero-width characters. We show every such character as a visible escape instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

from spear_tui.text import escape_controls


def inert(text: object) -> str:
    """`text` with control, format (bidi, zero-width) and unassigned characters shown as `\\xNN` /
    `\\uNNNN` (see spear_tui.text). Printable text, including non-Latin scripts, is kept as is."""
    return escape_controls(text)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(text: object) -> str:
    """`inert` text for a CSV cell; a leading formula character gets a `'` so spreadsheets show it as
    text (OWASP CSV injection advice) instead of evaluating `=HYPERLINK(...)` from a topic name."""
    s = inert(text)
    return "'" + s if s.startswith(_FORMULA) else s


def utc(epoch: float) -> str:
    """Epoch seconds as an ISO UTC time with milliseconds (reports are read across time zones)."""
    if epoch != epoch:
        return ""
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
