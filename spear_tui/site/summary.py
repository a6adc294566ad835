"""What a learned baseline holds, in plain numbers and a few examples (for `learn` and the JSON)."""

from __future__ import annotations

from typing import Any

import polars as pl

EXAMPLES = 8


def _talkers(table: pl.DataFrame) -> list[str]:
    hosts = pl.concat([table["src"].drop_nulls(), table["dst"].drop_nulls()]).unique().sort()
    return hosts.to_list()


def _few(rows: list[list[Any]]) -> list[str]:
    """The first few rows in a stable order (known sets keep polars' arbitrary unique() order)."""

    def key(r: list[Any]) -> tuple:
        return tuple((0, v, "") if isinstance(v, int | float) else (1, 0, str(v)) for v in r)

    return [" ".join(str(v) for v in r) for r in sorted(rows, key=key)[:EXAMPLES]]


def rules_items(protocol: str, rules: Any) -> dict[str, Any]:
    """Counts and examples of the known sets of a protocol's novelty rules."""
    data = rules.to_dict()
    if protocol == "modbus":
        names = {
            "masters": "masters",
            "writers": "writers",
            "units": "polled",
            "write_tuples": "write_tuples",
        }
    elif protocol == "mqtt":
        names = {
            "clients": "clients",
            "topics": "prefixes",
            "brokers": "brokers",
            "wildcard_users": "wildcard_users",
        }
    else:
        names = {"control_services": "control"}
    return {label: {"count": len(data[key]), "examples": _few(data[key])} for label, key in names.items()}


def learned_items(protocol: str, det: Any, table: pl.DataFrame | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if table is not None:
        talkers = _talkers(table)
        out["talkers"] = {"count": len(talkers), "examples": talkers[:EXAMPLES]}
    out.update(rules_items(protocol, det.rules))
    return out


def summary_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    for protocol, s in summary.items():
        parts = [f"{s['messages']:,} messages"]
        for key, v in s.items():
            if isinstance(v, dict) and "count" in v:
                ex = ", ".join(v["examples"][:3])
                parts.append(f"{v['count']} {key.replace('_', ' ')}" + (f" ({ex})" if ex else ""))
        for view, name in (("lstm", "LSTM"), ("rhythm", "rhythm LSTM")):
            lstm = s.get(view)
            if lstm is not None:
                done = f"{name} trained on {lstm['chunks']} chunks" if lstm["trained"] else None
                parts.append(done or f"no {name}: {lstm['why']}")
        lines.append(f"{protocol}: " + "; ".join(parts))
    return lines
