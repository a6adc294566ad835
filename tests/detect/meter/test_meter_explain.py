"""Why a meter day was flagged: deviating hours and energy, on a real day of the Keogh year."""

from pathlib import Path

import numpy as np
import pytest

from spear_tui.detect.meter.meter_explain import energy_unit, explain_day, why_text

DATA = Path(__file__).resolve().parents[2] / "data" / "real" / "meter" / "keogh_dutch_power_1997.txt"


@pytest.fixture(scope="module")
def keogh():
    if not DATA.exists():
        pytest.skip("Keogh power data missing")
    return np.loadtxt(DATA, dtype=np.float64).reshape(365, 96)


def test_a_real_holiday_against_the_same_weekday_a_week_earlier(keogh):
    """Queen's Day 1997 (Wednesday 30 April) measured against Wednesday 23 April as the expectation:
    the working hours are below expected and the day used much less energy."""
    holiday, normal = keogh[119], keogh[112]
    why = explain_day(holiday, normal, unit="kW")
    assert why.hours and all(d == "below" for _, _, d in why.hours)
    first, last = why.hours[0][0], why.hours[-1][1]
    assert 7 <= first <= 10 and 15 <= last <= 18
    assert why.measured_energy == pytest.approx(holiday.sum() / 4)
    assert why.expected_energy == pytest.approx(normal.sum() / 4)
    assert why.change < -0.1 and why.energy_unit == "kWh"
    line = why_text(why.to_dict())
    assert "below expected" in line and "kWh" in line and "%" in line


def test_direction_runs_and_no_deviation():
    expected = np.full(96, 100.0)
    day = expected.copy()
    day[36:44] += 50  # 09:00-11:00 above
    day[60:68] -= 50  # 15:00-17:00 below
    why = explain_day(day, expected)
    assert why.hours == [(9, 11, "above"), (15, 17, "below")]
    assert why.change == pytest.approx(0.0) and why.energy_unit == "unit*h"
    flat = explain_day(expected, expected, holiday="Christmas Day")
    assert flat.hours == [] and "whole day" in why_text(flat.to_dict())
    assert flat.to_dict()["holiday"] == "Christmas Day"


def test_energy_units_and_short_days():
    assert energy_unit("W") == "Wh" and energy_unit("kVA") == "kVAh" and energy_unit("m3/h") == "m3/h*h"
    assert energy_unit(None) == "unit*h"
    why = explain_day(np.r_[np.ones(24), np.full(24, 3.0)], np.ones(48))  # 48 samples a day
    assert why.hours == [(12, 24, "above")]
    assert why.measured_energy == pytest.approx(0.5 * (24 + 72))
