"""Sequence designs on *recorded* interleaving changes (results: BENCHMARKS.md "Shuffle experiment on
recorded clients").

    PYTHONPATH=. .venv/bin/python bench/shuffle_recorded.py [--seeds 0 1]

`sample_captures/mqtt_shuffle.pcapng` was recorded from a real broker and real paho clients: one window of
500 scheduled sensor publishes performed in fully shuffled order and one with 50 of 500 moved (sizes, QoS
and timing slots those of a normal day; labels in mqtt_shuffle.labels.json). Per design (sequence mode x
features) a detector is pretrained like the shipped models on the normal capture (4 epochs x 10 steps per
chunk), then fed the shuffle capture, and the labelled incident captures for false alarms. Heights are
peak heights in baseline SDs (1.4826 MAD of the previous chunks), flagged at k = 6.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = [("flow", False), ("direction", False), ("paper", False),
           ("flow", True), ("direction", True), ("paper", True)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--normal", type=Path, default=ROOT / "sample_captures" / "normal.pcapng.gz")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--captures", nargs="+",
                    default=["mqtt_shuffle", "mqtt_incidents", "modbus_incidents", "bacnet_incidents"])
    ap.add_argument("--designs", nargs="+", default=None, metavar="MODE[+rhythm]")
    ap.add_argument("--rhythm-all", action="store_true", help="rhythm of every message, not client->server")
    ap.add_argument("--rhythm-abs", action="store_true", help="|log gap ratio|")
    ap.add_argument("--trim", type=float, default=None, help="score trim (default: the detector's)")
    ap.add_argument("--rhythm-types", type=int, nargs="+", default=None, help="message types with a rhythm")
    a = ap.parse_args()
    from spear_tui.detect.lstm import features

    features.RHYTHM_CLIENT_ONLY = not a.rhythm_all
    features.RHYTHM_ABS = a.rhythm_abs
    features.RHYTHM_TYPES = tuple(a.rhythm_types) if a.rhythm_types else None
    designs = DESIGNS if a.designs is None else [
        (d.split("+")[0], d.endswith("+rhythm")) for d in a.designs
    ]
    from spear_tui.detect.lstm.stacked_lstm import configure_xla

    configure_xla()
    from spear_tui.commands.experiment import load_messages, score_incidents

    normal, tables = {}, {}
    for name in a.captures:
        proto = name.split("_")[0]
        if proto not in normal:
            normal[proto] = load_messages(a.normal, proto, 10**12, [])
        cap = ROOT / "sample_captures" / f"{name}.pcapng"
        labels = json.loads(cap.with_name(f"{name}.labels.json").read_text())["incidents"]
        tables[name] = (proto, load_messages(cap, proto, 10**12, []), labels)
    print("normal: " + ", ".join(f"{p} {t.height}" for p, t in normal.items()) + "; "
          + ", ".join(f"{n}: {t.height}" for n, (_, t, _) in tables.items()))
    print("| design | seed | capture | incident heights (SDs, ✓ = flagged) | highest normal | false alarms |")
    print("|---|---|---|---|---|---|")
    for mode, timing in designs:
        for seed in a.seeds:
            for name, (proto, table, labels) in tables.items():
                r = score_incidents(table, labels, proto, mode=mode, seed=seed, k=None,
                                    pretrain=normal[proto], timing=timing, trim=a.trim)
                inc = ", ".join(f"{x['kind']} {x['height']:.1f}{' ✓' if x['flagged'] else ''}"
                                for x in r["incidents"])
                design = f"{mode}{' + rhythm' if timing else ''}"
                print(f"| {design} | {seed} | {name} | {inc} | {r['max_normal_height']:.1f} | "
                      f"{len(r['false_alarms'])} {r['false_alarms']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
