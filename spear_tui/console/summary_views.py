"""Turn a protocol summary snapshot (`SummaryUpdated.summary`, i.e. ProtocolSummary.to_json()) into
table views for the console, without depending on its exact layout.

A view is any top-level entry that is a list of row dicts (key = first field), a dict of row dicts
(key = the dict key) or a dict of scalars (e.g. message type -> count); scalars are totals shown above
the table (`*_time` epoch seconds as UTC times). So MQTT's clients/topics, Modbus's
units x function codes and BACnet's devices/services all render with no per-protocol code here.
"""

from __future__ import annotations

import time
from typing import Any

View = tuple[list[str], dict[str, tuple]]


def _columns(rows: list[dict]) -> list[str]:
    cols: list[str] = []
    for r in rows[:50]:
        for c in r:
            if c not in cols:
                cols.append(c)
    return cols


def _cell(col: str, v: Any) -> Any:
    """Epoch `*_time` cells as UTC clock times (HH:MM:SS strings still sort in time order)."""
    if col.endswith("_time") and isinstance(v, int | float) and not isinstance(v, bool):
        return time.strftime("%H:%M:%S", time.gmtime(v))
    return v


def _from_list(rows: list[dict]) -> View:
    cols = _columns(rows)
    out: dict[str, tuple] = {}
    for r in rows:
        vals = tuple(_cell(c, r.get(c)) for c in cols)
        key = str(vals[0])
        n = 2
        while key in out:  # never merge two rows silently
            key = f"{vals[0]}#{n}"
            n += 1
        out[key] = vals
    return cols, out


def _from_dict(rows: dict[str, dict]) -> View:
    cols = ["key", *_columns(list(rows.values()))]
    return cols, {str(k): (k, *(v.get(c) for c in cols[1:])) for k, v in rows.items()}


HIDDEN = {"type_codes"}  # the same counts as "types", keyed by number instead of name


def labelled_types(protocol: str, summary: dict[str, Any] | None) -> View | None:
    """The `types` view with each name next to its code ('PUBLISH (3)'), from the summary's
    `type_codes`; None when the summary has none (then `types` shows the names alone)."""
    codes = (summary or {}).get("type_codes")
    if not isinstance(codes, dict) or not codes:
        return None
    from spear_tui.protocols.names import message_type_label

    rows: dict[str, tuple] = {}
    for code, n in codes.items():
        label = message_type_label(protocol, int(code))
        rows[label] = (label, n)
    return ["types", "count"], rows


def _total(name: str, value: Any) -> Any:
    if name.endswith("_time") and isinstance(value, int | float):
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(value))
    return value


def views_from_summary(summary: dict[str, Any] | None) -> tuple[dict[str, View], dict[str, Any]]:
    """(views by name, scalar totals)."""
    views: dict[str, View] = {}
    totals: dict[str, Any] = {}
    for name, value in (summary or {}).items():
        if name in HIDDEN:
            continue
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            views[name] = _from_list(value)
        elif isinstance(value, list):
            views.setdefault(name, (["value"], {}))
        elif isinstance(value, dict) and value and all(isinstance(r, dict) for r in value.values()):
            views[name] = _from_dict(value)
        elif (
            isinstance(value, dict) and value and not any(isinstance(v, dict | list) for v in value.values())
        ):
            views[name] = ([name, "count"], {str(k): (k, v) for k, v in value.items()})
        elif isinstance(value, dict):
            nested, inner = views_from_summary(value)
            views.update({f"{name}.{k}": v for k, v in nested.items()})
            totals.update({f"{name}.{k}": v for k, v in inner.items()})
        else:
            totals[name] = _total(name, value)
    return views, totals
