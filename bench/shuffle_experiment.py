"""The measurements behind the detector's defaults, as markdown for BENCHMARKS.md "Shuffle experiment".

    .venv/bin/python bench/shuffle_experiment.py [--normal sample_captures/normal.pcapng.gz]

1. Online stability: fresh nets (no pretraining) in flow mode for a few learning rates / steps per chunk,
   on the paper's experiment (first 10,000 MQTT messages of the normal capture, two shuffled chunks).
2. Sequence modes: each mode's net pretrained like the shipped model (messages 10,000+ of the normal
   capture), then the paper's experiment on the first 10,000, and the labelled incident captures.
Peak heights are in baseline SDs (1.4826 x MAD of the previous chunks); k = 6.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--normal", type=Path, default=ROOT / "sample_captures" / "normal.pcapng.gz")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    from spear_tui.detect.lstm.stacked_lstm import LSTMConfig, configure_xla

    configure_xla()
    from spear_tui.commands.experiment import MODES, load_messages, run_shuffle, score_incidents

    mqtt = load_messages(a.normal, "mqtt", 10**12, [])
    test, train = mqtt.slice(0, 10_000), mqtt.slice(10_000)

    print("Online stability, fresh net, flow mode (paper's experiment, held-out 10,000 messages):\n")
    print("| lr | steps/chunk | warm-up steps (first 3 chunks) | full (SDs) | 50/500 (SDs) "
          "| highest normal (SDs) | false alarms |")
    print("|---|---|---|---|---|---|---|")
    for lr, steps, warm in ((1e-2, 1, 100), (3e-3, 1, 100), (3e-3, 3, 100), (3e-3, 1, 20), (1e-3, 1, 100)):
        cfg = LSTMConfig(lr=lr, steps=steps, warmup_steps=warm)
        m = run_shuffle(test, "mqtt", modes=("flow",), seed=a.seed, config=cfg).modes[0]
        print(f"| {lr:g} | {steps} | {warm} | {m.full_height:.1f} | {m.partial_height:.1f} | "
              f"{m.max_normal_height:.1f} | {len(m.false_alarms)} |")

    print("\nSequence modes, each pretrained on messages 10,000+ (4 epochs x 10 steps/chunk):\n")
    print("| mode | full (SDs) | 50/500 (SDs) | highest normal (SDs) | false alarms |")
    print("|---|---|---|---|---|")
    res = run_shuffle(test, "mqtt", modes=MODES, seed=a.seed, pretrain=train)
    for m in res.modes:
        print(f"| {m.mode} | {m.full_height:.1f}{' ✓' if m.full_flagged else ''} | "
              f"{m.partial_height:.1f}{' ✓' if m.partial_flagged else ''} | {m.max_normal_height:.1f} | "
              f"{len(m.false_alarms)} |")

    print("\nLabelled incident captures, each mode pretrained on the whole normal capture "
          "(✓ = flagged at k = 6; '—' = all its chunks inside the 8-chunk warm-up):\n")
    print("| capture | incident | " + " | ".join(MODES) + " |")
    print("|---|---|" + "---|" * len(MODES))
    for name, proto in (("mqtt_shuffle", "mqtt"), ("mqtt_incidents", "mqtt"), ("modbus_incidents", "modbus"),
                        ("bacnet_incidents", "bacnet")):
        cap = ROOT / "sample_captures" / f"{name}.pcapng"
        labels = json.loads(cap.with_name(f"{name}.labels.json").read_text())["incidents"]
        table = load_messages(cap, proto, 10**12, [])
        normal = load_messages(a.normal, proto, 10**12, [])
        per_mode = [score_incidents(table, labels, proto, mode=m, seed=a.seed, k=None, pretrain=normal)
                    for m in MODES]
        for i, inc in enumerate(per_mode[0]["incidents"]):
            cells = []
            for r in per_mode:
                row = r["incidents"][i]
                cells.append("—" if row["height"] != row["height"] else
                             f"{row['height']:.1f}{' ✓' if row['flagged'] else ''}")
            print(f"| {name} | {inc['kind']} | " + " | ".join(cells) + " |")
        fa = " | ".join(str(len(r["false_alarms"])) for r in per_mode)
        print(f"| {name} | *false alarms* | {fa} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
