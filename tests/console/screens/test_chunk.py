"""The chunk view names message types next to their codes, as tshark names them, at 80x24.

Real messages: a real Modbus capture decoded by the capture pipeline (tshark); the expectation is what
`tshark -V` prints for each frame's function code, so the view and tshark must agree row by row.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from textual.widgets import DataTable

from spear_tui.console.screens.chunk import ChunkScreen
from spear_tui.console.settings import Settings
from spear_tui.events import Alert

from ..harness import ScriptedEngine, make_app, screen_text, settle

PCAP = Path(__file__).parents[2] / "data" / "real" / "modbus" / "iti_bro_modbusSmall.pcap"


def _decoded() -> pl.DataFrame:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed (apt-get install tshark)")
    from spear_tui.capture.source import open_capture_files

    source = open_capture_files([str(PCAP)])
    parts = []
    try:
        for batch in source.batches():
            if "modbus" in batch.tables and batch.tables["modbus"].height:
                parts.append(batch.tables["modbus"])
    finally:
        source.close()
    return pl.concat(parts).select("frame", "time", "src", "dst", "msgtype", "length")


def _tshark_function_names() -> dict[int, list[str]]:
    """frame -> the 'Name (code)' of each Modbus function code tshark -V shows in it."""
    out = subprocess.run(["tshark", "-r", str(PCAP), "-Y", "modbus", "-V"], capture_output=True, text=True)
    names: dict[int, list[str]] = {}
    frame = -1
    for line in out.stdout.splitlines():
        if m := re.match(r"Frame (\d+):", line):
            frame = int(m.group(1))
        elif m := re.search(r"Function Code: (.+ \(\d+\))$", line):
            names.setdefault(frame, []).append(m.group(1))
    return names


async def test_message_types_show_tsharks_names_next_to_the_codes(settings: Settings) -> None:
    df = _decoded()
    want = _tshark_function_names()
    assert df.height >= 8 and len(want) >= 8
    alert = Alert("modbus", "lstm", float(df["time"].min()), float(df["time"].max()),
                  int(df["frame"].min()), int(df["frame"].max()), 2.0, 1.0, "loss peak")  # fmt: skip
    eng = ScriptedEngine([[]], messages_for=lambda a: df)
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        app.push_screen(ChunkScreen(alert))
        await pilot.pause()
        table = app.screen.query_one("#chunk-messages", DataTable)
        for _ in range(100):
            if table.row_count:
                break
            await pilot.pause(0.05)
        assert table.row_count == df.height
        col = [c.label.plain for c in table.columns.values()].index("msgtype")
        checked = 0
        for i, (frame, code) in enumerate(zip(df["frame"], df["msgtype"], strict=True)):
            cell = table.get_row_at(i)[col].plain
            assert cell.endswith(f"({code})")
            assert cell in want[frame], (frame, cell, want[frame])
            checked += 1
        assert checked == df.height
        assert "Read Coils (1)" in await screen_text(app, pilot)  # visible at 80 columns
