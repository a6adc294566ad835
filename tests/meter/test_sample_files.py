"""The bundled sample meter files: shape, schema, and labels that line up with what is in the data."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from spear_tui.meter.days import MeterDays, to_days
from spear_tui.meter.files import read_meter_file

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_captures" / "meter"
CSV = SAMPLE / "office_2025.csv"
PARQUET = SAMPLE / "office_2025.parquet"
LABELS = json.loads((SAMPLE / "office_2025.labels.json").read_text())
TZ = "Europe/Athens"
ALL = [
    "active_power",
    "reactive_power",
    "apparent_power",
    "voltage_l1",
    "voltage_l2",
    "voltage_l3",
    "current_l1",
    "current_l2",
    "current_l3",
]


@pytest.fixture(scope="module")
def days() -> MeterDays:
    return to_days(read_meter_file(CSV, tz=TZ))


def incidents(kind: str) -> list[dict]:
    return [i for i in LABELS["incidents"] if i["kind"] == kind]


def day_index(days: MeterDays, iso: str) -> int:
    return days.dates.index(dt.date.fromisoformat(iso))


def test_a_full_year_of_96_sample_days(days: MeterDays) -> None:
    assert days.values.shape == (365, 96, 9)
    assert days.measurements == ALL
    assert days.units["active_power"] == "kW" and days.units["current_l1"] == "A"
    assert days.dates[0] == dt.date(2025, 1, 1) and days.dates[-1] == dt.date(2025, 12, 31)
    assert not np.isnan(days.values).any()
    outage = day_index(days, incidents("outage")[0]["date"])
    assert np.flatnonzero(~days.complete).tolist() == [outage]


def test_csv_and_parquet_hold_the_same_rows() -> None:
    a = read_meter_file(CSV)
    b = read_meter_file(PARQUET)
    assert a.measurements == b.measurements == ALL
    assert a.units == b.units
    assert a.bad_rows == b.bad_rows == 0 and a.duplicates == 0
    assert a.frame.equals(b.frame)


def test_size_budget() -> None:
    assert CSV.stat().st_size + PARQUET.stat().st_size <= 4_000_000


def test_labels_fall_inside_the_data_and_on_their_dates(days: MeterDays) -> None:
    frame = read_meter_file(CSV).frame
    first, last = (t.timestamp() for t in (frame["time"].min(), frame["time"].max()))
    zone = ZoneInfo(TZ)
    assert LABELS["file"] == CSV.name and LABELS["timezone"] == TZ
    assert {i["kind"] for i in LABELS["incidents"]} >= {
        "holiday",
        "night_load",
        "stuck",
        "outage",
        "reactive_spike",
    }
    for inc in LABELS["incidents"]:
        assert first <= inc["start"] < inc["end"] <= last + 900, inc
        end_local = dt.datetime.fromtimestamp(inc["end"] - 1, zone).date()
        assert end_local.isoformat() == inc["date"], inc  # the labelled day holds the incident's end


def test_weekday_holidays_look_like_sundays(days: MeterDays) -> None:
    p = days.measurement("active_power")
    weekday = np.array([d.weekday() for d in days.dates])
    holidays = {day_index(days, i["date"]) for i in incidents("holiday")}
    assert len(holidays) == 12 and all(weekday[i] < 5 for i in holidays)
    workdays = [
        i for i in range(len(days.dates)) if weekday[i] < 5 and i not in holidays and days.complete[i]
    ]
    sundays = [i for i in range(len(days.dates)) if weekday[i] == 6]
    office_hours = slice(40, 64)  # 10:00-16:00
    work_level = np.median(p[workdays, office_hours].mean(axis=1))
    sunday_max = p[sundays, office_hours].mean(axis=1).max()
    for i in holidays:
        level = p[i, office_hours].mean()
        assert level <= sunday_max * 1.2 < work_level * 0.6, (days.dates[i], level)


def test_stuck_day_has_zero_variance_and_no_other_day_does(days: MeterDays) -> None:
    stuck = day_index(days, incidents("stuck")[0]["date"])
    std = days.values.std(axis=1)  # (days, measurements)
    assert (std[stuck] < 1e-3).all()
    others = np.delete(std, stuck, axis=0)
    assert (others.max(axis=1) > 0.5).all()


def test_outage_rows_are_missing_and_the_short_gap_is_interpolated(days: MeterDays) -> None:
    frame = read_meter_file(CSV).frame
    present = {t.timestamp() for t in frame["time"].to_list()}
    for kind, slots in (("outage", 12), ("gap", 3)):
        inc = incidents(kind)[0]
        expected = np.arange(inc["start"], inc["end"], 900)
        assert len(expected) == slots
        assert not present.intersection(expected.tolist())
        assert inc["start"] - 900 in present and inc["end"] in present
        i = day_index(days, inc["date"])
        assert days.gaps[i] == slots
    assert not days.complete[day_index(days, incidents("outage")[0]["date"])]
    assert days.complete[day_index(days, incidents("gap")[0]["date"])]


def test_reactive_spike_and_night_load_are_where_the_labels_say(days: MeterDays) -> None:
    q = days.measurement("reactive_power")
    p = days.measurement("active_power")
    spike = incidents("reactive_spike")[0]
    i = day_index(days, spike["date"])
    same_weekday = [j for j in range(i % 7, len(days.dates), 7) if j != i and days.complete[j]]
    window = slice(36, 48)  # 09:00-12:00 local
    normal_q = np.median(q[same_weekday, window])
    assert q[i, window].mean() > 3 * normal_q
    assert abs(p[i, window].mean() - np.median(p[same_weekday, window])) < 0.5 * np.median(
        p[same_weekday, window]
    )
    night = incidents("night_load")[0]
    k = day_index(days, night["date"])
    small_hours = slice(4, 24)  # 01:00-06:00
    other_nights = np.delete(p[:, small_hours].mean(axis=1), k)
    assert p[k, small_hours].mean() > 2 * other_nights.max()


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("meter_generate", SAMPLE / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame, labels = module.generate()
    module.write(frame, labels, tmp_path)
    for name in (CSV.name, "office_2025.labels.json"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
    assert read_meter_file(tmp_path / PARQUET.name).frame.equals(read_meter_file(PARQUET).frame)


def test_dst_days_have_92_and_100_rows_and_cut_to_96(days: MeterDays) -> None:
    local = read_meter_file(CSV).frame["time"].dt.convert_time_zone(TZ).dt.date()
    counts = local.value_counts().sort("time")
    per_day = dict(zip(counts["time"].to_list(), counts["count"].to_list(), strict=True))
    assert per_day[dt.date(2025, 3, 30)] == 92 and per_day[dt.date(2025, 10, 26)] == 100
    for iso in ("2025-03-30", "2025-10-26"):
        assert days.complete[day_index(days, iso)] and days.gaps[day_index(days, iso)] == 0
