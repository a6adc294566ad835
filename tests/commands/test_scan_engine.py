"""`spear-tui scan` as a user runs it: the JSON contract with detectors, exit codes, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHUFFLE = ROOT / "sample_captures" / "mqtt_shuffle.pcapng"
MODBUS_INCIDENTS = ROOT / "sample_captures" / "modbus_incidents.pcapng"


def spear(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spear_tui", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.fixture(scope="module")
def shuffle_scan() -> tuple[subprocess.CompletedProcess, dict]:
    proc = spear("scan", "--json", "--no-novelty", "--seed", "3", str(SHUFFLE))
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(proc.stdout)


def test_chunks_tile_the_mqtt_messages(shuffle_scan):
    _, doc = shuffle_scan
    views = {c["detector"] for c in doc["chunks"] if c["protocol"] == "mqtt"}
    assert views == {"lstm", "rhythm"}  # MQTT's two LSTM views, each its own series over every message
    for view in views:
        chunks = [c for c in doc["chunks"] if (c["protocol"], c["detector"]) == ("mqtt", view)]
        assert chunks, "no chunk scored"
        assert [c["index"] for c in chunks] == list(range(len(chunks)))
        for prev, cur in zip(chunks, chunks[1:], strict=False):
            assert prev["last_frame"] <= cur["first_frame"]
            assert prev["start"] <= cur["start"]
        for c in chunks:
            assert c["start"] <= c["end"] and c["first_frame"] <= c["last_frame"]
            assert c["score"] is None or c["score"] >= 0
            assert isinstance(c["flagged"], bool)
        # 500 messages a chunk: the full chunks hold at most all the MQTT messages.
        assert len(chunks) * 500 >= doc["protocols"]["mqtt"]["messages"] - 500


def test_exit_code_says_whether_there_were_alerts(shuffle_scan):
    proc, doc = shuffle_scan
    assert proc.returncode == (1 if doc["alerts"] else 0)
    for a in doc["alerts"]:
        assert a["detectors"] and a["detector"] in a["detectors"]
        assert a["start"] <= a["end"]
        assert a["source"].endswith("mqtt_shuffle.pcapng")
        assert a["reason"]


def test_same_seed_same_scores(shuffle_scan):
    _, doc = shuffle_scan
    proc = spear("scan", "--json", "--no-novelty", "--seed", "3", str(SHUFFLE))
    again = json.loads(proc.stdout)
    assert again["chunks"] == doc["chunks"]
    assert again["alerts"] == doc["alerts"]


def test_novelty_alerts_reach_scan_with_reason_and_window():
    proc = spear("scan", "--json", "--no-lstm", str(MODBUS_INCIDENTS))
    doc = json.loads(proc.stdout)
    labels = json.loads(MODBUS_INCIDENTS.with_suffix(".labels.json").read_text())
    writes = [i for i in labels["incidents"] if i["kind"] == "unexpected_write"]
    assert writes
    hits = [
        a
        for a in doc["alerts"]
        if a["detector"] == "novelty"
        and any(w["start"] - 1 <= a["start"] <= w["end"] + 1 for w in writes)
        and "127.66.0.11" in a["reason"]
    ]
    assert hits, [a["reason"] for a in doc["alerts"]]
    assert proc.returncode == 1


def test_bad_input_is_one_line_exit_2(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a capture\n")
    proc = spear("scan", str(text))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("spear-tui: error:")
    assert "Traceback" not in proc.stderr
