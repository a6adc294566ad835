"""End-to-end `spear-tui scan` against the raw tshark floor: what a user runs, detectors on.

Records (into a temp dir, never committed) a loopback capture of real MQTT clients (mosquitto +
paho-mqtt + dumpcap, the stacks bench/ingest.py uses), ~500k MQTT messages by default (above the
8 MB at which a file is split between tshark workers), or takes
`--capture FILE --decode-as RULE`. Then, interleaved over `--rounds` rounds, each a fresh process:
  floor      `tshark -r FILE -n -d RULE <the pipeline's exact -T fields options> > /dev/null`
  no-lstm    `spear-tui scan --json --no-lstm --decode-as RULE FILE`
  defaults   `spear-tui scan --json --decode-as RULE FILE` (LSTMs + novelty, shipped models)
  w=N        defaults with SPEAR_TUI_TSHARK_WORKERS=N, for each N in --workers (speed-up vs cores)
and the same first three on the small recorded sample `sample_captures/mqtt_shuffle.pcapng`, where
start-up dominates (`defaults - no-lstm` there is the detectors' start-up cost).
Prints medians, min-max and speed ratios floor/variant (1.0 = as fast as tshark alone).

Usage: .venv/bin/python bench/scan_e2e.py [--clients 8] [--messages 30000] [--rounds 5]
                                          [--workers 1,2] [--capture FILE --decode-as RULE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
SPEAR = str(Path(sys.executable).with_name("spear-tui"))
SMALL = ROOT / "sample_captures" / "mqtt_shuffle.pcapng"


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, bytes]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return elapsed, proc.stdout


def variants(path: Path, rule: str | None, workers: list[int]) -> dict[str, tuple[list[str], dict]]:
    from spear_tui.capture.tshark import find_tshark
    from spear_tui.protocols.fields import tshark_field_args

    dec = ["-d", rule] if rule else []
    scan = [SPEAR, "scan", "--json", *(["--decode-as", rule] if rule else []), str(path)]
    out: dict[str, tuple[list[str], dict]] = {
        "floor": ([find_tshark(), "-r", str(path), "-n", *dec, *tshark_field_args()], {}),
        "no-lstm": ([*scan[:3], "--no-lstm", *scan[3:]], {}),
        "defaults": (scan, {}),
    }
    for n in workers:
        out[f"w={n}"] = (scan, {"SPEAR_TUI_TSHARK_WORKERS": str(n)})
    return out


def messages_in(doc: bytes) -> int:
    return sum(p["messages"] for p in json.loads(doc)["protocols"].values())


def measure(title: str, path: Path, rule: str | None, rounds: int, workers: list[int]) -> dict:
    runs = variants(path, rule, workers)
    times: dict[str, list[float]] = {k: [] for k in runs}
    timed(runs["defaults"][0])  # warm the page cache and JAX's compilation cache once
    docs: dict[str, bytes] = {}
    for _ in range(rounds):
        for name, (cmd, env) in runs.items():  # interleaved: drift hits every variant alike
            elapsed, out = timed(cmd, env)
            times[name].append(elapsed)
            if name != "floor":
                docs[name] = out
    msgs = messages_in(docs["defaults"])
    same = {k: docs[k] == docs["defaults"] for k in docs if k.startswith("w=")}
    floor = statistics.median(times["floor"])
    print(f"\n{title}: {path.name}, {msgs} messages, {rounds} rounds interleaved")
    print(f"  {'run':<10} {'median s':>9} {'min-max s':>13} {'msgs/s':>9} {'floor/run':>10}")
    for name, ts in times.items():
        med = statistics.median(ts)
        spread = f"{min(ts):>6.2f}-{max(ts):<6.2f}"
        print(f"  {name:<10} {med:>9.2f} {spread} {msgs / med:>9.0f} {floor / med:>9.2f}x")
    if same:
        print("  same JSON as defaults: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in same.items()))
    start_up = statistics.median(times["defaults"]) - statistics.median(times["no-lstm"])
    print(f"  defaults - no-lstm: {start_up:+.2f} s")
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--messages", type=int, default=30000, help="publishes per client")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workers", default="1,2", help="tshark worker counts to compare (comma-separated)")
    ap.add_argument("--capture", type=Path)
    ap.add_argument("--decode-as")
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w]
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.capture:
            path, rule = args.capture, args.decode_as
        else:
            from ingest import record

            path, rule = record(Path(tmp), args.clients, args.messages)
        measure("big capture", path, rule, args.rounds, workers)
    measure("small sample", SMALL, None, args.rounds, [])


if __name__ == "__main__":
    main()
