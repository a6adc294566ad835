"""The console fed with what the REAL engine (shipped LSTM + novelty baseline) emits over the labelled
mqtt_incidents sample: the MQTT client table (counts checked against tshark per TCP stream, `flagged %`
against the chunks' own talkers, following the slider) and the incident list's detector filter."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spear_tui.console.screens.incidents import IncidentsScreen
from spear_tui.console.screens.protocol import ProtocolScreen
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.incident_list import IncidentList
from spear_tui.console.widgets.protocol_table import ProtocolTable
from spear_tui.console.widgets.threshold_slider import ThresholdSlider
from spear_tui.detect.lstm.peaks import flag_scores
from spear_tui.events import Alert, ChunkScored, Incident
from spear_tui.incidents import IncidentLedger

from ..harness import ScriptedEngine, make_app, screen_text, settle

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "sample_captures" / "mqtt_incidents.pcapng"

pytestmark = [
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed"),
    pytest.mark.skipif(not SAMPLE.exists(), reason="mqtt_incidents sample missing"),
]


@functools.cache
def engine_events() -> list[Any]:
    """Every event the real engine emits over the sample (max speed, shipped models, seed 0)."""
    from spear_tui.engines.builder import DetectorChoice, build_engine, open_source

    events: list[Any] = []
    build_engine(open_source([SAMPLE]), DetectorChoice(protocols=("mqtt",))).run(events.extend)
    return events


def tshark_client_messages() -> dict[str, int]:
    """MQTT messages per client id: every message of the TCP streams whose CONNECT named it."""
    out = subprocess.run(
        ["tshark", "-r", str(SAMPLE), "-Y", "mqtt", "-T", "fields", "-e", "tcp.stream", "-e", "mqtt.clientid",
         "-e", "mqtt.msgtype", "-E", "occurrence=a", "-E", "aggregator=,"],
        capture_output=True, text=True, check=True,
    ).stdout
    per_stream: dict[str, int] = defaultdict(int)
    ids: dict[str, str] = {}
    for line in out.splitlines():
        stream, cid, types = line.split("\t")
        per_stream[stream] += len(types.split(","))
        if cid:
            ids[stream] = cid
    counts: dict[str, int] = defaultdict(int)
    for stream, cid in ids.items():
        counts[cid] += per_stream[stream]
    return counts


def expected_share(chunks: list[ChunkScored], flags: np.ndarray) -> dict[str, float]:
    flagged = [c for c, f in zip(chunks, flags, strict=True) if f]
    share: dict[str, float] = defaultdict(float)
    for c in flagged:
        for t in set(c.talkers):
            share[t] += 1 / len(flagged)
    return share


async def test_client_table_and_flagged_share_follow_the_slider(settings: Settings) -> None:
    events = engine_events()
    chunks = [e for e in events if isinstance(e, ChunkScored) and e.detector == "lstm"]  # the flow view
    assert sum(c.flagged for c in chunks) >= 1
    eng = ScriptedEngine([events])
    app = make_app(eng, settings, source=str(SAMPLE))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProtocolScreen) and screen.view == "client_activity"
        table = screen.query_one(ProtocolTable)
        cols = table.columns_shown
        assert cols == ("id", "messages", "flagged %", "sent", "bytes", "last_time", "types")
        share_at = cols.index("flagged %")
        rows = table.values
        # messages per client id, independently from tshark
        truth = tshark_client_messages()
        top = max(truth, key=truth.get)
        assert rows[top][cols.index("messages")] == truth[top]
        for cid in list(rows)[:20]:
            if cid in truth:
                assert rows[cid][cols.index("messages")] == truth[cid], cid
        # flagged % = share of the flagged chunks naming the client among their top talkers
        share = expected_share(chunks, np.array([c.flagged for c in chunks]))
        shown = {k: v[share_at] for k, v in rows.items()}
        assert any(v > 0 for v in shown.values())
        for k, v in shown.items():
            assert v == pytest.approx(100 * share.get(k, 0.0), abs=0.051), k
        # a much lower k flags more chunks: the column follows (re-flagged from the stored scores)
        await pilot.press("1")
        await pilot.pause()
        slider = app.screen.query_one("#slider-mqtt", ThresholdSlider)
        slider.focus()
        await pilot.press("home")
        await pilot.pause()
        scores = np.array([c.score for c in chunks])
        warmup = sum(1 for c in chunks if c.threshold is None)
        flags, _ = flag_scores(scores, slider.value, warmup)
        assert flags.sum() > sum(c.flagged for c in chunks)
        await pilot.press("2")
        await pilot.pause()
        share = expected_share(chunks, np.asarray(flags, bool))
        for k, vals in table.values.items():
            assert vals[share_at] == pytest.approx(100 * share.get(k, 0.0), abs=0.051), k
        assert f"flagged chunks {int(flags.sum())}" in await screen_text(app, pilot)


def engine_incidents() -> list[Incident]:
    """The engine's incidents over the sample (the latest version of each)."""
    ledger = IncidentLedger()
    for e in engine_events():
        if isinstance(e, Incident):
            ledger.apply(e)
    return ledger.sorted()


async def test_incident_list_filters_by_agreeing_detectors(settings: Settings) -> None:
    incidents = engine_incidents()
    lstm = [i for i in incidents if "lstm" in i.detectors]
    novelty = [i for i in incidents if "novelty" in i.detectors]
    both = [i for i in incidents if {"lstm", "novelty"} <= set(i.detectors)]
    assert both and len(lstm) > len(both) and len(novelty) > len(both)  # every filter changes the list
    # an LSTM alert raised before the novelty alerts it overlaps still ends in one incident with them
    alerts = [e for e in engine_events() if isinstance(e, Alert)]
    first = {}
    for a in alerts:
        first.setdefault(next(i.id for i in incidents if a.id in i.alerts), a.detector)
    assert any(first[i.id] == "lstm" and "novelty" in i.detectors for i in both)
    eng = ScriptedEngine([engine_events()])
    app = make_app(eng, settings, source=str(SAMPLE))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, IncidentsScreen)
        table = app.screen.query_one(IncidentList)
        assert table.row_count == len(incidents)
        assert [table.get_row_at(i)[3].plain for i in range(len(incidents))] == [
            "+".join(i.detectors) for i in sorted(incidents, key=lambda i: -i.start)
        ]

        def shown() -> set[int]:
            return {i.id for i in table.shown}

        for mode, expected in (("lstm", lstm), ("novelty", novelty), ("both", both), ("all", incidents)):
            await pilot.press("f")
            await pilot.pause()
            assert shown() == {i.id for i in expected}, mode
            head = (await screen_text(app, pilot)).splitlines()[1]
            assert mode == "all" or f"detectors {mode}" in head
        # the filter is kept when leaving and coming back
        await pilot.press("f", "f", "f")  # -> both
        await pilot.press("1", "5")
        await pilot.pause()
        assert app.screen.query_one(IncidentList).detector_filter == "both"
        assert shown() == {i.id for i in both}
