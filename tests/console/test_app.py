"""Pilot tests of the console: every app binding, the slider round trip, errors, hostile strings."""

from __future__ import annotations

import numpy as np
import pytest

from spear_tui.console.app import SpearApp
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.incident_list import IncidentList
from spear_tui.console.widgets.loss_panel import LossPanel
from spear_tui.console.widgets.threshold_slider import ThresholdSlider
from spear_tui.detect.lstm.peaks import flag_scores
from spear_tui.errors import UserError
from spear_tui.events import SourceProgress

from .harness import (
    FixedClock,
    ScriptedEngine,
    alert_for,
    basic_batches,
    chunk_events,
    make_app,
    peak_series,
    screen_text,
    settle,
)


async def test_overview_shows_model_alert_and_progress(settings: Settings) -> None:
    batches, chunks = basic_batches()
    eng = ScriptedEngine(batches)
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        text = await screen_text(app, pilot)
        assert app.current_mode == "overview"
        assert len(app.screen.query(LossPanel)) == 1
        assert "MQTT lstm" in text and "chunks 60" in text and "flagged 1" in text and "alerts 1" in text
        assert "0:05:00 / 0:10:00" in text and "50%" in text
        assert app.screen.query_one(IncidentList).row_count == 1
        assert "msgs 30,000" in text  # 60 batches x 500 messages


async def test_mode_keys(settings: Settings) -> None:
    eng = ScriptedEngine(basic_batches()[0])
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        modes = [("2", "mqtt"), ("3", "modbus"), ("4", "bacnet"), ("5", "incidents"), ("6", "meter")]
        for key, mode in modes:
            await pilot.press(key)
            assert app.current_mode == mode
        await pilot.press("1")
        assert app.current_mode == "overview"


async def test_pause_and_speed_keys(settings: Settings) -> None:
    eng = ScriptedEngine(basic_batches()[0])
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("space")
        assert eng.paused
        await pilot.pause()
        assert "paused" in await screen_text(app, pilot)
        await pilot.press("space")
        assert not eng.paused
        await pilot.press("plus")
        assert eng.speed == 2.0
        await pilot.press("equals_sign")
        assert eng.speed == 5.0
        await pilot.press("minus", "minus", "minus")
        assert eng.speed == 0.5
        for _ in range(12):
            await pilot.press("plus")
        assert eng.speed is None  # max
        await pilot.pause()
        assert "max" in await screen_text(app, pilot)
        assert ("pause",) in eng.calls and ("resume",) in eng.calls


async def test_next_previous_incident(settings: Settings) -> None:
    chunks = chunk_events("mqtt", peak_series(30, 20), flagged_at=(20,))
    alerts = [alert_for(chunks[i]) for i in (10, 20, 25)]  # 50 s apart or more: three incidents
    eng = ScriptedEngine([[*chunks, *alerts]])
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("n")
        assert app.current_mode == "incidents"
        table = app.screen.query_one(IncidentList)
        assert table.has_focus and table.row_count == 3

        def start() -> float:
            inc = table.selected_incident()
            assert inc is not None
            return inc.start

        assert start() == alerts[1].start  # newest first: the list starts on the newest, n goes older
        await pilot.press("p")
        assert start() == alerts[2].start
        await pilot.press("p", "p")
        assert table.cursor_row == 0  # stays on the newest
        await pilot.press("n", "n", "n")
        assert start() == alerts[0].start  # stops at the oldest
        await pilot.press("1", "p")  # from another screen: opens the incidents where the cursor was
        assert app.current_mode == "incidents" and start() == alerts[1].start


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_help(settings: Settings, key: str) -> None:
    eng = ScriptedEngine()
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        text = await screen_text(app, pilot)
        assert "Pause / resume" in text and "7" in text and "Detectors" in text
        app.screen.query_one("VerticalScroll").scroll_relative(y=6, animate=False)  # below the fold at 80x24
        await pilot.pause()
        assert "shift+← / →" in await screen_text(app, pilot)
        await pilot.press("escape")
        assert type(app.screen).__name__ == "OverviewScreen"


async def test_quit_stops_engine(settings: Settings) -> None:
    eng = ScriptedEngine()
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
    assert eng._stop.is_set()
    assert app.return_code == 0


async def test_slider_reflags_persists_and_reloads(settings: Settings) -> None:
    batches, chunks = basic_batches()
    scores = np.array([c.score for c in chunks])
    eng = ScriptedEngine(batches)
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        slider = app.screen.query_one(ThresholdSlider)
        start = slider.value
        await pilot.press("tab")
        assert slider.has_focus
        counts = []
        for key, delta in [("shift+left", -1.0), ("shift+left", -1.0), ("left", -0.1), ("shift+right", 1.0)]:
            await pilot.press(key)
            await pilot.pause()
            want = start + delta if not counts else counts[-1][0] + delta
            k = round(max(0.5, want), 6)
            expected = int(flag_scores(scores, k, 5)[0].sum())
            assert slider.flagged == expected
            counts.append((slider.value, slider.flagged))
        assert counts[0][1] <= counts[2][1]  # lower k flags at least as many
        assert ("sensitivity", "mqtt", "lstm", slider.value) in eng.calls
        text = await screen_text(app, pilot)
        assert f"flagged {counts[-1][1]}/60" in text
        final = slider.value
    # a new session on the same config reloads the value, tells the engine, and re-flags with it
    eng2 = ScriptedEngine(batches)
    app2 = make_app(eng2, Settings())
    async with app2.run_test(size=(80, 24)) as pilot:
        await settle(app2, pilot, eng2)
        assert app2.screen.query_one(ThresholdSlider).value == final
        assert ("sensitivity", "mqtt", "lstm", final) in eng2.calls
        assert app2.state.tracks[("mqtt", "lstm")].flagged == int(flag_scores(scores, final, 5)[0].sum())


async def test_factory_user_error_exits_2(settings: Settings) -> None:
    def factory() -> ScriptedEngine:
        raise UserError("cannot read capture.pcap: no such file")

    app = SpearApp(factory, settings=settings, clock=FixedClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
    assert app.return_code == 2
    assert app.fatal == "cannot read capture.pcap: no such file"


async def test_engine_crash_is_one_line_on_screen(settings: Settings) -> None:
    class Broken(ScriptedEngine):
        def run(self, emit) -> None:  # noqa: ANN001
            raise RuntimeError("tshark died")

    eng = Broken()
    app = make_app(eng, settings)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause(0.3)
        app.drain()
        await pilot.pause()
        assert "engine stopped: RuntimeError: tshark died" in (await screen_text(app, pilot)).splitlines()[0]


async def test_hostile_talkers_rendered_inert(settings: Settings) -> None:
    chunks = chunk_events("mqtt", [1.0] * 6)
    hostile = ("[bold red]x[/]", "\x1b]8;;http://x\x07y", "ab\u202ecd")
    eng = ScriptedEngine([[*chunks, alert_for(chunks[-1], talkers=hostile)]])
    app = make_app(eng, settings)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(app, pilot, eng)
        text = await screen_text(app, pilot)
        assert "[bold red]x[/]" in text
        assert "\\x1b]8;;http://x\\x07y" in text
        assert "ab\\u202ecd" in text
        assert "\x1b" not in text and "\u202e" not in text


async def test_palette_lists_every_action(settings: Settings) -> None:
    app = make_app(ScriptedEngine(), settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for t in (
            "Show Overview",
            "Show MQTT view",
            "Show Modbus view",
            "Show BACnet view",
            "Show Incidents",
            "Show Meter",
            "Pause / resume",
            "Faster",
            "Slower",
            "Next incident",
            "Previous incident",
            "Help",
        ):
            assert t in titles
        await pilot.press("2")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Filter", "Sort", "Reverse", "View", "Clear filter"} <= titles  # the screen's own actions
        await pilot.press("1")
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert type(app.screen).__name__ == "CommandPalette"
        await pilot.press(*"faster", "enter")
        await pilot.pause()
    assert app.engine is not None and app.engine.speed == 2.0


async def test_eta_from_progress(settings: Settings) -> None:
    clock = FixedClock(0.0)
    eng = ScriptedEngine()
    app = make_app(eng, settings, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for t, pos in [(0.0, 0.0), (1.0, 10.0), (2.0, 20.0)]:
            clock.t = t
            app.emit([SourceProgress("x", pos, 120.0)])
            app.drain()
        await pilot.pause()
        # 10 capture-seconds per wall second, 100 s left -> 10 s
        assert "ETA 0:00:10" in await screen_text(app, pilot)


async def test_training_bar_and_counters(settings: Settings) -> None:
    from spear_tui.events import EngineError, OtherTraffic, PacketsSkipped, TrainingProgress

    eng = ScriptedEngine(
        [
            [
                TrainingProgress("seq2seq", 3, 10, 0.0123, 0.02),
                PacketsSkipped("mqtt", 4, "malformed"),
                OtherTraffic(17),
                EngineError("tshark: capture file truncated"),
            ]
        ]
    )
    app = make_app(eng, settings)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(app, pilot, eng)
        text = await screen_text(app, pilot)
        assert "train seq2seq" in text and "3/10  loss 0.0123  val 0.02" in text
        status = text.splitlines()[0]
        assert "skipped 4" in status and "other 17" in status
        assert "tshark: capture file truncated" in status
        app.emit([TrainingProgress("seq2seq", 10, 10, 0.01)])
        app.drain()
        await pilot.pause()
        assert "train seq2seq" not in await screen_text(app, pilot)  # hidden once training is done


async def test_sixteen_colours_theme(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "standard")
    batches, _ = basic_batches()
    eng = ScriptedEngine(batches)
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        assert app.theme == "ansi-dark"
        assert "MQTT lstm" in await screen_text(app, pilot)
