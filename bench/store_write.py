"""Cost of the alert store's durability: commit latency of one engine batch with synchronous=FULL
(what AlertStore uses) against NORMAL and OFF measured in the same run, and chunk rows per second.

usage: python bench/store_write.py [--batches N] [--chunks-per-batch K] [--dir DIR]
A batch is what the engine hands its sinks every ~0.1 s: K ChunkScored rows, one MessagesSeen, and an
alert every 10th batch.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from spear_tui.events import Alert, ChunkScored, MessagesSeen
from spear_tui.store import AlertStore


def run(mode: str, directory: Path, batches: int, per_batch: int) -> list[float]:
    store = AlertStore(directory / f"bench-{mode}.db", {"command": "bench"})
    store._conn.execute(f"PRAGMA synchronous={mode}")  # type: ignore[union-attr]  # bench only
    times = []
    for b in range(batches):
        events: list[object] = [
            ChunkScored(
                "mqtt", b * per_batch + k, 0.0, 1.0, 1, 50, 0.1, 0.05, False, 0.5, talkers=("10.0.0.1",)
            )
            for k in range(per_batch)
        ]
        events.append(MessagesSeen("mqtt", 50 * per_batch, 0.0, 1.0))
        if b % 10 == 0:
            events.append(
                Alert("mqtt", "lstm", 0.0, 1.0, 1, 50, 2.0, 1.0, "loss above threshold", ("10.0.0.1",))
            )
        t0 = time.perf_counter()
        store.write(events)
        times.append(time.perf_counter() - t0)
    store.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=300)
    ap.add_argument("--chunks-per-batch", type=int, default=50)
    ap.add_argument("--dir", default=None, help="directory for the store files (default: a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        res = {m: run(m, Path(d), args.batches, args.chunks_per_batch) for m in ("OFF", "NORMAL", "FULL")}
    ref = statistics.median(res["NORMAL"])
    print(f"{args.batches} batches of {args.chunks_per_batch} chunk rows (+1 alert per 10 batches)")
    print("| synchronous | median commit (ms) | p95 (ms) | chunk rows/s | median vs NORMAL |")
    print("|---|---|---|---|---|")
    for m, ts in res.items():
        med = statistics.median(ts)
        p95 = sorted(ts)[int(0.95 * len(ts)) - 1]
        rate = args.chunks_per_batch * len(ts) / sum(ts)
        print(f"| {m} | {med * 1e3:.2f} | {p95 * 1e3:.2f} | {rate:,.0f} | {med / ref:.2f}× |")


if __name__ == "__main__":
    main()
