"""Learning baselines from captures (python -m spear_tui.detect.novelty.learn)."""

from __future__ import annotations

from pathlib import Path

import pytest
from novelty_tables import tshark_rows

from spear_tui.detect.novelty import NoveltyDetector
from spear_tui.detect.novelty.learn import main

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
SMALL = REAL / "modbus" / "iti_modbus_test.pcap"


def test_learn_command_writes_a_baseline_that_knows_every_master(tmp_path: Path, capsys) -> None:
    pytest.importorskip("spear_tui.capture.source")
    assert main([str(SMALL), "--out", str(tmp_path)]) == 0
    path = tmp_path / "modbus_novelty.msgpack"
    assert f"modbus: {path}" in capsys.readouterr().out
    det = NoveltyDetector("modbus", baseline=path)
    masters = {s[0] for (s,) in tshark_rows(SMALL, "mbtcp && tcp.dstport == 502", ["ip.src"])}
    assert {m for (m,) in det.rules.masters.to_list()} == masters
    assert det.learned_messages > 0 and not det.learning


def test_learn_command_refuses_captures_without_known_protocols_in_one_line(tmp_path: Path, capsys) -> None:
    pytest.importorskip("spear_tui.capture.source")
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))  # header only
    assert main([str(empty), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spear-tui: error: ") and "\n" not in err
