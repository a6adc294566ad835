"""Plain-words pieces of alert reasons: protocol code names and inert quoting of packet strings.

Packet-derived text (client ids, topics) stays raw in reasons — the console renders it as plain
text, so Rich markup stays literal — but control and format characters (ANSI/OSC escapes, bidi
overrides such as U+202E, line separators) are shown escaped, and long strings are cut with an
explicit marker, so nothing is dropped silently and a reason always stays one visually honest line.
"""

from __future__ import annotations

from spear_tui.protocols.bacnet import CONFIRMED, UNCONFIRMED
from spear_tui.protocols.modbus import FUNC_NAMES
from spear_tui.text import escape_char, is_unsafe

# Prose names ("write single coil") from the decoder's table, so both always name codes alike.
MODBUS_FUNCTIONS: dict[int, str] = {code: name.lower() for code, name in FUNC_NAMES.items()}
MODBUS_EXCEPTIONS: dict[int, str] = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target failed to respond",
}
MODBUS_WRITES: tuple[int, ...] = (5, 6, 15, 16, 22, 23)

# The decoder's (tshark's) service names, capitalised as ASHRAE 135 writes them in prose ("ReadProperty",
# "Who-Is"), so reasons and the message-type lookup (`protocols/names.py`) name a service alike.
BACNET_CONFIRMED: dict[int, str] = {code: name[0].upper() + name[1:] for code, name in CONFIRMED.items()}
BACNET_UNCONFIRMED: dict[int, str] = {code: name[0].upper() + name[1:] for code, name in UNCONFIRMED.items()}
BACNET_PDU: dict[int, str] = {5: "Error", 6: "Reject", 7: "Abort"}

MAX_SHOWN = 60


def quote(text: str | None) -> str:
    """Quote a packet-derived string for a one-line reason, escaping control characters visibly."""
    if text is None:
        return "(none)"
    if text == "":
        return "'' (empty)"
    cut = ""
    if len(text) > MAX_SHOWN:
        cut = f"… (+{len(text) - MAX_SHOWN} more chars)"
        text = text[:MAX_SHOWN]
    out = []
    for ch in text:
        if is_unsafe(ch):
            out.append(escape_char(ch))
        elif ch == "\\":
            out.append("\\\\")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'" + cut


def modbus_function(code: int) -> str:
    name = MODBUS_FUNCTIONS.get(code)
    return f"{name} ({code})" if name else f"function code {code}"


def bacnet_service(code: int) -> str:
    name = BACNET_CONFIRMED.get(code)
    return f"{name} ({code})" if name else f"confirmed service {code}"


def listing(items: list[str], limit: int = 3) -> str:
    """'a, b and c' or 'a, b, c and 7 more' — counts what is not shown."""
    if not items:
        return ""
    shown = items[:limit]
    rest = len(items) - len(shown)
    if rest > 0:
        return ", ".join(shown) + f" and {rest} more"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def int_ranges(values: list[int]) -> str:
    """Compact sorted integer list: '1–5, 9, 12–14'."""
    vals = sorted(set(values))
    parts: list[str] = []
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[j] + 1:
            j += 1
        parts.append(str(vals[i]) if i == j else f"{vals[i]}–{vals[j]}")
        i = j + 1
    return listing(parts, limit=6)
