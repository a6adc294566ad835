"""Detectors screen (7) on the REAL engine: novelty rules over the labelled mqtt_incidents sample with the
shipped baseline. Switching the wildcard rule off in the console stops its alert (the labelled
wildcard_subscribe incident) while the other rules keep alerting; the switches and the rate slider are
saved and the next session's engine starts with them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from textual.widgets import Checkbox

from spear_tui.console.app import SpearApp
from spear_tui.console.screens.detectors import DetectorsScreen
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.threshold_slider import ThresholdSlider
from spear_tui.detect.novelty import RULES
from spear_tui.events import Alert

from ..harness import FixedClock, screen_text

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "sample_captures" / "mqtt_incidents.pcapng"
LABELS = ROOT / "sample_captures" / "mqtt_incidents.labels.json"

pytestmark = [
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed"),
    pytest.mark.skipif(not SAMPLE.exists(), reason="mqtt_incidents sample missing"),
]


def novelty_engine(paused: bool = True):
    from spear_tui.engines.builder import DetectorChoice, build_engine, open_source

    engine = build_engine(open_source([SAMPLE]), DetectorChoice(lstm=False, protocols=("mqtt",)))
    if paused:
        engine.pause()  # the test resumes it once the switches are set
    return engine


def wildcard_incident() -> dict:
    labels = json.loads(LABELS.read_text())
    (inc,) = [i for i in labels["incidents"] if i["kind"] == "wildcard_subscribe"]
    return inc


def in_window(a: Alert, inc: dict) -> bool:
    return a.start <= inc["end"] and inc["start"] <= a.end


def is_wildcard_alert(a: Alert) -> bool:
    return "subscribed to '#'" in a.reason


def is_rate(a: Alert) -> bool:
    return "window(s) of" in a.reason


async def wait_for(pilot, cond, tries: int = 400) -> None:
    for _ in range(tries):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


def headless_alerts() -> list[Alert]:
    out: list[Alert] = []
    engine = novelty_engine(paused=False)
    engine.run(lambda batch: out.extend(e for e in batch if isinstance(e, Alert)))
    return out


async def test_rule_switch_stops_its_alerts_and_persists(settings: Settings) -> None:
    inc = wildcard_incident()
    reference = headless_alerts()  # every rule on: the wildcard incident raises its alert
    assert [a for a in reference if in_window(a, inc) and is_wildcard_alert(a)]
    assert any("mqtt-explorer-8a4c3d" in a.reason and not is_wildcard_alert(a) for a in reference)

    app = SpearApp(novelty_engine, source=str(SAMPLE), settings=settings, clock=FixedClock())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.engine is not None)
        await pilot.press("7")
        await pilot.pause()
        assert isinstance(app.screen, DetectorsScreen)
        await wait_for(pilot, lambda: bool(app.screen.query("#nov-rule-mqtt-wildcard")))
        text = await screen_text(app, pilot)
        assert "MQTT novelty" in text and "wildcard" in text and "unknown_client" in text
        assert app.engine.get_rules("mqtt", "novelty") == set(RULES["mqtt"])
        box = app.screen.query_one("#nov-rule-mqtt-wildcard", Checkbox)
        assert box.value
        await pilot.click("#nov-rule-mqtt-wildcard")
        await pilot.pause()
        assert not box.value
        assert "wildcard" not in app.engine.get_rules("mqtt", "novelty")
        assert "unknown_client" in app.engine.get_rules("mqtt", "novelty")
        # the protocol switch: off silences every rule, on restores the checked ones
        await pilot.click("#nov-on-mqtt")
        await pilot.pause()
        assert app.engine.get_rules("mqtt", "novelty") == set()
        assert app.screen.query_one("#nov-rule-mqtt-unknown_client", Checkbox).disabled
        await pilot.click("#nov-on-mqtt")
        await pilot.pause()
        on_now = app.engine.get_rules("mqtt", "novelty")
        assert "wildcard" not in on_now and "unknown_client" in on_now and len(on_now) == 4
        # the rate slider: → moves it one step, the engine's detector follows, the value is saved
        slider = app.screen.query_one("#nov-k-mqtt", ThresholdSlider)
        assert slider.value == pytest.approx(1.0)  # the detector's own sensitivity
        slider.focus()
        await pilot.press("right", "right", "right")
        await pilot.pause()
        assert slider.value == pytest.approx(1.3)
        assert app.engine.get_sensitivity("mqtt", "novelty") == pytest.approx(1.3)
        await pilot.press("1", "space")  # resume the replay from the overview
        await wait_for(pilot, app.engine.finished.is_set, tries=1200)
        await pilot.pause()
        app.drain()
        await pilot.pause()
        got = [a for a in app.state.alerts if isinstance(a, Alert)]
        assert got, "the other rules must keep alerting"
        assert not [a for a in got if is_wildcard_alert(a)]
        assert any("mqtt-explorer-8a4c3d" in a.reason for a in got)  # unknown_client still fires
        # first-seen alerts are exactly the reference's minus the wildcard one (rate alerts move with k)
        assert {a.reason for a in got if not is_rate(a)} == {
            a.reason for a in reference if not is_rate(a) and not is_wildcard_alert(a)
        }
        await pilot.press("7")
        await pilot.pause()
        assert f"alerts {len(got)}" in await screen_text(app, pilot)

    saved = Settings(settings.path)  # what the next session reads from disk
    assert saved.get_switch("mqtt/novelty/rule/wildcard") is False
    assert saved.get_switch("mqtt/novelty/on") is True
    assert saved.get("mqtt/novelty") == pytest.approx(1.3)

    app2 = SpearApp(
        lambda: novelty_engine(paused=True), source=str(SAMPLE), settings=saved, clock=FixedClock()
    )
    async with app2.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app2.engine is not None)
        (det,) = app2.engine.detectors["mqtt"]
        assert det.sensitivity == pytest.approx(1.3) and "wildcard" not in det.enabled_rules
        await pilot.press("7")
        await wait_for(pilot, lambda: bool(app2.screen.query("#nov-k-mqtt")))
        assert app2.screen.query_one("#nov-k-mqtt", ThresholdSlider).value == pytest.approx(1.3)
        assert not app2.screen.query_one("#nov-rule-mqtt-wildcard", Checkbox).value
        assert app2.screen.query_one("#nov-rule-mqtt-new_topic", Checkbox).value
