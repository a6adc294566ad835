"""Column headers -> canonical measurement names and units.

Meter exports name the same quantity a dozen ways (`P [kW]`, `power_w`, `Wirkleistung (kW)`, `U L1`).
Downstream code (day windows, models, the console) only sees canonical names such as `active_power`,
`voltage_l1`, and powers always in kW/kvar/kVA, so a file in watts and one in kilowatts score alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# unit token (lower case, as written in a header) -> (canonical unit, factor to multiply values by)
_UNITS: dict[str, tuple[str, float]] = {
    "w": ("kW", 1e-3),
    "kw": ("kW", 1.0),
    "mw": ("kW", 1e3),
    "var": ("kvar", 1e-3),
    "kvar": ("kvar", 1.0),
    "va": ("kVA", 1e-3),
    "kva": ("kVA", 1.0),
    "v": ("V", 1.0),
    "kv": ("V", 1e3),
    "a": ("A", 1.0),
    "ma": ("A", 1e-3),
    "ka": ("A", 1e3),
    "hz": ("Hz", 1.0),
    "wh": ("kWh", 1e-3),
    "kwh": ("kWh", 1.0),
    "mwh": ("kWh", 1e3),
    "varh": ("kvarh", 1e-3),
    "kvarh": ("kvarh", 1.0),
    "%": ("%", 1.0),
}

# Base name (after the unit is removed, lower case, non-alphanumerics squeezed to "_") -> canonical name.
_ALIASES: dict[str, str] = {}


def _alias(canonical: str, *names: str) -> None:
    for name in (canonical, *names):
        _ALIASES[name] = canonical


_alias(
    "active_power",
    "p",
    "p_total",
    "power",
    "active",
    "activepower",
    "active_power_total",
    "total_active_power",
    "p_tot",
    "wirkleistung",
    "real_power",
    "load",
    "demand",
    "power_active",
)
_alias(
    "reactive_power",
    "q",
    "q_total",
    "reactive",
    "reactivepower",
    "total_reactive_power",
    "blindleistung",
    "reactive_power_total",
    "power_reactive",
)
_alias(
    "apparent_power",
    "s",
    "s_total",
    "apparent",
    "apparentpower",
    "total_apparent_power",
    "scheinleistung",
    "apparent_power_total",
    "power_apparent",
)
_alias("power_factor", "pf", "cos_phi", "cosphi", "powerfactor")
_alias("frequency", "f", "freq", "hz")
_alias("active_energy", "energy", "e", "active_energy_import", "import_energy", "energy_import", "kwh")
for _n in (1, 2, 3):
    _alias(
        f"voltage_l{_n}",
        f"u{_n}",
        f"v{_n}",
        f"u_l{_n}",
        f"v_l{_n}",
        f"ul{_n}",
        f"vl{_n}",
        f"voltage{_n}",
        f"voltage_{_n}",
        f"voltage_phase{_n}",
        f"voltage_phase_{_n}",
        f"l{_n}_voltage",
        f"spannung_l{_n}",
    )
    _alias(
        f"current_l{_n}",
        f"i{_n}",
        f"i_l{_n}",
        f"il{_n}",
        f"current{_n}",
        f"current_{_n}",
        f"current_phase{_n}",
        f"current_phase_{_n}",
        f"l{_n}_current",
        f"strom_l{_n}",
    )
    _alias(
        f"active_power_l{_n}",
        f"p{_n}",
        f"p_l{_n}",
        f"pl{_n}",
        f"power_l{_n}",
        f"active_power_{_n}",
        f"l{_n}_power",
        f"l{_n}_active_power",
    )
    _alias(
        f"reactive_power_l{_n}",
        f"q{_n}",
        f"q_l{_n}",
        f"ql{_n}",
        f"reactive_power_{_n}",
        f"l{_n}_reactive_power",
    )
    _alias(
        f"apparent_power_l{_n}",
        f"s{_n}",
        f"s_l{_n}",
        f"sl{_n}",
        f"apparent_power_{_n}",
        f"l{_n}_apparent_power",
    )

# Unit a canonical quantity has when the header does not say (only where a meter file would be unambiguous).
_DEFAULT_UNITS = {"voltage": "V", "current": "A", "frequency": "Hz", "power_factor": ""}

# Canonical unit -> the quantity a header consisting of just that unit measures.
_UNIT_ONLY = {"kW": "active_power", "kvar": "reactive_power", "kVA": "apparent_power", "kWh": "active_energy"}

_BRACKET = re.compile(r"[\[(]\s*([^\])]*?)\s*[\])]")
_IN_UNIT = re.compile(r"\s+in\s+(\S+)\s*$", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^0-9a-z%]+")


@dataclass(frozen=True, slots=True)
class ColumnName:
    """How one header maps onto a measurement."""

    raw: str
    name: str  # canonical (or sanitised) measurement name
    unit: str | None  # canonical unit, None when unknown
    factor: float  # multiply raw values by this to get `unit`


def _sanitise(text: str) -> str:
    return _NON_ALNUM.sub("_", text.lower()).strip("_")


def _unit_of(token: str) -> tuple[str, float] | None:
    return _UNITS.get(token.strip().lower().replace(" ", ""))


def parse_header(raw: str) -> ColumnName:
    """Split a header into base name and unit: `P [kW]`, `P (W)`, `power in kW`, `power_w`, `voltage_l1_v`."""
    text = raw.strip().lstrip("\ufeff")
    unit: tuple[str, float] | None = None
    match = _BRACKET.search(text)
    if match and (found := _unit_of(match.group(1))):
        unit = found
        text = (text[: match.start()] + " " + text[match.end() :]).strip()
    elif match_in := _IN_UNIT.search(text):
        if found := _unit_of(match_in.group(1)):
            unit = found
            text = text[: match_in.start()].strip()
    base = _sanitise(text)
    if unit is None and base not in _ALIASES and "_" in base:
        stem, _, suffix = base.rpartition("_")
        if (found := _unit_of(suffix)) and stem:
            unit, base = found, stem
    if unit is None and base not in _ALIASES and (found := _unit_of(base)) and found[0] in _UNIT_ONLY:
        unit, base = found, _UNIT_ONLY[found[0]]  # a header that is only a unit: "kW", "W", "kvar"
    name = _ALIASES.get(base, base) or "value"
    if unit is None:
        for prefix, default in _DEFAULT_UNITS.items():
            if name.startswith(prefix):
                unit = (default, 1.0)
                break
    if unit is not None and unit[0] == "":
        return ColumnName(raw, name, None, 1.0)
    return ColumnName(raw, name, unit[0] if unit else None, unit[1] if unit else 1.0)


def canonical_names(headers: list[str]) -> list[ColumnName]:
    """Parse every header; a canonical name used twice gets `_2`, `_3` so no column is silently lost."""
    out: list[ColumnName] = []
    seen: dict[str, int] = {"time": 1}  # "time" is the timestamp column of every MeterSeries
    for raw in headers:
        col = parse_header(raw)
        count = seen.get(col.name, 0) + 1
        seen[col.name] = count
        if count > 1:
            col = ColumnName(col.raw, f"{col.name}_{count}", col.unit, col.factor)
        out.append(col)
    return out
