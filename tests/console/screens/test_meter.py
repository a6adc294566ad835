"""Meter screen on real days (NAB nyc_taxi, 48 samples a day): days table, day plot, histogram, slider.

The "reconstruction" here is the mean weekday profile: a simple, independent stand-in for the seq2seq
output, so the MSEs the test expects are computed here with numpy, not taken from the console.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from textual.widgets import DataTable

from spear_tui.console.app import SpearApp
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.day_plot import DayPlot, braille_masks
from spear_tui.console.widgets.mse_histogram import MseHistogram
from spear_tui.console.widgets.threshold_slider import ThresholdSlider
from spear_tui.events import DayScored

from ..harness import FixedClock, ScriptedEngine, screen_text, settle

CSV = Path(__file__).parents[2] / "data" / "real" / "nab_nyc_taxi.csv"


def real_days(n: int = 40) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    df = pl.read_csv(CSV).with_columns(pl.col("timestamp").str.to_datetime())
    df = df.with_columns(pl.col("timestamp").dt.date().alias("date"))
    days = (
        df.group_by("date", maintain_order=True).agg(pl.col("value")).filter(pl.col("value").list.len() == 48)
    )
    days = days.head(n)
    x = np.array(days["value"].to_list(), dtype=np.float64) / 30_000.0
    recon = np.tile(x.mean(axis=0), (len(x), 1))
    mse = ((x - recon) ** 2).mean(axis=1)
    return [str(d) for d in days["date"]], x, recon, mse


def _meter_app(settings: Settings, dates, x, recon, mse, thr: float):
    """A meter console scripted with the real days' scores, flagged above `thr`."""
    events = [
        DayScored("taxi", d, float(m), bool(m > thr), True, thr) for d, m in zip(dates, mse, strict=True)
    ]
    index = {d: i for i, d in enumerate(dates)}
    eng = ScriptedEngine([events], day_series=lambda meas, date: (x[index[date]], recon[index[date]]))
    app = SpearApp(lambda: eng, source="nyc_taxi.csv", kind="meter", settings=settings, clock=FixedClock())
    return eng, app


async def test_meter_days_plot_histogram_and_slider(tmp_path: Path, settings: Settings) -> None:
    dates, x, recon, mse = real_days()
    thr = float(np.quantile(mse, 0.9))
    eng, app = _meter_app(settings, dates, x, recon, mse, thr)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, eng)
        assert app.current_mode == "meter"
        table = app.screen.query_one("#days", DataTable)
        assert table.row_count == len(dates)
        flagged_rows = sum(table.get_row_at(i)[2].plain == "FLAG" for i in range(table.row_count))
        assert flagged_rows == int((mse > thr).sum())
        slider = app.screen.query_one(ThresholdSlider)
        assert abs(slider.value - thr) <= slider.step / 2 + 1e-12
        # the plot shows the selected (first) day once the worker fetched it
        plot = app.screen.query_one(DayPlot)
        for _ in range(100):
            if plot.measured is not None:
                break
            await pilot.pause(0.05)
        assert np.array_equal(plot.measured, x[0])
        assert f"taxi {dates[0]}" in await screen_text(app, pilot)
        # moving the slider re-flags the stored days instantly
        slider.focus()
        for key in ("shift+left", "shift+left", "left"):
            await pilot.press(key)
            await pilot.pause()
            want = int((mse > slider.value).sum())
            assert slider.flagged == want
            assert sum(table.get_row_at(i)[2].plain == "FLAG" for i in range(table.row_count)) == want
        hist = app.screen.query_one(MseHistogram)
        assert hist.threshold == slider.value
        assert f"above {int((mse > slider.value).sum())}" in await screen_text(app, pilot)
        # selecting another day plots it
        table.focus()
        await pilot.press("down", "down")
        for _ in range(100):
            if plot.measured is not None and np.array_equal(plot.measured, x[2]):
                break
            await pilot.pause(0.05)
        assert np.array_equal(plot.measured, x[2])
        saved = slider.value
    assert Settings().get("meter/seq2seq/taxi") == saved


async def test_flagged_day_says_why(settings: Settings) -> None:
    """A flagged day's plot carries one line saying why (hours off the expectation, energy); an
    unflagged day's does not."""
    dates, x, recon, mse = real_days(10)
    thr = float(np.median(mse))
    first_flagged = bool(mse[0] > thr)
    other = next(i for i in range(1, len(mse)) if bool(mse[i] > thr) != first_flagged)
    eng, app = _meter_app(settings, dates, x, recon, mse, thr)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, eng)
        plot = app.screen.query_one(DayPlot)
        table = app.screen.query_one("#days", DataTable)
        for row in (0, other):
            if row:
                table.focus()
                await pilot.press(*["down"] * other)
            for _ in range(100):
                if plot.measured is not None and np.array_equal(plot.measured, x[row]):
                    break
                await pilot.pause(0.05)
            assert np.array_equal(plot.measured, x[row])
            if mse[row] > thr:
                assert plot.why.startswith("why: ") and "expected" in plot.why
                assert "why: " in await screen_text(app, pilot)
            else:
                assert plot.why == ""


def test_braille_line_touches_every_column() -> None:
    m = braille_masks(np.linspace(0, 1, 96), width=20, height=4, lo=0.0, hi=1.0)
    assert (m != 0).any(axis=0).all()
    assert m[-1, 0] != 0 and m[0, -1] != 0  # rising line: bottom-left to top-right


async def test_incomplete_day_with_nan_mse(settings: Settings) -> None:
    """A day with gaps has no MSE (NaN): shown as '—', never flagged, and the slider range stays finite."""
    events = [
        DayScored("p", "2024-01-01", float("nan"), False, False, 0.5),
        DayScored("p", "2024-01-02", 0.2, False, True, 0.5),
        DayScored("p", "2024-01-03", 0.9, True, True, 0.5),
    ]
    eng = ScriptedEngine([events], day_series=lambda m, d: None)
    app = SpearApp(lambda: eng, source="m.csv", kind="meter", settings=settings, clock=FixedClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        slider = app.screen.query_one(ThresholdSlider)
        assert np.isfinite(slider.maximum) and slider.maximum > 0.9
        table = app.screen.query_one("#days", DataTable)
        assert table.get_row_at(0)[1].plain == "—" and table.get_row_at(0)[3].plain == "gaps"
        slider.focus()
        await pilot.press("home")
        await pilot.pause()
        assert slider.flagged == 2  # threshold 0: both scored days, not the NaN one
        assert "day not available" in await screen_text(app, pilot)


async def test_m_switches_measurement(settings: Settings) -> None:
    events = [
        DayScored("active_power", "2024-01-01", 0.1, False, True, 0.5),
        DayScored("reactive_power", "2024-01-01", 0.7, True, True, 0.5),
        DayScored("reactive_power", "2024-01-02", 0.2, False, True, 0.5),
    ]
    eng = ScriptedEngine([events], day_series=lambda m, d: None)
    app = SpearApp(lambda: eng, source="m.csv", kind="meter", settings=settings, clock=FixedClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        table = app.screen.query_one("#days", DataTable)
        assert app.screen.measurement == "active_power" and table.row_count == 1
        await pilot.press("m")
        await pilot.pause()
        assert app.screen.measurement == "reactive_power" and table.row_count == 2
        assert app.screen.query_one(ThresholdSlider).key == "meter/seq2seq/reactive_power"
        assert "reactive_power 2024-01-01" in await screen_text(app, pilot)
        await pilot.press("m")
        assert app.screen.measurement == "active_power"
