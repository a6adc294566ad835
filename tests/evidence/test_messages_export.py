"""Evidence messages: the window's decoded messages, with SOURCE frame numbers, as CSV and Parquet."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from spear_tui.evidence import export_evidence

CAPTURE = Path(__file__).parents[1] / "data" / "real" / "modbus" / "iti_bro_modbusSmall.pcap"


def _pipeline_missing() -> str | None:
    if shutil.which("tshark") is None:
        return "tshark not installed"
    try:
        mod = importlib.import_module("spear_tui.capture.source")
    except ImportError as exc:
        return f"capture pipeline not importable: {exc}"
    if not hasattr(mod, "open_capture_files"):
        return "spear_tui.capture.source.open_capture_files not available yet"
    return None


pytestmark = pytest.mark.skipif(_pipeline_missing() is not None, reason=str(_pipeline_missing()))


def _tshark_modbus(first: int, last: int) -> list[tuple[int, int]]:
    """(frame, function code) of every Modbus PDU in the window, straight from tshark on the source."""
    out = subprocess.run(
        ["tshark", "-r", str(CAPTURE), "-Y", f"modbus && frame.number >= {first} && frame.number <= {last}",
         "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "frame.number",
         "-e", "modbus.func_code"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = []
    for line in out.splitlines():
        frame, codes = line.split("\t")
        rows += [(int(frame), int(c)) for c in codes.split(",")]
    return rows


def test_messages_keep_source_frame_numbers(tmp_path: Path) -> None:
    ev = export_evidence(
        CAPTURE, 40, 71, tmp_path / "e.pcapng", out_csv=tmp_path / "m.csv",
        out_parquet=tmp_path / "m.parquet", file_index=1,
    )  # fmt: skip
    want = _tshark_modbus(40, 71)
    assert len(want) >= 4
    for table in (pl.read_csv(tmp_path / "m.csv"), pl.read_parquet(tmp_path / "m.parquet")):
        modbus = table.filter(pl.col("protocol") == "modbus")
        assert list(zip(modbus["frame"], modbus["func_code"], strict=True)) == want
        assert set(table["file"]) == {1}
    assert ev.messages == pl.read_parquet(tmp_path / "m.parquet").height


def test_csv_text_is_inert_parquet_exact(tmp_path: Path) -> None:
    from spear_tui.evidence.messages import write_messages

    hostile = "=cmd|' /C calc'!A0\x1b[31m\u202e"
    table = pl.DataFrame({"protocol": ["mqtt"], "frame": [7], "clientid": [hostile], "topic": ["a/b"]})
    write_messages(table, tmp_path / "m.csv", tmp_path / "m.parquet")
    raw = (tmp_path / "m.csv").read_text()
    assert "\x1b" not in raw and "\u202e" not in raw
    assert pl.read_csv(tmp_path / "m.csv")["clientid"][0] == "'=cmd|' /C calc'!A0\\x1b[31m\\u202e"
    assert pl.read_parquet(tmp_path / "m.parquet")["clientid"][0] == hostile


def test_csv_names_message_types_next_to_the_codes(tmp_path: Path) -> None:
    """Each CSV row's `message type` is its function code's name as tshark -V prints it; Parquet keeps
    the decoded columns only."""
    import re

    export_evidence(
        CAPTURE, 1, 166, tmp_path / "e.pcapng", out_csv=tmp_path / "m.csv",
        out_parquet=tmp_path / "m.parquet", file_index=0,
    )  # fmt: skip
    args = ["tshark", "-r", str(CAPTURE), "-Y", "modbus", "-V"]
    verbose = subprocess.run(args, capture_output=True, text=True, check=True)
    shown = re.finditer(r"Function Code: (.+ \((\d+)\))\n", verbose.stdout)
    names = {int(m.group(2)): m.group(1) for m in shown}
    table = pl.read_csv(tmp_path / "m.csv").filter(pl.col("protocol") == "modbus")
    assert table.height >= 4
    cols = table.columns
    assert cols.index("message type") == cols.index("msgtype") + 1
    assert table["message type"].to_list() == [names[c] for c in table["msgtype"]]
    assert "message type" not in pl.read_parquet(tmp_path / "m.parquet").columns
