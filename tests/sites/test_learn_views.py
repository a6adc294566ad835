"""`spear-tui learn` trains every LSTM view of a protocol: for MQTT the flow LSTM and the rhythm view
(`mqtt.msgpack`, `mqtt_rhythm.msgpack`), and a scan with the site runs both from the site's folder."""

from __future__ import annotations

import json
from pathlib import Path

from spear_tui.cli import main
from spear_tui.detect.lstm.checkpoint import load_checkpoint
from spear_tui.detect.lstm.online import KIND

from .plant import needs_tshark

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"


@needs_tshark
def test_learn_trains_and_scan_runs_both_mqtt_views(tmp_path: Path, capsys) -> None:
    site = tmp_path / "home"
    assert main(["learn", str(SAMPLES / "mqtt_shuffle.pcapng"), "--site", str(site)]) == 0
    out = capsys.readouterr()
    assert "rhythm LSTM trained on" in out.out + out.err
    flow = load_checkpoint(site / "mqtt.msgpack", KIND)
    rhythm = load_checkpoint(site / "mqtt_rhythm.msgpack", KIND)
    assert not flow.config["timing"] and flow.config["features"] == 2
    assert rhythm.config["timing"] and rhythm.config["features"] == 3 and rhythm.config["mode"] == "flow"
    items = json.loads((site / "manifest.json").read_text())["learned_items"]["mqtt"]
    assert items["lstm"]["trained"] and items["rhythm"]["trained"]
    main(["scan", "--json", "--site", str(site), str(SAMPLES / "mqtt_incidents.pcapng")])
    doc = json.loads(capsys.readouterr().out)
    assert doc["detectors"]["mqtt"] == ["lstm", "rhythm", "novelty"]
    assert {c["detector"] for c in doc["chunks"]} == {"lstm", "rhythm"}
    assert "learning" not in doc  # both started from the site's checkpoints
