"""Making packet-derived text inert before it reaches a terminal, a spreadsheet or a browser.

Client ids, topics, device names and talkers come off the wire: they may carry ANSI/OSC escapes,
bidi overrides or zero-width characters. We show every such character as a visible escape instead.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import UTC, datetime


@functools.lru_cache(maxsize=4096)
def _is_unsafe(ch: str) -> bool:
    """Control, format (bidi, zero-width), separators, private-use, surrogate and unassigned."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn")


_CANDIDATES = re.compile(r"[^\x20-\x7e]")  # anything but printable ASCII gets a closer look


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    if not _is_unsafe(ch):
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def inert(text: object) -> str:
    """`text` with control, format (bidi, zero-width) and unassigned characters shown as `\\xNN` /
    `\\uNNNN`. Printable text, including non-Latin scripts, is kept as is."""
    return _CANDIDATES.sub(_escape, str(text))


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
