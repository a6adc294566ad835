"""Each LSTM view of the product's defaults on labelled captures (results: BENCHMARKS.md "Two MQTT views").

    PYTHONPATH=. .venv/bin/python bench/lstm_views.py [CAPTURE ...] [--time N]

Runs `spear-tui scan --json --store` exactly as a user would (the bundled samples are judged by the sample
site: the shipped models, so MQTT runs the flow LSTM "lstm" and the rhythm view "rhythm"), then per view:
the peak height in baseline SDs of each labelled window (the highest chunk overlapping it, judged as the
detector judges it: `PeakRule.heights`), whether it is flagged (an alert of the view overlaps it), and the
false alarms (the view's alerts, and all incidents, overlapping no labelled window). Labels are the
capture's `<name>.labels.json` (recorded by sample_captures/record.py).

`--time N`: also the wall time of `scan --json` (median of N) with the rhythm view and without it (the same
models folder minus mqtt_rhythm.msgpack, through SPEAR_TUI_MODELS).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_captures"
EXTRA: list[str] = []  # more scan options (--site sample: judge a capture outside sample_captures/ by them)


def labels_of(capture: Path) -> list[dict]:
    name = capture.name.split(".")[0]
    path = capture.with_name(f"{name}.labels.json")
    return json.loads(path.read_text())["incidents"] if path.is_file() else []


def scan(capture: Path, store: Path | None = None, env: dict | None = None) -> tuple[dict, float]:
    args = [sys.executable, "-m", "spear_tui", "scan", "--json", *EXTRA, str(capture)]
    if store is not None:
        args[4:4] = ["--store", str(store)]
    t0 = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env)
    took = time.perf_counter() - t0
    if out.returncode not in (0, 1):
        raise SystemExit(f"scan failed: {out.stderr.strip()}")
    return json.loads(out.stdout), took


def overlaps(a: dict, lab: dict) -> bool:
    return a["start"] <= lab["end"] and a["end"] >= lab["start"]


def views_report(capture: Path) -> dict:
    """{view: {"windows": {kind: (height, flagged)}, "false_alarms": n}, "incidents_false": n}."""
    from spear_tui.detect.lstm.decision import PeakRule
    from spear_tui.store import open_store

    labels = labels_of(capture)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "views.db"
        doc, _ = scan(capture, store)
        with open_store(store) as reader:
            rules = {(r.protocol, r.detector): PeakRule.from_dict(r.rule) for r in reader.rules()}
    out: dict = {"views": {}}
    for (proto, view), rule in sorted(rules.items()):
        chunks = sorted((c for c in doc["chunks"] if (c["protocol"], c["detector"]) == (proto, view)),
                        key=lambda c: c["index"])  # fmt: skip
        scores = np.array([np.nan if c["score"] is None else c["score"] for c in chunks])
        heights = rule.heights(scores)
        alerts = [a for a in doc["alerts"] if a["protocol"] == proto and a["detector"] == view]
        windows = {}
        for lab in (x for x in labels if x["protocol"] == proto):
            hs = [h for c, h in zip(chunks, heights, strict=True) if overlaps(c, lab) and np.isfinite(h)]
            windows[lab["kind"]] = (max(hs) if hs else float("nan"), any(overlaps(a, lab) for a in alerts))
        false = [a for a in alerts if not any(overlaps(a, lab) for lab in labels)]
        out["views"][f"{proto}/{view}"] = {
            "windows": windows,
            "false_alarms": len(false),
            "false_frames": [(a["first_frame"], a["last_frame"]) for a in false],
        }
    out["incidents"] = len(doc["incidents"])
    out["incidents_false"] = [
        (i["protocol"], "+".join(i["detectors"]), i["first_frame"], i["last_frame"])
        for i in doc["incidents"]
        if not any(overlaps(i, lab) for lab in labels)
    ]
    return out


def timing(capture: Path, repeat: int) -> tuple[float, float]:
    """Median wall seconds of `scan --json` with the shipped models, and without the rhythm checkpoint."""
    with tempfile.TemporaryDirectory() as tmp:
        flow_only = Path(tmp) / "models"
        flow_only.mkdir()
        for f in (ROOT / "models").iterdir():
            if f.name != "mqtt_rhythm.msgpack":
                os.symlink(f, flow_only / f.name)
        env_without = {**os.environ, "SPEAR_TUI_MODELS": str(flow_only)}
        with_t, without_t = [], []
        for _ in range(repeat):  # interleaved: load drifts alike for both
            with_t.append(scan(capture)[1])
            without_t.append(scan(capture, env=env_without)[1])
    return statistics.median(with_t), statistics.median(without_t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("captures", nargs="*", type=Path,
                    default=[SAMPLES / "mqtt_shuffle.pcapng", SAMPLES / "mqtt_incidents.pcapng"])
    ap.add_argument("--time", type=int, default=0, metavar="N", help="also time scan --json, median of N")
    ap.add_argument("--site", default=None, help="scan --site (e.g. sample: the shipped models)")
    a = ap.parse_args()
    if a.site:
        EXTRA.extend(["--site", a.site])
    for cap in a.captures:
        r = views_report(cap)
        print(f"## {cap}")
        for view, v in r["views"].items():
            wins = ", ".join(f"{k} {h:.1f}{' ✓' if f else ''}" for k, (h, f) in v["windows"].items())
            print(f"  {view}: {wins or 'no labelled window'}; false alarms {v['false_alarms']} "
                  f"(frames {v['false_frames']})")
        print(f"  incidents {r['incidents']}, not overlapping a label: {r['incidents_false']}")
        if a.time:
            w, wo = timing(cap, a.time)
            print(f"  scan --json median of {a.time}: {w:.2f} s with rhythm, {wo:.2f} s without "
                  f"(+{w - wo:.2f} s)")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    shutil.which("tshark") or sys.exit("tshark is not installed")
    sys.exit(main())
