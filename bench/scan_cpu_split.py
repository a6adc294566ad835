"""Where a `spear-tui scan` process's CPU seconds go: per component and per thread.

Runs the scan in this process (this tree's package) with `time.thread_time()` accumulators around the
engine's, detectors' and LSTM internals' entry points (inclusive: nested entries also count in their
callers), then prints at exit: process and children CPU (tshark, editcap, capinfos), each finished
Python thread's CPU, and the rest of the process (XLA's and polars' own threads, and Python threads
still running at exit such as the decoder's read-ahead), and whether Flax was imported.

Usage: .venv/bin/python bench/scan_cpu_split.py scan --json [--decode-as RULE] FILE > /dev/null
"""

from __future__ import annotations

import atexit
import collections
import functools
import importlib
import os
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ACC: collections.Counter[str] = collections.Counter()
CNT: collections.Counter[str] = collections.Counter()
THREADS: collections.Counter[str] = collections.Counter()
T0 = time.perf_counter()

POINTS = [
    ("spear_tui.engines.packet", "PacketEngine._ingest"),
    ("spear_tui.engines.packet", "PacketEngine._merge"),
    ("spear_tui.capture.summary", "CaptureSummary.update"),
    ("spear_tui.retain", "MessageRetainer.add"),
    ("spear_tui.retain", "MessageRetainer.pin"),
    ("spear_tui.detect.novelty.detector", "NoveltyDetector.feed"),
    ("spear_tui.detect.lstm.online", "OnlineLSTMDetector.feed"),
    ("spear_tui.detect.lstm.online", "OnlineLSTMDetector.flush"),
    ("spear_tui.detect.lstm.online", "OnlineLSTMDetector._run"),
    ("spear_tui.detect.lstm.online", "OnlineLSTMDetector._group"),
    ("spear_tui.detect.lstm.online", "OnlineLSTMDetector._tensors"),
    ("spear_tui.detect.lstm.online", "OnlineLSTMDetector._dispatch"),
    ("spear_tui.detect.lstm.online", "OnlineLSTMDetector._settle_group"),
    ("spear_tui.detect.lstm.online", "OnlineLSTMDetector._first_wrong_gate"),
    ("spear_tui.detect.lstm.online", "OnlineLSTMDetector._score_events"),
    ("spear_tui.detect.lstm.shared_views", "prepare"),
    ("spear_tui.detect.lstm.online", "with_rhythm"),
    ("spear_tui.detect.lstm.stacked_lstm", "ChunkGroup.of"),
    ("spear_tui.detect.lstm.stacked_lstm", "StackedLSTM.dispatch_group"),
    ("spear_tui.detect.lstm.stacked_lstm", "StackedLSTM.__init__"),
    ("spear_tui.detect.lstm.stacked_lstm", "_structure"),
    ("spear_tui.detect.lstm.lstm_warmup", "_warm_up"),
]


def wrap(modname: str, qual: str) -> None:
    """Replace modname.qual with a wrapper adding its callers' thread CPU to ACC[qual]."""
    obj = importlib.import_module(modname)
    *owners, name = qual.split(".")
    for part in owners:
        obj = getattr(obj, part)
    fn = getattr(obj, name)

    @functools.wraps(fn)
    def timed(*args, **kwargs):
        t = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            ACC[qual] += time.thread_time() - t
            CNT[qual] += 1

    setattr(obj, name, timed)


_thread_run = threading.Thread.run


def _run_counted(self: threading.Thread) -> None:
    try:
        _thread_run(self)
    finally:
        name = self.name.split("-")[0] if self.name.startswith("Thread-") else self.name
        THREADS[name] += time.thread_time()


def os_threads() -> collections.Counter[str]:
    """CPU of the threads still alive at exit, by kernel thread name (XLA's and polars' pools)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: collections.Counter[str] = collections.Counter()
    named = {t.native_id: t.name for t in threading.enumerate()}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        if int(task.name) in named:  # a Python thread still running: its own name
            comm = f"python:{named[int(task.name)].split('-')[0]}"
        fields = stat[stat.rindex(")") + 2 :].split()
        found[comm.rstrip("0123456789-_")] += (int(fields[11]) + int(fields[12])) / tick
    return found


def report() -> None:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc, children = me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime
    out = sys.stderr
    print(f"wall {time.perf_counter() - T0:.2f}  process CPU {proc:.2f}  children CPU {children:.2f}  "
          f"total {proc + children:.2f}  (flax imported: {'flax' in sys.modules})", file=out)
    python = time.thread_time()
    print(f"  main thread {python:.2f}", file=out)
    for name, cpu in THREADS.most_common():
        print(f"  thread {name}: {cpu:.2f}", file=out)
        python += cpu
    print(f"  rest of the process (XLA, polars, running threads) {proc - python:.2f}", file=out)
    for comm, cpu in os_threads().most_common():
        print(f"    OS thread {comm:36s} {cpu:7.2f}", file=out)
    for name, cpu in ACC.most_common():
        print(f"    {name:45s} {cpu:7.2f}  ({CNT[name]} calls)", file=out)


def main() -> None:
    threading.Thread.run = _run_counted  # type: ignore[method-assign]
    for mod, qual in POINTS:
        wrap(mod, qual)
    atexit.register(report)
    from spear_tui.cli import main as cli

    try:
        cli(sys.argv[1:])
    except SystemExit:
        pass


if __name__ == "__main__":
    main()
