"""`spear-tui review STORE` in the console: a real scan's store browsed with StoreEngine (Pilot).

The alert list shows the stored alerts; the sensitivity slider re-flags the stored scores and, back at
the detector's own k, reproduces the flags the online detector wrote at scan time; `e` exports the
selected alert's window to a pcapng that tshark reads with exactly the window's frame count.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from spear_tui.console.app import SpearApp
from spear_tui.console.screens.chunk import ChunkScreen
from spear_tui.console.screens.export_dialog import ExportDialog
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.incident_list import IncidentList
from spear_tui.console.widgets.threshold_slider import ThresholdSlider
from spear_tui.detect.lstm.peaks import flag_scores
from spear_tui.engines.review import StoreEngine

from .harness import FixedClock, screen_text

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))
from _scanned import SAMPLE, require_tools, scanned_store, tshark_frames  # noqa: E402


@pytest.fixture(scope="module")
def store() -> Path:
    require_tools()
    return scanned_store()


def _app(engine: StoreEngine, settings: Settings) -> SpearApp:
    return SpearApp(lambda: engine, source=engine.name, settings=settings, clock=FixedClock())


async def _loaded(app: SpearApp, pilot, alerts: int) -> None:
    for _ in range(100):
        app.drain()
        if app.state.alerts_total >= alerts and app.state.progress is not None and app.state.progress.done:
            break
        await pilot.pause(0.05)
    await pilot.pause()


async def test_review_shows_stored_alerts_and_slider_reflags(store: Path, settings: Settings) -> None:
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT protocol, first_frame, last_frame FROM alerts ORDER BY id").fetchall()
        chunk_rows = conn.execute(
            "SELECT score, flagged, threshold FROM chunks WHERE protocol = 'modbus' ORDER BY id"
        ).fetchall()
    scores = np.array([r[0] for r in chunk_rows], dtype=np.float64)
    stored_flags = np.array([bool(r[1]) for r in chunk_rows])
    warmup = next((i for i, r in enumerate(chunk_rows) if r[2] is not None), len(chunk_rows))
    engine = StoreEngine(store)
    app = _app(engine, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot, len(rows))
        # overview: the modbus slider, at the detector's default k, shows the engine's own flags
        slider = app.screen.query_one(ThresholdSlider)
        track = app.state.tracks[("modbus", "lstm")]
        assert track.scores.n == len(stored_flags) and slider.flagged == int(stored_flags.sum()) > 0
        k0 = slider.value
        await pilot.press("tab")
        assert slider.has_focus
        # each move re-flags the stored scores with the detector's peak rule (no retraining)
        for keys, k in ((("shift+left", "shift+left"), k0 - 2.0), (("end",), 10.0), (("home",), 0.5)):
            await pilot.press(*keys)
            await pilot.pause()
            assert abs(slider.value - k) < 1e-9
            assert slider.flagged == int(flag_scores(scores, k, warmup)[0].sum())
            assert f"flagged {slider.flagged}/{len(scores)}" in await screen_text(app, pilot)
        # back at the k the scan ran with: the re-flag from stored scores equals the scan's online flags
        while slider.value < k0 - 1e-9:
            await pilot.press("shift+right" if k0 - slider.value >= 1.0 - 1e-9 else "right")
        await pilot.pause()
        assert np.array_equal(track.current_flags(), stored_flags)
        assert engine.get_sensitivity("modbus", "lstm") == slider.value
        # incidents screen: the stored incidents, which hold every stored alert
        await pilot.press("5")
        await pilot.pause()
        table = app.screen.query_one(IncidentList)
        assert table.row_count == len(engine.incidents) >= 1
        held = [a for inc in table.shown for a in app.state.alerts_of(inc)]
        assert sorted((a.protocol, a.first_frame, a.last_frame) for a in held) == sorted(rows)
        text = await screen_text(app, pilot)
        inc = table.selected_incident()
        assert inc is not None and f"frames {inc.first_frame}-{inc.last_frame}" in text


async def test_export_dialog_writes_the_alert_window(
    store: Path, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = StoreEngine(store)
    app = _app(engine, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot, len(engine.alerts))
        await pilot.press("5")
        await pilot.pause()
        table = app.screen.query_one(IncidentList)
        table.focus()
        table.move_cursor(row=0)
        alert = table.selected_incident()
        assert alert is not None
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        default = f"./evidence-{alert.protocol}-{alert.first_frame}-{alert.last_frame}.pcapng"
        assert dialog.query_one("Input").value == default
        await pilot.press("enter")  # accept the default path (relative to the working directory)
        for _ in range(400):
            await pilot.pause(0.05)
            if not dialog.busy:
                break
        assert dialog.result is not None, await screen_text(app, pilot)
        out = tmp_path / default[2:]
        assert f"wrote {alert.last_frame - alert.first_frame + 1} frames" in await screen_text(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)
    # tshark (not our code) reads the cut and finds exactly the window's frames
    assert len(tshark_frames(out)) == alert.last_frame - alert.first_frame + 1
    with out.with_suffix(".csv").open(newline="") as f:
        frames = [int(r["frame"]) for r in csv.DictReader(f)]
    assert frames and alert.first_frame <= min(frames) and max(frames) <= alert.last_frame


async def test_export_error_and_source_gone_are_shown(
    store: Path, settings: Settings, tmp_path: Path
) -> None:
    engine = StoreEngine(store)
    gone = tmp_path / "moved-away.pcapng"
    engine.session = dataclasses.replace(engine.session, sources=[{"path": str(gone), "size": 1, "mtime": 1}])
    app = _app(engine, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot, len(engine.alerts))
        alert = engine.alerts[0]
        await app.push_screen(ChunkScreen(alert))
        for _ in range(100):
            await pilot.pause(0.05)
            if "source capture gone" in await screen_text(app, pilot):
                break
        assert "source capture gone" in await screen_text(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        dialog.query_one("Input").value = str(tmp_path / "x.pcapng")
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if not dialog.busy:
                break
        assert dialog.result is None
        assert "error: source capture gone" in await screen_text(app, pilot)
        assert not (tmp_path / "x.pcapng").exists()
    await asyncio.sleep(0)
    assert SAMPLE.is_file()
