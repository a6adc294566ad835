"""Shared pieces for the hostile-strings tests: the recorded sample, its labelled strings, and a novelty
baseline that knows nothing of it (so every hostile client id/topic becomes an alert reason to render)."""

from __future__ import annotations

import json
from pathlib import Path

from .cli import REAL, SAMPLES

HOSTILE = SAMPLES / "hostile_strings.pcapng"
LABELS = SAMPLES / "hostile_strings.labels.json"

# Characters that must never reach a terminal or a report raw.
RAW_CONTROLS = ("\x1b", "\x07", "\x08", "\u202e", "\x9b")


def hostile_actors() -> list[str]:
    """The hostile client ids / device names as recorded (from the sample's labels, not from our code)."""
    labels = json.loads(LABELS.read_text())
    out = []
    for inc in labels["incidents"]:
        out += [a for a in inc["actors"] if any(c in a for c in "\x1b\u202e[\x07")]
    return out


def make_baseline(dest: Path) -> Path:
    """Novelty baselines learned from one message of an unrelated public capture, written with the
    detector's own save_baseline: with them every client of the hostile sample is 'never seen'."""
    from spear_tui.capture.source import open_capture_files
    from spear_tui.detect.novelty import NoveltyDetector

    dest.mkdir(parents=True, exist_ok=True)
    src = open_capture_files([REAL / "mqtt" / "ndpi_mqtt.pcap", REAL / "bacnet" / "iti_bacnet_test.pcap"])
    dets = {p: NoveltyDetector(p, learn_messages=1) for p in ("mqtt", "bacnet")}
    try:
        for batch in src.batches():
            for proto, table in batch.tables.items():
                if proto in dets:
                    dets[proto].feed(table)
    finally:
        src.close()
    for proto, det in dets.items():
        det.flush()
        det.save_baseline(dest / f"{proto}_novelty.msgpack")
    return dest
