"""`spear-tui experiment`: the shuffle operator, bad input, and one real run with the SVG written."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from spear_tui.cli import main
from spear_tui.commands.experiment import shuffle_block

ROOT = Path(__file__).resolve().parents[2]
NORMAL = ROOT / "sample_captures" / "normal.pcapng.gz"


def _table(n: int) -> pl.DataFrame:
    return pl.DataFrame({"frame": np.arange(n), "msgtype": np.arange(n) % 7})


def test_full_shuffle_permutes_exactly_the_block():
    t = _table(3000)
    s = shuffle_block(t, 1000, 500, 500, np.random.default_rng(0))
    f = s["frame"].to_numpy()
    assert np.array_equal(f[:1000], np.arange(1000)) and np.array_equal(f[1500:], np.arange(1500, 3000))
    assert sorted(f[1000:1500]) == list(range(1000, 1500))
    assert (f[1000:1500] != np.arange(1000, 1500)).sum() > 450  # essentially every message moved


def test_partial_shuffle_moves_exactly_count_messages_within_the_block():
    t = _table(3000)
    s = shuffle_block(t, 2000, 500, 50, np.random.default_rng(1))
    f = s["frame"].to_numpy()
    moved = np.flatnonzero(f != np.arange(3000))
    assert len(moved) == 50
    assert moved.min() >= 2000 and moved.max() < 2500
    assert sorted(f[moved]) == sorted(moved)  # the 50 swapped places among themselves


def test_missing_capture_is_one_line_error(capsys, tmp_path):
    assert main(["experiment", "shuffle", str(tmp_path / "nope.pcap")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spear-tui: error:") and "\n" not in err


def test_png_output_is_refused_with_one_line(capsys, tmp_path):
    assert main(["experiment", "shuffle", str(tmp_path / "x.pcap"), "--out", str(tmp_path / "p.png")]) == 2
    assert "only .svg" in capsys.readouterr().err


def test_too_short_capture_is_one_line_error(capsys):
    small = ROOT / "tests" / "data" / "real" / "bacnet" / "bacnet_example.pcap"
    if shutil.which("tshark") is None or not small.exists():
        pytest.skip("tshark or the real BACnet capture missing")
    assert main(["experiment", "shuffle", str(small), "--protocol", "bacnet"]) == 2
    assert "need at least" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_shuffle_run_prints_plot_and_table_and_writes_svg(capsys, tmp_path):
    if not NORMAL.exists():
        pytest.skip("sample_captures/normal.pcapng.gz missing")
    out = tmp_path / "shuffle.svg"
    code = main(["experiment", "shuffle", str(NORMAL), "--mode", "flow", "--checkpoint",
                 str(ROOT / "models" / "mqtt.msgpack"), "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "F" in text and "P" in text and "full (SDs)" in text
    row = next(line for line in text.splitlines() if line.startswith("flow "))
    assert row.split()[2] == "True" and row.split()[4] == "True"  # both shuffled chunks flagged
    root = ET.parse(out).getroot()  # well-formed SVG
    assert root.tag.endswith("svg")
    assert len([e for e in root.iter() if e.tag.endswith("polyline")]) >= 1
