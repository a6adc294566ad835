"""Why a meter day was flagged: which hours deviate, and measured against expected energy.

Why: an MSE above a threshold tells an analyst nothing to act on. The reconstruction is the model's
expectation for that day (its weekday, its calendar), so the hours where measured and expected part,
and the day's energy against the expected energy, say what happened ("08:00-17:00 below expected,
-41 % energy": a closed day; "09:00-15:00 above expected, +19 %": a working Saturday). Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOUR_SHARE = 0.25  # an hour is "deviating" when its squared error is at least this share of the worst hour's


@dataclass(frozen=True)
class DayWhy:
    hours: list[tuple[int, int, str]]  # runs of deviating hours: (first hour, end hour, "above"|"below")
    measured_energy: float  # sum over the day of value x sample length in hours (unit x h)
    expected_energy: float  # the same over the reconstruction
    energy_unit: str  # e.g. "kWh" for a kW measurement, "unit*h" when unknown
    holiday: str | None = None  # the calendar's name for the day, when a holiday calendar was given

    @property
    def change(self) -> float | None:
        """Relative energy change, measured vs expected (None when nothing was expected)."""
        if not np.isfinite(self.expected_energy) or abs(self.expected_energy) < 1e-12:
            return None
        return (self.measured_energy - self.expected_energy) / abs(self.expected_energy)

    def to_dict(self) -> dict:
        c = self.change
        return {
            "hours": [{"from": f"{a:02d}:00", "to": f"{b:02d}:00", "direction": d} for a, b, d in self.hours],
            "measured_energy": round(self.measured_energy, 3),
            "expected_energy": round(self.expected_energy, 3),
            "energy_unit": self.energy_unit,
            "energy_change": None if c is None else round(c, 4),
            "holiday": self.holiday,
        }


def why_text(why: dict) -> str:
    """One line from `DayWhy.to_dict()`: '08:00-17:00 below expected; energy 21.3 vs expected 36.1
    kWh (-41 %)'."""
    runs = ", ".join(f"{h['from']}-{h['to']} {h['direction']} expected" for h in why["hours"]) or "whole day"
    change = why["energy_change"]
    pct = "" if change is None else f" ({change * 100:+.0f} %)"
    hol = f"; holiday: {why['holiday']}" if why["holiday"] else ""
    return (f"{runs}; energy {_num(why['measured_energy'])} vs expected {_num(why['expected_energy'])} "
            f"{why['energy_unit']}{pct}{hol}")


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def energy_unit(unit: str | None) -> str:
    """Unit of value x hours: W -> Wh, kW -> kWh; anything else is spelled out."""
    if unit and unit.strip().lower() in ("w", "kw", "mw", "va", "kva", "var", "kvar"):
        return f"{unit.strip()}h"
    return f"{unit.strip()}*h" if unit and unit.strip() else "unit*h"


def explain_day(
    measured: np.ndarray,
    expected: np.ndarray,
    *,
    unit: str | None = None,
    holiday: str | None = None,
) -> DayWhy:
    """measured/expected: (samples_per_day,) in the meter's units (expected = reconstruction)."""
    m = np.asarray(measured, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    spd = m.size
    step_h = 24.0 / spd
    hours = _deviating_hours(m, e)
    energy = float(np.nansum(m) * step_h), float(np.nansum(e) * step_h)
    return DayWhy(hours, *energy, energy_unit(unit), holiday)


def _deviating_hours(m: np.ndarray, e: np.ndarray) -> list[tuple[int, int, str]]:
    """Runs of consecutive hours whose squared error is >= HOUR_SHARE of the worst hour's, each
    with its direction (sign of the hour's summed difference)."""
    spd = m.size
    if spd < 24 or spd % 24:
        per = np.array_split(np.arange(spd), 24)
    else:
        per = list(np.arange(spd).reshape(24, spd // 24))
    diff = np.nan_to_num(m - e)
    se = np.array([float(np.sum(diff[i] ** 2)) for i in per])
    net = np.array([float(np.sum(diff[i])) for i in per])
    if not se.max() > 0:
        return []
    hot = se >= HOUR_SHARE * se.max()
    out: list[tuple[int, int, str]] = []
    h = 0
    while h < 24:
        if not hot[h]:
            h += 1
            continue
        sign = net[h] >= 0
        end = h
        while end + 1 < 24 and hot[end + 1] and (net[end + 1] >= 0) == sign:
            end += 1
        out.append((h, end + 1, "above" if sign else "below"))
        h = end + 1
    return out
