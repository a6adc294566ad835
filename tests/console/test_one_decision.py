"""One decision everywhere: after the slider moves to k=4, the console (live and reviewing a store),
`scan --json --sensitivity 4`, its store and its HTML report list the same flagged chunks and the same
incidents, and they equal the detector's own `OnlineLSTMDetector.reflag(4)`; for a trained detector
(the sample site's checkpoint) and a fresh one (a capture of another network, learned from scratch).
Every LSTM view is one score series with its own slider: MQTT has two (flow "lstm" and "rhythm")."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spear_tui.cli import main
from spear_tui.console.app import SpearApp
from spear_tui.console.screens.overview import widget_suffix
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.threshold_slider import ThresholdSlider
from spear_tui.engines.review import StoreEngine
from spear_tui.events import Incident
from spear_tui.store import open_store

from .harness import FixedClock

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_captures"
K = 4.0

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def capture(case: str, tmp_path: Path) -> Path:
    """trained: a bundled sample (the sample site's checkpoints judge it); fresh: the normal day copied
    out of the samples folder, so it is another network's capture and every detector learns first."""
    if case == "trained":
        return SAMPLES / "mqtt_incidents.pcapng"
    out = tmp_path / "their_network.pcapng.gz"
    shutil.copy(SAMPLES / "normal.pcapng.gz", out)
    return out


def scan(capsys: pytest.CaptureFixture, *args: str) -> dict:
    capsys.readouterr()
    main(["scan", "--json", *args])
    return json.loads(capsys.readouterr().out)


View = tuple[str, str]  # (protocol, detector): one model's score series


def flagged_of_doc(doc: dict) -> dict[View, list[int]]:
    out: dict[View, list[int]] = {}
    for c in doc["chunks"]:
        key = (c["protocol"], c["detector"])
        out.setdefault(key, [])
        if c["flagged"]:
            out[key].append(c["index"])
    return out


def view(inc: Incident | dict) -> tuple:
    """What a user reads of an incident, from an Incident or its scan --json form."""
    if isinstance(inc, dict):
        return (inc["protocol"], inc["first_frame"], inc["last_frame"], inc["severity"],
                tuple(inc["detectors"]), len(inc["alerts"]), inc["reason"])  # fmt: skip
    return (inc.protocol, inc.first_frame, inc.last_frame, inc.severity, inc.detectors, len(inc.alerts),
            inc.reasons[0])  # fmt: skip


def html_incidents(path: Path) -> list[tuple]:
    """(protocol, frames, severity, detectors, alerts) of each row of the report's Incidents table."""
    page = path.read_text()
    table = page.split("<h2>Incidents</h2>", 1)[1].split("<h2>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", table)[1:]:
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr)]
        rows.append((cells[3], cells[7], cells[5], cells[4], int(cells[6])))
    return rows


async def slide_to_k(app: SpearApp, pilot: Any, views: list[View]) -> None:
    """The user's way: focus each LSTM slider (at the detector's k=6) and take two coarse steps down."""
    for p, d in views:
        slider = app.screen.query_one(f"#slider-{widget_suffix(p, d)}", ThresholdSlider)
        assert slider.value == pytest.approx(6.0)
        slider.focus()
        await pilot.press("shift+left", "shift+left")
        await pilot.pause()
        assert slider.value == pytest.approx(K)


async def wait(pilot: Any, cond, tries: int = 1200) -> None:
    for _ in range(tries):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


def console_result(app: SpearApp) -> tuple[dict[View, list[int]], dict[View, np.ndarray], list[tuple]]:
    tracks = app.state.tracks
    flags = {p: [int(i) for i in np.flatnonzero(t.current_flags())] for p, t in tracks.items()}
    thresholds = {p: t.current_thresholds() for p, t in tracks.items()}
    return flags, thresholds, sorted(view(i) for i in app.state.incidents())


@pytest.mark.parametrize("case", ["trained", "fresh"])
async def test_console_scan_store_and_report_agree_after_a_move_to_k4(
    case: str, tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture
) -> None:
    pcap = capture(case, tmp_path)
    stored, stored4, report4 = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "b.html"
    doc = scan(capsys, "--store", str(stored), str(pcap))  # what the user ran: default k
    doc4 = scan(capsys, "--sensitivity", repr(K), "--store", str(stored4), "--report", str(report4), str(pcap))  # noqa: E501
    # the slider never changes what the nets learn: the same scores at either k
    def scores(d: dict) -> dict:
        return {(c["protocol"], c["detector"], c["index"]): c["score"] for c in d["chunks"]}

    assert scores(doc4) == scores(doc)
    views = sorted({(c["protocol"], c["detector"]) for c in doc["chunks"]})
    assert ("mqtt", "lstm") in views and ("mqtt", "rhythm") in views  # two MQTT models, two series
    want_flags = flagged_of_doc(doc4)
    want_thr = {
        v: np.array([np.nan if c["threshold"] is None else c["threshold"]
                     for c in sorted(doc4["chunks"], key=lambda c: c["index"])
                     if (c["protocol"], c["detector"]) == v])
        for v in views
    }  # fmt: skip
    want_incidents = sorted(view(i) for i in doc4["incidents"])
    print(f"{case}: k=6 flags {flagged_of_doc(doc)}, k=4 flags {want_flags}, {len(want_incidents)} incidents")
    assert any(want_flags.values())  # something to agree on

    # the live console over the same capture, then the slider to 4
    from spear_tui.engines.builder import DetectorChoice, build_engine, open_source

    def factory():
        return build_engine(open_source([pcap]), DetectorChoice(learn=case == "fresh"), speed=None)

    app = SpearApp(factory, source=str(pcap), settings=settings, clock=FixedClock())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.engine is not None and app.engine.finished.is_set())
        app.drain()
        await pilot.pause()
        await slide_to_k(app, pilot, views)
        live_flags, live_thr, live_incidents = console_result(app)
        engine = app.engine
        lstm = {(p, n): next(d for d in engine.detectors[p] if d.name == n) for p, n in views}
    assert live_flags == want_flags
    for v in views:
        np.testing.assert_allclose(live_thr[v], want_thr[v], rtol=1e-12)
        # the detector's own answer, and what it is: the same rule
        assert [int(i) for i in np.flatnonzero(lstm[v].reflag(K)[0])] == want_flags[v]
        assert lstm[v].baseline_skip == (4 if case == "fresh" else 0)
    assert live_incidents == want_incidents

    # a review of the store the default-k scan wrote, the slider to 4
    review = StoreEngine(stored)
    fresh_settings = Settings(tmp_path / "review-settings.json")
    app = SpearApp(lambda: review, source=review.name, settings=fresh_settings, clock=FixedClock())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.state.progress is not None and app.state.progress.done)
        app.drain()
        await pilot.pause()
        await slide_to_k(app, pilot, views)
        review_flags, review_thr, review_incidents = console_result(app)
    assert review_flags == want_flags and review_incidents == want_incidents
    for v in views:
        np.testing.assert_allclose(review_thr[v], want_thr[v], rtol=1e-12)

    # the k=4 scan's store and report hold the same
    with open_store(stored4) as reader:
        assert sorted(view(i) for i in reader.incidents()) == want_incidents
        store_flags: dict[View, list[int]] = {}
        for c in reader.chunks():
            store_flags.setdefault((c.protocol, c.detector), [])
            if c.flagged:
                store_flags[(c.protocol, c.detector)].append(c.index)
    assert store_flags == want_flags
    assert sorted(html_incidents(report4)) == sorted(
        (v[0], f"{v[1]}–{v[2]}", v[3], ", ".join(v[4]), v[5]) for v in want_incidents
    )
