"""The Incidents screen over what the REAL engine (shipped LSTMs + novelty baseline, defaults) emits for
the labelled incident samples: one incident per labelled incident, the headline reason readable at 80x24
without drilling down, and Enter going incident -> its alerts -> a chunk's messages."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from spear_tui.console.screens.chunk import ChunkScreen
from spear_tui.console.screens.incident_alerts import IncidentAlertsScreen
from spear_tui.console.screens.incidents import IncidentsScreen
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.incident_list import IncidentList
from spear_tui.events import Incident
from spear_tui.incidents import IncidentLedger

from ..harness import ScriptedEngine, make_app, screen_text, settle

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "sample_captures"
PROTOCOLS = ("mqtt", "modbus", "bacnet")

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


@functools.cache
def engine_events(protocol: str) -> list[Any]:
    """Every event the real engine emits over `<protocol>_incidents.pcapng` with the defaults."""
    from spear_tui.engines.builder import DetectorChoice, build_engine, open_source

    events: list[Any] = []
    pcap = SAMPLES / f"{protocol}_incidents.pcapng"
    build_engine(open_source([pcap]), DetectorChoice(protocols=(protocol,))).run(events.extend)
    return events


def incidents_of(events: list[Any]) -> list[Incident]:
    ledger = IncidentLedger()
    for e in events:
        if isinstance(e, Incident):
            ledger.apply(e)
    return ledger.sorted()


def labels(protocol: str) -> list[dict]:
    return json.loads((SAMPLES / f"{protocol}_incidents.labels.json").read_text())["incidents"]


def disconnects(start: float, end: float) -> int:
    """MQTT DISCONNECTs in [start, end] of the MQTT sample, counted by tshark itself."""
    out = subprocess.run(
        ["tshark", "-r", str(SAMPLES / "mqtt_incidents.pcapng"), "-Y",
         f"mqtt.msgtype == 14 && frame.time_epoch >= {start} && frame.time_epoch <= {end}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return len(out.splitlines())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_one_incident_per_labelled_incident(protocol: str) -> None:
    incidents = incidents_of(engine_events(protocol))
    truth = labels(protocol)
    assert truth
    for label in truth:
        hits = [i for i in incidents if i.start <= label["end"] and label["start"] <= i.end]
        assert len(hits) == 1, (label["kind"], hits)
        assert hits[0].severity == "high", label["kind"]
    def covers(inc: Incident) -> int:
        return sum(inc.start <= lb["end"] and lb["start"] <= inc.end for lb in truth)

    assert all(covers(i) <= 1 for i in incidents)  # no incident joins two labelled incidents
    unlabelled = [i for i in incidents if not covers(i)]
    print(f"{protocol}: {len(truth)} labelled, {len(incidents)} incidents, unlabelled: {unlabelled}")
    for inc in unlabelled:
        # the only other thing these recordings hold: the recorder's MQTT clients all disconnecting at the
        # end (the capture's last, partial chunk), which the LSTM calls unusual, and medium
        assert protocol == "mqtt" and inc.detectors == ("lstm",) and inc.severity == "medium", inc
        assert disconnects(inc.start, inc.end) >= 5, inc
    alerts = sum(1 for e in engine_events(protocol) if type(e).__name__ == "Alert")
    assert alerts > len(incidents)  # grouping is what turns the alert rows into incident rows


async def test_incidents_screen_at_80x24_shows_reasons_and_drills_down(settings: Settings) -> None:
    events = engine_events("modbus")
    incidents = incidents_of(events)
    eng = ScriptedEngine([events], messages_for=lambda a: None)
    app = make_app(eng, settings, source="modbus_incidents.pcapng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, IncidentsScreen)
        table = app.screen.query_one(IncidentList)
        assert table.row_count == len(incidents) == 3
        # newest first, and each incident's headline reason is on screen when its row is selected
        for row, inc in enumerate(sorted(incidents, key=lambda i: -i.start)):
            table.move_cursor(row=row)
            await pilot.pause()
            text = await screen_text(app, pilot)
            assert f"{len(incidents)} incident(s)" in text.splitlines()[1]
            assert inc.reasons[0][:60] in " ".join(text.split()), (inc.reasons[0], text)
            assert f"frames {inc.first_frame}-{inc.last_frame}" in text
        # o: worst first (all three are high: then newest first), and back
        await pilot.press("o")
        assert table.order == "severity" and [i.severity for i in table.shown] == ["high"] * 3
        await pilot.press("o")
        # Enter: the incident's alerts, each reason under them; Enter again: the chunk's messages
        table.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, IncidentAlertsScreen)
        newest = max(incidents, key=lambda i: i.start)
        shown = app.state.alerts_of(newest)
        assert [a.id for a in shown] == list(newest.alerts)
        text = await screen_text(app, pilot)
        assert f"incident #{newest.id}: {len(newest.alerts)} alert(s)" in text
        assert shown[0].reason[:50] in " ".join(text.split())
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChunkScreen) and app.screen.alert == shown[0]
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, IncidentsScreen)
