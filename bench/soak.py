"""Soak: millions of messages through the real engine with every detector; RSS and throughput over time.

usage: .venv/bin/python bench/soak.py [--messages 5000000] [--sample sample_captures/normal.pcapng]
                                      [--no-lstm] [--cached]

The source loops one recorded capture: every pass re-reads it with tshark through the capture pipeline
(open_capture_files: tshark -T fields → polars → exact path), shifting message times by the capture's
duration so the stream looks like one long, continuing capture (detectors see time move on, the
retainer and the novelty rate windows roll). `--cached` decodes the capture once and replays its
tables (no tshark in the loop: isolates the engine's own memory and speed).

Measured in this process: RSS (VmRSS from /proc/self/status) every ~0.5 s of wall time via the
engine's display sink; message throughput in the first and the last 10% of messages. Reference in the
same run: RSS right after warm-up (first 10% of messages) — growth is end minus that, target <= 50 MB;
slowdown is last-10% msgs/s over first-10% msgs/s (1.0 = none).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class LoopedSource:
    """A PacketSource look-alike that replays one capture `loops` times as one continuing stream."""

    def __init__(self, path: Path, loops: int, cached: bool = False, batch_messages: int = 20000):
        from spear_tui.capture.source import open_capture_files

        self.path = Path(path)
        self.loops = loops
        self.cached = cached
        self.batch_messages = batch_messages
        probe = open_capture_files([self.path], batch_messages=batch_messages)
        probe.close()
        if probe.start_time is None or probe.end_time is None:
            raise SystemExit(f"{path}: no packets")
        self.span = probe.end_time - probe.start_time + 1.0
        self.name = f"{self.path.name} x{loops}"
        self.files = [str(self.path)]
        self.start_time = probe.start_time
        self.end_time = probe.start_time + self.span * loops
        self.live = False
        self.decode_as: list[str] = []
        self.warnings: list[str] = []
        self._current = None
        self._closed = False
        self._cache = None

    def _one_pass(self) -> Iterator:

        if self.cached:
            if self._cache is None:
                self._cache = list(self._read())
            yield from self._cache
            return
        yield from self._read()

    def _read(self) -> Iterator:
        from spear_tui.capture.source import open_capture_files

        self._current = open_capture_files([self.path], batch_messages=self.batch_messages)
        try:
            yield from self._current.batches()
        finally:
            self._current.close()

    def batches(self) -> Iterator:
        import polars as pl

        from spear_tui.capture.batch import Batch

        for loop in range(self.loops):
            shift = loop * self.span
            for b in self._one_pass():
                if self._closed:
                    return
                if shift:
                    tables = {p: t.with_columns(pl.col("time") + shift) for p, t in b.tables.items()}
                    b = Batch(tables, b.skipped, b.other_frames, b.position + shift, b.unaligned)
                yield b

    def close(self) -> None:
        self._closed = True
        if self._current is not None:
            self._current.close()


def messages_per_pass(path: Path) -> int:
    from spear_tui.capture.source import open_capture_files

    src = open_capture_files([path])
    try:
        return sum(b.messages for b in src.batches())
    finally:
        src.close()


def run_soak(path: Path, messages: int, lstm: bool = True, cached: bool = False, on_sample=None) -> dict:
    """Run the engine until >= `messages` messages; -> samples [(wall s, messages, rss MB)] and the engine."""
    from spear_tui.engines.builder import DetectorChoice, build_engine
    from spear_tui.events import EngineError, MessagesSeen

    per_pass = messages_per_pass(path)
    loops = -(-messages // per_pass)
    source = LoopedSource(path, loops, cached=cached)
    engine = build_engine(source, DetectorChoice(lstm=lstm), speed=None)
    seen = 0
    samples: list[tuple[float, int, float]] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    last = [0.0]

    def sink(events: list) -> None:
        nonlocal seen
        for ev in events:
            if isinstance(ev, MessagesSeen):
                seen += ev.messages
            elif isinstance(ev, EngineError):
                errors.append(ev.message)
        now = time.perf_counter() - t0
        if now - last[0] >= 0.5:
            last[0] = now
            samples.append((now, seen, rss_mb()))
            if on_sample is not None:
                on_sample(engine, seen)

    engine.run(sink)
    samples.append((time.perf_counter() - t0, seen, rss_mb()))
    if errors:
        raise SystemExit(f"engine error: {errors[0]}")
    return {"samples": samples, "engine": engine, "messages": seen, "per_pass": per_pass, "loops": loops}


def _rate(samples: list, lo_frac: float, hi_frac: float, total: int) -> float:
    """msgs/s between the samples bracketing [lo_frac, hi_frac] of all messages."""
    lo = [s for s in samples if s[1] <= lo_frac * total]
    hi = [s for s in samples if s[1] >= hi_frac * total]
    a = lo[-1] if lo else (0.0, 0, 0.0)
    b = hi[0] if hi else samples[-1]
    return (b[1] - a[1]) / max(b[0] - a[0], 1e-9)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=5_000_000)
    ap.add_argument("--sample", type=Path, default=None)
    ap.add_argument("--no-lstm", action="store_true")
    ap.add_argument("--cached", action="store_true", help="decode once, replay tables (no tshark in loop)")
    args = ap.parse_args()
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    sample = args.sample
    if sample is None:
        for name in ("normal.pcapng", "normal.pcapng.gz"):
            if (ROOT / "sample_captures" / name).is_file():
                sample = ROOT / "sample_captures" / name
                break
    if sample is None:
        raise SystemExit("no sample capture; pass --sample")
    rss_start = rss_mb()
    res = run_soak(sample, args.messages, lstm=not args.no_lstm, cached=args.cached)
    samples, total = res["samples"], res["messages"]
    warm = [s for s in samples if s[1] >= 0.1 * total]
    rss_warm = warm[0][2] if warm else samples[0][2]
    rss_end = samples[-1][2]
    rss_max = max(s[2] for s in samples)
    first = _rate(samples, 0.0, 0.1, total)
    last = _rate(samples, 0.9, 1.0, total)
    eng = res["engine"]
    wall = samples[-1][0]
    print(
        f"sample {sample.name}: {res['per_pass']:,} messages per pass, {res['loops']} passes"
        f"{' (cached tables)' if args.cached else ' (tshark every pass)'}; detectors: "
        f"{', '.join(sorted({d.name for ds in eng.detectors.values() for d in ds}))}"
    )
    print(f"messages {total:,} in {wall:.0f} s ({total / wall:,.0f} msgs/s overall)")
    print(
        f"RSS MB: start {rss_start:.0f}, after warm-up (10%) {rss_warm:.0f}, end {rss_end:.0f}, "
        f"max {rss_max:.0f}; growth after warm-up {rss_end - rss_warm:+.1f} MB (target <= 50)"
    )
    print(f"msgs/s first 10% {first:,.0f}, last 10% {last:,.0f}; last/first = {last / first:.2f}")
    print(
        "RSS trace (messages, MB): "
        + ", ".join(f"{s[1] // 1000}k:{s[2]:.0f}" for s in samples[:: max(1, len(samples) // 12)])
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
