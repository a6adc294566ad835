"""Day windows: resampling, DST days, gaps; expected values computed independently with numpy/csv."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from spear_tui.errors import UserError
from spear_tui.meter.days import DayAccumulator, to_days
from spear_tui.meter.files import MeterSeries, read_meter_file

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
UTC = dt.UTC


def series(times: list[dt.datetime], values: list[float] | np.ndarray, tz: str | None = None) -> MeterSeries:
    frame = pl.DataFrame(
        {
            "time": pl.Series(times).dt.cast_time_unit("us").dt.convert_time_zone("UTC"),
            "active_power": np.asarray(values, dtype=np.float64),
        }
    )
    return MeterSeries(frame, ["active_power"], {"active_power": "kW"}, 0, "test", tz=tz)


def every(start: dt.datetime, minutes: int, n: int) -> list[dt.datetime]:
    return [start + dt.timedelta(minutes=minutes * i) for i in range(n)]


def test_five_minute_data_is_averaged_into_fifteen_minute_slots() -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(10, 2, 2 * 288)
    d = to_days(series(every(dt.datetime(2025, 1, 1, tzinfo=UTC), 5, 2 * 288), raw))
    assert d.dates == [dt.date(2025, 1, 1), dt.date(2025, 1, 2)]
    assert d.values.shape == (2, 96, 1) and d.values.dtype == np.float32
    expected = raw.reshape(2, 96, 3).mean(axis=2)
    np.testing.assert_allclose(d.values[:, :, 0], expected, rtol=1e-6)
    assert d.complete.all() and not d.filled.any()


def test_spring_dst_day_has_96_local_slots_with_the_missing_hour_interpolated() -> None:
    # Athens, 2025-03-30: 03:00 local jumps to 04:00, so the local day has 92 quarter-hours.
    start = dt.datetime(2025, 3, 29, 22, 0, tzinfo=UTC)  # local midnight (UTC+2)
    times = every(start, 15, 92)
    vals = np.arange(92, dtype=float)
    d = to_days(series(times, vals), tz="Europe/Athens")
    assert d.dates == [dt.date(2025, 3, 30)]
    day = d.values[0, :, 0]
    # slots 0..11 are 00:00..02:45 (values 0..11); 12..15 (03:00..03:45) do not exist; 04:00 -> value 12
    np.testing.assert_array_equal(day[:12], np.arange(12))
    np.testing.assert_array_equal(day[16:], np.arange(12, 92))
    np.testing.assert_allclose(day[12:16], 11 + np.arange(1, 5) / 5)  # linear from 11 (02:45) to 12 (04:00)
    assert d.complete[0] and d.gaps[0] == 0 and d.filled[0].sum() == 4


def test_autumn_dst_day_averages_the_repeated_hour() -> None:
    # Athens, 2025-10-26: 04:00 local (UTC+3) falls back to 03:00 (UTC+2): 100 quarter-hours.
    start = dt.datetime(2025, 10, 25, 21, 0, tzinfo=UTC)  # local midnight (UTC+3)
    vals = np.arange(100, dtype=float)
    d = to_days(series(every(start, 15, 100), vals), tz="Europe/Athens")
    day = d.values[0, :, 0]
    # 03:00..03:45 local happens twice: first at samples 12..15, again at 16..19
    np.testing.assert_array_equal(day[:12], np.arange(12))
    np.testing.assert_allclose(day[12:16], (np.arange(12, 16) + np.arange(16, 20)) / 2)
    np.testing.assert_array_equal(day[16:], np.arange(20, 100))
    assert d.complete[0] and not d.filled[0].any()


def test_short_gap_interpolated_long_gap_marks_days_incomplete() -> None:
    times = every(dt.datetime(2025, 5, 1, tzinfo=UTC), 15, 4 * 96)
    vals = np.arange(4 * 96, dtype=float)
    keep = np.ones(4 * 96, bool)
    keep[40:44] = False  # day 0: 1 hour missing -> interpolated (max_gap is 1 hour)
    keep[96 + 90 : 2 * 96 + 5] = False  # 2.75 h across midnight: days 1 and 2 incomplete
    d = to_days(series([t for t, k in zip(times, keep, strict=True) if k], vals[keep]))
    np.testing.assert_allclose(d.values[0, 40:44, 0], np.arange(40, 44))  # linear == the true ramp
    assert d.complete.tolist() == [True, False, False, True]
    assert d.gaps.tolist() == [4, 6, 5, 0]
    d2 = to_days(
        series([t for t, k in zip(times, keep, strict=True) if k], vals[keep]),
        max_gap=dt.timedelta(minutes=45),
    )
    assert d2.complete.tolist() == [False, False, False, True]


def test_nyc_taxi_cuts_into_48_sample_days() -> None:
    path = REAL / "nab_nyc_taxi.csv"
    with path.open() as fh:
        raw = np.array([float(r["value"]) for r in csv.DictReader(fh)])
    d = to_days(read_meter_file(path), samples_per_day=48)
    assert d.values.shape == (215, 48, 1)
    assert d.dates[0] == dt.date(2014, 7, 1) and d.dates[-1] == dt.date(2015, 1, 31)
    assert d.complete.all()
    np.testing.assert_array_equal(d.values[:, :, 0].ravel(), raw.astype(np.float32))


def test_bad_options() -> None:
    s = series(every(dt.datetime(2025, 1, 1, tzinfo=UTC), 15, 96), np.zeros(96))
    with pytest.raises(UserError, match="samples per day"):
        to_days(s, samples_per_day=7)
    with pytest.raises(UserError, match="time zone"):
        to_days(s, tz="Nowhere/Land")
    with pytest.raises(UserError, match="no measurement"):
        to_days(s).measurement("voltage_l1")


def test_accumulator_matches_to_days_on_live_samples() -> None:
    rng = np.random.default_rng(1)
    start = dt.datetime(2025, 3, 28, 22, 0, tzinfo=UTC)  # local midnight in Athens; spans the DST day
    times = every(start, 5, 4 * 288)
    vals = 10 + np.sin(np.arange(len(times)) / 20) + rng.normal(0, 0.1, len(times))
    keep = np.ones(len(times), bool)
    keep[300:306] = False  # 30-minute gap on day 1: interpolated in both paths
    times = [t for t, k in zip(times, keep, strict=True) if k]
    vals = vals[keep]
    batch = to_days(series(times, vals), tz="Europe/Athens")
    acc = DayAccumulator(["active_power"], tz="Europe/Athens")
    live = []
    for t, v in zip(times, vals, strict=True):
        live += acc.add(t, {"active_power": float(v)})
    assert [day.date for day in live] == batch.dates[:-1]  # the last day completes on flush
    live += acc.flush()
    assert [day.date for day in live] == batch.dates
    for i, day in enumerate(live):
        np.testing.assert_allclose(day.values, batch.values[i], rtol=1e-6)
        assert day.complete == bool(batch.complete[i])
        assert day.gaps == int(batch.gaps[i])
    assert acc.add(start, {"active_power": 1.0}) == [] and acc.late == 1


def test_accumulator_marks_a_long_live_gap_and_skipped_days() -> None:
    acc = DayAccumulator(["p"], samples_per_day=24)
    t0 = dt.datetime(2025, 1, 1, tzinfo=UTC)
    done = []
    for h in range(24):
        if not 10 <= h < 14:  # 4 hours missing > 1 hour
            done += acc.add(t0 + dt.timedelta(hours=h), {"p": float(h)})
    done += acc.add(t0 + dt.timedelta(days=3), {"p": 1.0})  # days 2 and 3 had no samples at all
    assert [d.date for d in done] == [dt.date(2025, 1, 1), dt.date(2025, 1, 2), dt.date(2025, 1, 3)]
    assert [d.complete for d in done] == [False, False, False]
    np.testing.assert_allclose(done[0].values[10:14, 0], [10, 11, 12, 13])  # interpolated 9 -> 14
    assert done[1].gaps == 24 and done[1].filled.all()
    first = acc.current()
    assert first[0, 0] == 1.0 and np.isnan(first[1:]).all()


def test_a_series_spanning_centuries_is_refused() -> None:
    s = series([dt.datetime(1900, 1, 1, tzinfo=UTC), dt.datetime(2090, 1, 1, tzinfo=UTC)], [1.0, 2.0])
    with pytest.raises(UserError, match="spans"):
        to_days(s)


def test_naive_local_file_across_autumn_dst(tmp_path: Path) -> None:
    # A logger writing local wall-clock time without offsets repeats 03:00..03:45 on 2025-10-26 (Athens).
    # The second copy maps to the same instant (earlier one taken), is dropped as a duplicate, and the
    # local day still has 96 filled slots.
    lines = ["time;P"]
    t = dt.datetime(2025, 10, 26)
    values = []
    for i in range(100):
        wall = t + dt.timedelta(minutes=15 * (i if i < 16 else i - 4))
        lines.append(f"{wall:%Y-%m-%d %H:%M};{i}")
        values.append(i)
    path = tmp_path / "naive.csv"
    path.write_text("\n".join(lines) + "\n")
    s = read_meter_file(path, tz="Europe/Athens")
    assert s.frame.height == 96 and s.duplicates == 4 and s.bad_rows == 0
    d = to_days(s)
    assert d.dates == [dt.date(2025, 10, 26)] and d.complete.all() and d.gaps[0] == 0
    expected = np.array(values[:16] + values[20:], dtype=np.float32)  # first copy of the repeated hour kept
    np.testing.assert_array_equal(d.values[0, :, 0], expected)
