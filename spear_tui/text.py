"""Packet-derived text made inert: the one definition every sink uses (console, scan, reports, reasons).

Client ids, topics, device names and payloads come from whoever sent the packet. Control and format
characters (ANSI/OSC escapes, bidi overrides such as U+202E, zero-width marks, line separators) are
shown as visible `\\xNN` / `\\uNNNN` escapes; printable text in any script is kept as it is.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Control, format (bidi, zero-width), line/paragraph separators, private use, surrogates, unassigned.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})

# Anything but printable ASCII gets a closer look; printable ASCII is always safe.
CANDIDATES = re.compile(r"[^\x20-\x7e]")


@functools.lru_cache(maxsize=4096)
def is_unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in UNSAFE_CATEGORIES


def escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _sub(m: re.Match[str]) -> str:
    ch = m.group(0)
    return escape_char(ch) if is_unsafe(ch) else ch


def escape_controls(value: object) -> str:
    """`value` as a string with every unsafe character replaced by its visible escape."""
    return CANDIDATES.sub(_sub, "" if value is None else str(value))
