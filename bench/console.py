"""Console benchmark: what the console costs the pipeline, time to first frame, CPU while idle.

    .venv/bin/python bench/console.py [--rounds 200] [--idle 5]

1. Throughput: an ingest workload on a real capture (tshark fields of ITI ModbusTCP.pcap, parsed with
   polars and summarised per batch, like the engine's hot path) emitting events, run (a) with a null
   sink and (b) with the console running headless (`run_test`) as the sink. Ratio b/a (target >= 0.8).
   (The issue's comparison against `spear-tui scan` on the same capture needs the integrator's engine and
   `scan` command; until they exist this proxy measures the same thing: the console's cost to ingest.)
2. Time to first frame: the console started in a pseudo-terminal until its status line is drawn, vs a
   bare Textual app measured the same way in the same run (target <= 1.5 s absolute).
3. CPU while idle: the console in a pty with a paused/idle engine, process CPU over 5 s, vs the bare app.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import gzip
import io
import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PCAP = ROOT / "tests" / "data" / "real" / "modbus" / "iti_ModbusTCP.pcap"


def capture_fields() -> bytes:
    """tshark -T fields of the real Modbus capture (done once; the loop below re-parses it)."""
    with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
        tmp.write(gzip.decompress(PCAP.read_bytes()))
        tmp.flush()
        args = [
            "tshark",
            "-r",
            tmp.name,
            "-Y",
            "modbus",
            "-T",
            "fields",
            "-E",
            "header=y",
            "-E",
            "separator=,",
            "-E",
            "occurrence=f",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "mbtcp.unit_id",
            "-e",
            "modbus.func_code",
            "-e",
            "mbtcp.len",
        ]
        return subprocess.run(args, capture_output=True, check=True).stdout


class Workload:
    """Engine-like worker: parse the fields, cut 500-message batches, summarise, emit events."""

    def __init__(self, csv: bytes, rounds: int) -> None:
        self.csv, self.rounds = csv, rounds
        self.paused, self.speed = False, None
        self.messages = 0
        self.elapsed = 0.0
        self.done = threading.Event()
        self.go = threading.Event()  # set once the UI is up: measure steady state, not start-up
        self._stop = threading.Event()

    def run(self, emit) -> None:  # noqa: ANN001
        import polars as pl

        from spear_tui.events import MessagesSeen, SourceProgress, SummaryUpdated

        self.go.wait(60)
        t0 = time.perf_counter()
        for r in range(self.rounds):
            df = pl.read_csv(io.BytesIO(self.csv), infer_schema_length=1000)
            df = df.rename({c: c.replace(".", "_") for c in df.columns})
            batch = []
            for start in range(0, df.height, 500):
                part = df.slice(start, 500)
                batch.append(
                    MessagesSeen(
                        "modbus",
                        part.height,
                        float(part["frame_time_epoch"].min()),
                        float(part["frame_time_epoch"].max()),
                    )
                )
                self.messages += part.height
            units = (
                df.group_by("ip_src")
                .agg(pl.len().alias("messages"), pl.col("mbtcp_len").sum().alias("bytes"))
                .sort("ip_src")
                .to_dicts()
            )
            batch.append(SummaryUpdated("modbus", {"messages": df.height, "hosts": units}))
            batch.append(SourceProgress("bench", float(r + 1), float(self.rounds)))
            emit(batch)
            if self._stop.is_set():
                break
        self.elapsed = time.perf_counter() - t0
        self.done.set()
        self._stop.wait(30)

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def set_speed(self, speed) -> None: ...  # noqa: ANN001
    def set_sensitivity(self, *a) -> None: ...  # noqa: ANN002

    def stop(self) -> None:
        self._stop.set()


def _null_sink_run(csv: bytes, rounds: int) -> float:
    w = Workload(csv, rounds)
    w.go.set()
    t = threading.Thread(target=w.run, args=(lambda evs: None,))
    t.start()
    w.done.wait()
    w.stop()
    t.join()
    return w.messages / w.elapsed


def _console_run(csv: bytes, rounds: int) -> float:
    from spear_tui.console.app import SpearApp
    from spear_tui.console.settings import Settings

    w = Workload(csv, rounds)
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()

    async def main() -> None:
        app = SpearApp(lambda: w, source="bench", settings=Settings())
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("4")  # visit a protocol table too (not only the overview)
            await pilot.press("3")
            await pilot.pause(0.5)
            w.go.set()
            while not w.done.is_set():
                await pilot.pause(0.05)
            await pilot.press("q")

    asyncio.run(main())
    return w.messages / w.elapsed


def bench_throughput(rounds: int, repeats: int) -> tuple[float, float, list[float]]:
    """Alternate null-sink and console runs (the machine is shared: pairs see similar load)."""
    csv = capture_fields()
    refs, cons = [], []
    for _ in range(repeats):
        refs.append(_null_sink_run(csv, rounds))
        cons.append(_console_run(csv, rounds))
    ratios = sorted(c / r for c, r in zip(cons, refs, strict=True))
    return statistics.median(refs), statistics.median(cons), ratios


def _pty_run(
    argv: list[str],
    marker: bytes,
    idle_seconds: float = 0.0,
    keys: bytes = b"",
    settle: float = 1.0,
    ready: bytes | None = None,
) -> tuple[float, float | None]:
    """Spawn argv on a pty (80x24); seconds until `marker` is drawn, and CPU share while idle after
    (optionally after waiting for `ready` on screen, then typing `keys`, then `settle` seconds)."""
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "TEXTUAL_COLOR_SYSTEM": "standard",
        "XDG_CONFIG_HOME": tempfile.mkdtemp(),
    }
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    buf = b""
    first = None
    try:
        while time.perf_counter() - t0 < 30:
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    buf += os.read(master, 65536)
                except OSError:
                    break
            if first is None and marker in buf:
                first = time.perf_counter() - t0
                break
        cpu = None
        if first is not None and ready is not None:
            deadline = time.perf_counter() + 120
            while ready not in buf and time.perf_counter() < deadline:
                r, _, _ = select.select([master], [], [], 0.1)
                if r:
                    buf += os.read(master, 65536)
                    buf = buf[-200_000:]
        if first is not None and keys:
            os.write(master, keys)
        if first is not None and idle_seconds:
            end_settle = time.perf_counter() + settle  # let start-up work finish (keep draining the pty)
            while time.perf_counter() < end_settle:
                r, _, _ = select.select([master], [], [], 0.1)
                if r:
                    os.read(master, 65536)

            def ticks() -> int:
                f = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                return int(f[11]) + int(f[12])  # utime + stime

            c0, w0 = ticks(), time.perf_counter()
            end = w0 + idle_seconds
            while time.perf_counter() < end:  # keep draining the pty so the app never blocks on output
                r, _, _ = select.select([master], [], [], 0.1)
                if r:
                    os.read(master, 65536)
            cpu = (ticks() - c0) / os.sysconf("SC_CLK_TCK") / (time.perf_counter() - w0)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(master)
    return (first if first is not None else float("nan")), cpu


E2E_CONSOLE = """
import asyncio, sys
from spear_tui.console.app import SpearApp
from spear_tui.console.settings import Settings
from spear_tui.engines.builder import DetectorChoice, build_engine, open_source

src = open_source([sys.argv[1]])
app = SpearApp(lambda: build_engine(src, DetectorChoice(), speed=None), source=src.name, settings=Settings())

async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        while not (app.state.progress and app.state.progress.done) and not app.state.errors:
            await pilot.pause(0.1)
        print(sum(t.messages for t in app.state.tracks.values()), app.state.alerts_total)
        await pilot.press("q")

asyncio.run(main())
"""


def bench_end_to_end(capture: Path, repeats: int) -> tuple[float, float, list[float], int, int]:
    """Whole-process wall time of `spear-tui scan FILE` vs the console (headless run_test) replaying the
    same file at max speed with the same detectors; both include start-up, model load and JIT."""
    import json

    spear = Path(sys.executable).with_name("spear-tui")
    env = {**os.environ, "XDG_CONFIG_HOME": tempfile.mkdtemp()}
    scans, cons, msgs, alerts = [], [], 0, 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = subprocess.run(
            [str(spear), "scan", "--json", str(capture)], capture_output=True, text=True, env=env
        )
        scans.append(time.perf_counter() - t0)
        doc = json.loads(out.stdout)
        msgs = sum(p["messages"] for p in doc["protocols"].values())
        alerts = len(doc["alerts"])
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", E2E_CONSOLE, str(capture)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        cons.append(time.perf_counter() - t0)
        shown, shown_alerts = (int(x) for x in out.stdout.split()[-2:])
        assert shown == msgs and shown_alerts == alerts, (shown, msgs, shown_alerts, alerts)
    ratios = sorted(s / c for s, c in zip(scans, cons, strict=True))  # console msgs/s over scan msgs/s
    return msgs / statistics.median(scans), msgs / statistics.median(cons), ratios, msgs, alerts


BARE = """
from textual.app import App
from textual.widgets import Static, Footer
class Bare(App):
    def compose(self):
        yield Static("bare-ref-ready")
        yield Footer()
Bare().run()
"""

CONSOLE = """
import threading
from spear_tui.console.app import run_console

class PausedEngine:  # a paused replay: nothing arrives, the worker thread just waits
    paused, speed = True, 1.0
    def __init__(self): self._stop = threading.Event()
    def run(self, emit): self._stop.wait()
    def stop(self): self._stop.set()
    def pause(self): pass
    def resume(self): pass
    def set_speed(self, s): pass
    def set_sensitivity(self, *a): pass

run_console(PausedEngine, source="idle-bench")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--idle", type=float, default=5.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--capture", default=str(ROOT / "sample_captures" / "mqtt_shuffle.pcapng"))
    ap.add_argument("--e2e-repeats", type=int, default=2, help="0 skips the scan vs console comparison")
    args = ap.parse_args()
    if shutil.which("tshark") is None:
        sys.exit("tshark is required")
    py = sys.executable
    bare_t, bare_cpu = _pty_run([py, "-c", BARE], b"bare-ref-ready", args.idle)
    con_t, con_cpu = _pty_run([py, "-c", CONSOLE], b"idle-bench", args.idle)
    spear = str(Path(py).with_name("spear-tui"))
    # the real thing: `spear-tui replay` at 1x, paused with space once its first chunk is scored
    _, replay_cpu = _pty_run(
        [spear, "replay", args.capture], b"spear-tui", args.idle, keys=b" ", settle=2.0, ready=b"chunks 1"
    )
    ref, with_console, ratios = bench_throughput(args.rounds, args.repeats)
    e2e = bench_end_to_end(Path(args.capture), args.e2e_repeats) if args.e2e_repeats else None
    print("## Console\n")
    cmd = f"--rounds {args.rounds} --idle {args.idle:g} --repeats {args.repeats}"
    cmd += f" --e2e-repeats {args.e2e_repeats}"
    print(f"`.venv/bin/python bench/console.py {cmd}`\n")
    print("| measure | console | reference (same run) | ratio |")
    print("|---|---|---|---|")
    if e2e is not None:
        scan_rate, con_rate, e2e_ratios, msgs, alerts = e2e
        pairs = ", ".join(f"{r:.2f}" for r in e2e_ratios)
        print(
            f"| end to end msgs/s, max-speed replay in the console vs `spear-tui scan` "
            f"({Path(args.capture).name}: {msgs:,} msgs, {alerts} alerts) | {con_rate:,.0f} | "
            f"{scan_rate:,.0f} | "
            f"{statistics.median(e2e_ratios):.2f}× (pairs: {pairs}) |"
        )
    spread = ", ".join(f"{r:.2f}" for r in ratios)
    print(
        f"| ingest msgs/s, console as sink vs null sink (medians) | {with_console:,.0f} | {ref:,.0f} | "
        f"{statistics.median(ratios):.2f}× (pairs: {spread}) |"
    )
    print(
        f"| time to first frame, 80x24 pty (s) | {con_t:.2f} | {bare_t:.2f} (bare Textual app) | "
        f"{con_t / bare_t:.2f}× |"
    )
    if con_cpu is not None and bare_cpu is not None:
        ratio = f"{con_cpu / bare_cpu:.2f}×" if bare_cpu else "—"
        idle = f"{con_cpu * 100:.1f} | {bare_cpu * 100:.1f} (bare app)"
        print(f"| CPU idle/paused (% of a core) | {idle} | {ratio} |")
    if replay_cpu is not None and bare_cpu is not None:
        ratio = f"{replay_cpu / bare_cpu:.2f}×" if bare_cpu else "—"
        name = Path(args.capture).name
        print(
            f"| CPU of `spear-tui replay {name}` paused (% of a core) | {replay_cpu * 100:.1f} | "
            f"{bare_cpu * 100:.1f} (bare app) | {ratio} |"
        )


if __name__ == "__main__":
    main()
