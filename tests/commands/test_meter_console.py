"""`spear-tui meter`: bad input is one line before any screen; the meter screen driven by the real
MeterEngine on the sample year; the slider's value persists and reaches the next engine; live mode polls
a meter-sim server (in-process, free port, accelerated) until a day is scored.

Expected days and samples come from the sample CSV (csv module) and its labels, not from the engine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from textual.widgets import DataTable

from spear_tui import cli
from spear_tui.commands._meter_console import prepare, with_saved_threshold
from spear_tui.console.app import SpearApp, meter_key
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.day_plot import DayPlot
from spear_tui.console.widgets.threshold_slider import ThresholdSlider
from spear_tui.engines.meter import LiveMeter, MeterEngine
from spear_tui.events import DayScored
from spear_tui.meter.files import read_meter_file
from spear_tui.meter.registers import load_map
from spear_tui.meter.sim import SIM_CLOCK_ADDRESS, MeterSimulator

sys.path.insert(0, str(Path(__file__).parents[1] / "engines"))
from test_meter import PARQUET, TZ, Sink, csv_days, labels, meter_model, year_days  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def days():
    return year_days()


@pytest.fixture(scope="module")
def model(tmp_path_factory, days) -> Path:
    return meter_model(tmp_path_factory.mktemp("meter-model"), days)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return Settings()


# ------------------------------------------------------------------ bad input: one line, exit 2
def test_bad_file_fails_as_one_line_before_the_screen(tmp_path: Path) -> None:
    bad = tmp_path / "meter.csv"
    bad.write_text("when;what\nyesterday;lots\nnever;none\n")
    proc = subprocess.run(
        [sys.executable, "-m", "spear_tui", "meter", str(bad)],
        capture_output=True, text=True, timeout=60, cwd=ROOT, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spear-tui: error: "), proc.stderr
    assert "\x1b[" not in proc.stdout  # no screen was drawn


@pytest.mark.parametrize(
    "argv, message",
    [
        (["meter", "/nonexistent/meter.csv"], "not found"),
        (["meter"], "give a meter FILE or --modbus"),
        (["meter", str(PARQUET), "--modbus", "127.0.0.1:5020"], "not both"),
        (["meter", "--modbus", "no-port"], "HOST:PORT"),
        (["meter", "--modbus", "127.0.0.1:5020", "--map", "/nonexistent.toml"], "nonexistent.toml"),
        (["meter", str(PARQUET), "--tz", TZ, "--train-from", "2030-01-01"], "complete day"),
        (["meter", str(PARQUET), "--tz", TZ, "--measurement", "gas"], "gas"),
        (["meter", str(PARQUET), "--threshold", "lots"], "bad threshold"),
    ],
)
def test_bad_options_are_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("spear-tui: error: ") and message in err[0], err


@pytest.mark.parametrize("bad", ["empty", "random", "directory", "capture"])
def test_unreadable_meter_files_are_one_line(tmp_path: Path, bad: str, capsys: pytest.CaptureFixture) -> None:
    path = {
        "empty": tmp_path / "e.csv",
        "random": tmp_path / "r.parquet",
        "directory": tmp_path,
        "capture": ROOT / "tests" / "data" / "real" / "mqtt" / "ndpi_mqtt.pcap",
    }[bad]
    if bad == "empty":
        path.write_bytes(b"")
    if bad == "random":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    assert cli.main(["meter", str(path)]) == 2  # fails in prepare(), before any App is built
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("spear-tui: error: "), err


def test_bad_model_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "m.msgpack"
    bad.write_bytes(b"garbage")
    assert cli.main(["meter", str(PARQUET), "--model", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("spear-tui: error: ")


def test_console_sessions_are_stored_with_what_review_needs(model: Path, days, tmp_path: Path) -> None:
    """`spear-tui meter FILE` records its session like replay: the engine it builds writes every day
    to the store opened after the checks, and the session names the file and model review re-reads."""
    import sqlite3

    from spear_tui.store import AlertStore

    store = tmp_path / "s.db"
    args = cli.build_parser().parse_args(
        ["meter", str(PARQUET), "--tz", TZ, "--model", str(model), "--store", str(store)]
    )
    sinks: list = []
    meta: dict = {}
    factory, _, _ = prepare(args, sinks, meta)
    assert meta == {
        "command": "meter", "kind": "meter", "measurement": "active_power", "files": [str(PARQUET)],
        "model": str(model.resolve()), "tz": TZ, "timestamp": None,
    }  # fmt: skip
    with AlertStore(store, meta) as st:
        sinks.append(st.write)  # the console opens the store after prepare(), before the engine is built
        factory().run(None)
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT count(*) FROM days").fetchone()[0] == len(days.dates)


# ------------------------------------------------------------------ the screen on the real engine
def _rows(table: DataTable) -> dict[str, tuple[str, ...]]:
    return {str(table.get_row_at(i)[0]): tuple(c.plain for c in table.get_row_at(i)) for i in
            range(table.row_count)}


async def test_meter_screen_on_the_real_engine(model: Path, settings: Settings) -> None:
    args = cli.build_parser().parse_args(["meter", str(PARQUET), "--tz", TZ, "--model", str(model)])
    factory, source, measurement = prepare(args)
    assert measurement == "active_power"
    app = SpearApp(
        with_saved_threshold(factory, settings, measurement), source=source, kind="meter", settings=settings
    )
    want = csv_days()
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(1200):
            eng = app.engine
            if eng is not None and eng.finished.is_set() and not app._inbox:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        eng = app.engine
        assert isinstance(eng, MeterEngine) and eng.finished.is_set()
        assert app.current_mode == "meter" and not app.state.errors
        table = app.screen.query_one("#days", DataTable)
        rows = _rows(table)
        assert sorted(rows) == sorted(want)
        outage = [date for date, kind in labels().items() if kind == "outage"]
        assert outage
        for date in outage:  # never silently scored: no MSE, marked in the gaps column
            assert rows[date][1] == "—" and rows[date][3] != ""
        assert sum(r[3] != "" for r in rows.values()) == sum(not d.complete for d in app.state.meters[
            "active_power"].days)
        scored = app.state.meters["active_power"].days
        assert sum(r[2] == "FLAG" for r in rows.values()) == sum(d.flagged for d in scored)
        # the first day is selected and plotted: its measured line is the file's day
        plot = app.screen.query_one(DayPlot)
        for _ in range(200):
            if plot.measured is not None:
                break
            await pilot.pause(0.05)
        first = min(want)
        np.testing.assert_allclose(plot.measured, want[first], rtol=1e-6)
        np.testing.assert_allclose(plot.reconstructed, eng.day_series("active_power", first)[1])
        # the slider re-flags the stored days and tells the engine
        mse = np.array([d.mse for d in scored])
        slider = app.screen.query_one(ThresholdSlider)
        assert np.isfinite(slider.maximum) and slider.maximum > 0
        slider.focus()
        for key in ("shift+left", "shift+left", "left"):
            await pilot.press(key)
            await pilot.pause()
            n = int((mse[np.isfinite(mse)] > slider.value).sum())
            assert slider.flagged == n
            assert sum(r[2] == "FLAG" for r in _rows(table).values()) == n
            assert eng.threshold_override == slider.value
        saved = slider.value
        await pilot.press("q")
    # persisted per model, and the next engine flags with it from its first day
    fresh = Settings()
    assert fresh.get(meter_key("active_power")) == saved
    eng2 = with_saved_threshold(factory, fresh, "active_power")()
    sink = Sink()
    eng2.run(sink)
    got = sink.events(DayScored)
    assert [d.flagged for d in got] == [bool(np.isfinite(d.mse) and d.mse > saved) for d in got]


# ------------------------------------------------------------------ live: meter-sim over loopback
async def test_live_mode_scores_a_day_polled_from_meter_sim(model: Path, days) -> None:
    series = read_meter_file(PARQUET, tz=TZ)
    regmap = load_map("sdm630")
    start = dt.datetime(2025, 1, 14, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))  # local 22:00
    speed = 86_400 / 5.0  # a day every 5 s, a 15-minute row every 52 ms
    ready: list[float] = []

    def clock() -> float:  # the meter's clock runs once the engine has its model (JAX start-up varies)
        if not ready and eng.detector is not None:
            ready.append(time.monotonic())
        return time.monotonic() - ready[0] if ready else 0.0

    sim = MeterSimulator(series, regmap, speed=speed, start=start, clock=clock)
    meter = LiveMeter("127.0.0.1", 0, regmap, interval=0.02, tz=TZ, clock_address=SIM_CLOCK_ADDRESS)
    eng = MeterEngine.live(meter, "active_power", model=model)
    server, port = await sim.start_server("127.0.0.1", 0)
    eng.live_meter = dataclasses.replace(meter, port=port)
    sink = Sink()
    worker = threading.Thread(target=eng.run, args=(sink,), daemon=True)
    worker.start()
    try:
        complete = None
        for _ in range(1800):  # a stalled machine gets up to 90 s
            complete = next((d for d in sink.events(DayScored) if d.complete), None)
            if complete is not None or eng.finished.is_set():
                break
            await asyncio.sleep(0.05)
    finally:
        eng.stop()
        await asyncio.to_thread(worker.join, 10)
        await server.shutdown()
    assert complete is not None, (sink.batches[-3:], eng.poll_stats)
    assert complete.date >= "2025-01-15"
    first = sink.events(DayScored)[0]
    assert first.date == "2025-01-14" and not first.complete  # polling began at 22:00: a partial day
    # the same day scored from the file: equal when every quarter-hour was polled
    rec = eng.record("active_power", complete.date)
    i = [d.isoformat() for d in days.dates].index(complete.date)
    want = days.measurement("active_power")[i]
    if rec.gaps == 0:
        np.testing.assert_allclose(rec.measured, want, rtol=1e-5)
        file_eng = eng.detector.score(want[None, :], [days.dates[i]])
        assert complete.mse == pytest.approx(float(file_eng.mse[0]), rel=1e-3)
    else:  # missed polls are interpolated; the day still matches the file closely
        assert np.nanmax(np.abs(rec.measured - want)) < 0.5 * np.nanmax(np.abs(want))
