"""Modbus and BACnet views from the real summaries of the labelled incident samples: the default view
is the who-does-what table (master x server x unit x function / source x destination x service), and
its writes, exceptions and errors agree with tshark's own counts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from spear_tui.capture.source import open_capture_files
from spear_tui.capture.summary import CaptureSummary
from spear_tui.console.screens.protocol import ProtocolScreen
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.protocol_table import ProtocolTable
from spear_tui.events import SummaryUpdated

from ..harness import ScriptedEngine, make_app, screen_text, settle

SAMPLES = Path(__file__).resolve().parents[3] / "sample_captures"

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def summary_of(name: str, protocol: str) -> dict:
    s = CaptureSummary()
    for b in open_capture_files([SAMPLES / name]).batches():
        s.update(b)
    return s.protocols[protocol].to_json()


def tshark_values(name: str, display: str, field: str) -> list[str]:
    """Every occurrence of `field` in the frames matching `display` (several PDUs per frame included)."""
    out = subprocess.run(
        ["tshark", "-r", str(SAMPLES / name), "-Y", display, "-T", "fields", "-e", field,
         "-E", "occurrence=a", "-E", "aggregator=,"],
        capture_output=True, text=True, check=True,
    ).stdout
    return [v for line in out.splitlines() if line for v in line.split(",")]


def tshark_count(name: str, display: str, field: str) -> int:
    return len(tshark_values(name, display, field))


@pytest.mark.skipif(not (SAMPLES / "modbus_incidents.pcapng").exists(), reason="sample missing")
async def test_modbus_view(settings: Settings) -> None:
    name = "modbus_incidents.pcapng"
    eng = ScriptedEngine([[SummaryUpdated("modbus", summary_of(name, "modbus"))]])
    app = make_app(eng, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProtocolScreen) and screen.view == "unit_functions"
        table = screen.query_one(ProtocolTable)
        cols = table.columns_shown
        assert {"master", "server", "unit", "function", "write", "requests", "exceptions"} <= set(cols)
        requests = tshark_values(name, "mbtcp && tcp.dstport==502", "modbus.func_code")
        writes = sum(int(fc) in (5, 6, 15, 16, 22, 23) for fc in requests)
        exceptions = tshark_count(name, "modbus.exception_code", "modbus.exception_code")
        assert screen.totals["writes"] == writes > 0
        assert screen.totals["exceptions"] == exceptions > 0
        head = (await screen_text(app, pilot)).splitlines()[2]
        assert f"writes {writes:,}" in head or f"writes {writes}" in head
        # the filter narrows to one master's writes
        await pilot.press("slash", *"Write Single Coil", "enter")
        await pilot.pause()
        assert table.row_count >= 1
        assert all(v[cols.index("write")] is True for v in (table.values[k] for k in table.values))


@pytest.mark.skipif(not (SAMPLES / "bacnet_incidents.pcapng").exists(), reason="sample missing")
async def test_bacnet_view(settings: Settings) -> None:
    name = "bacnet_incidents.pcapng"
    eng = ScriptedEngine([[SummaryUpdated("bacnet", summary_of(name, "bacnet"))]])
    app = make_app(eng, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("4")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProtocolScreen) and screen.view == "services"
        table = screen.query_one(ProtocolTable)
        cols = table.columns_shown
        assert {"source", "destination", "service", "messages", "errors"} <= set(cols)
        errors = sum(t in ("5", "6", "7") for t in tshark_values(name, "bacapp", "bacapp.type"))
        assert screen.totals["errors"] == errors
        assert sum(v[cols.index("errors")] for v in table.values.values()) == errors
        total = tshark_count(name, "bvlc", "bvlc.type")
        assert sum(v[cols.index("messages")] for v in table.values.values()) == total
        await pilot.press("v")  # the other views are still there (talkers, devices, types)
        await pilot.pause()
        assert screen.view != "services"
