"""Site learning benchmark: `spear-tui learn` (one read of the capture, every protocol's novelty
baseline and LSTM) against the commands it replaces, measured in the same run, alternating:

  learn      `spear-tui learn CAPTURE --site DIR`
  separate   `python -m spear_tui.detect.novelty.learn CAPTURE --out DIR` plus one
             `spear-tui experiment train CAPTURE --protocol P --out DIR/P.msgpack` per protocol
             (each reads the whole capture again; the same training: 4 epochs x 10 steps, seed 0)

Prints the median wall time of each and the ratio learn/separate.

Usage: .venv/bin/python bench/site_learn.py [--capture sample_captures/normal.pcapng.gz] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def timed(cmds: list[list[str]]) -> float:
    t = time.perf_counter()
    for cmd in cmds:
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--capture", default=str(ROOT / "sample_captures" / "normal.pcapng.gz"))
    ap.add_argument("--protocols", default="mqtt,modbus,bacnet")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    learn_t: list[float] = []
    sep_t: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            site = Path(tmp) / f"site{r}"
            sep = Path(tmp) / f"sep{r}"
            learn = [[PY, "-m", "spear_tui", "learn", args.capture, "--site", str(site)]]
            separate = [[PY, "-m", "spear_tui.detect.novelty.learn", args.capture, "--out", str(sep)]] + [
                [PY, "-m", "spear_tui", "experiment", "train", args.capture, "--protocol", p,
                 "--out", str(sep / f"{p}.msgpack")]
                for p in args.protocols.split(",")
            ]  # fmt: skip
            pair = (learn, separate) if r % 2 == 0 else (separate, learn)
            for cmds in pair:
                (learn_t if cmds is learn else sep_t).append(timed(cmds))
            print(f"round {r + 1}: learn {learn_t[-1]:.1f} s, separate {sep_t[-1]:.1f} s", flush=True)
    a, b = statistics.median(learn_t), statistics.median(sep_t)
    print(f"median: learn {a:.1f} s, separate commands {b:.1f} s, ratio learn/separate {a / b:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
