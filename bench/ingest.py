"""Ingest benchmark: pipeline msgs/s vs the raw tshark floor and vs a plain pyshark loop.

Records (into a temp dir, not committed) a loopback capture of real MQTT traffic: mosquitto + paho-mqtt
clients + dumpcap, >= 50k MQTT messages. Then, interleaved over several rounds:
  floor     `tshark -r FILE -n -d ... -T fields <the pipeline's exact field options> > /dev/null`
  pipeline  open_capture_files(FILE).batches() to the end (capinfos, tshark, polars tables, alignment)
  pyshark   a plain pyshark FileCapture loop reading msgtype/len of every MQTT layer, on the first
            --pyshark-frames frames only; its per-message rate is extrapolated (stated in the output)
Prints medians and the ratios pipeline/floor and pipeline/pyshark.

Usage: .venv/bin/python bench/ingest.py [--clients 8] [--messages 7000] [--rounds 5] [--pyshark-frames 400]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def record(directory: Path, clients: int, messages: int, paced: bool = False) -> tuple[Path, str]:
    """mosquitto + `clients` paho clients on loopback, recorded by dumpcap: `mqtt_burst` (publishes as
    fast as they go, many messages coalesced per TCP segment) or, `paced`, `mqtt_paced` (each QoS 1
    publish waits for its PUBACK: about one message per segment)."""
    from spear_tui.capture.loadgen import mqtt_burst, mqtt_paced
    from spear_tui.capture.record import Recorder

    port = free_port()
    conf = directory / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    path = directory / ("mqtt_paced.pcapng" if paced else "mqtt_load.pcapng")
    try:
        time.sleep(0.5)
        with Recorder("lo", f"tcp port {port}", path):
            load = mqtt_paced if paced else mqtt_burst
            sent = load("127.0.0.1", port, clients=clients, messages=messages)
    finally:
        broker.terminate()
        broker.wait()
    print(f"recorded {path.stat().st_size / 1e6:.1f} MB, {sent} publishes acknowledged, port {port}")
    return path, f"tcp.port=={port},mqtt"


def cpu_now() -> float:
    """CPU seconds used so far by this process and its waited-for children (tshark, capinfos)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_floor(path: Path, rule: str) -> float:
    from spear_tui.capture.tshark import find_tshark
    from spear_tui.protocols.fields import tshark_field_args

    t = time.perf_counter()
    subprocess.run(
        [find_tshark(), "-r", str(path), "-n", "-d", rule, *tshark_field_args()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - t


def run_pipeline(path: Path, rule: str) -> tuple[float, int, dict]:
    from spear_tui.capture.source import open_capture_files

    t = time.perf_counter()
    source = open_capture_files([path], decode_as=[rule])
    n = 0
    unaligned: dict = {}
    for b in source.batches():
        n += b.messages
        for k, v in b.unaligned.items():
            unaligned[k] = unaligned.get(k, 0) + v
    return time.perf_counter() - t, n, unaligned


def run_pyshark(path: Path, port: int, frames: int) -> tuple[float, int]:
    import pyshark

    loop = asyncio.new_event_loop()
    t = time.perf_counter()
    cap = pyshark.FileCapture(
        str(path), decode_as={f"tcp.port=={port}": "mqtt"}, eventloop=loop, keep_packets=False
    )
    n = 0
    try:
        for i, pkt in enumerate(cap):
            if i >= frames:
                break
            for layer in pkt.get_multiple_layers("mqtt"):
                _ = (layer.get_field("msgtype"), layer.get_field("len"))
                n += 1
    finally:
        cap.close()
        del cap
        gc.collect()  # let pyshark's subprocess transports go while their loop is still open
        loop.close()
    return time.perf_counter() - t, n


def wait_for_children(timeout: float = 10.0) -> None:
    """Block until no child process of ours is still running (pyshark leaves its tshark to die)."""
    me = str(os.getpid())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[1] == me and fields[0] != "Z":
                    children.append(pid)
        if not children:
            return
        time.sleep(0.1)
    time.sleep(0.5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--messages", type=int, default=7000, help="publishes per client")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pyshark-frames", type=int, default=400)
    ap.add_argument("--capture", help="use this capture (with --rule) instead of recording one")
    ap.add_argument("--rule", help="decode-as rule for --capture, e.g. tcp.port==1883,mqtt")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.capture:
            path, rule = Path(args.capture), args.rule
        else:
            path, rule = record(Path(tmp), args.clients, args.messages)
        port = int(rule.split("==")[1].split(",")[0])
        total = int(
            subprocess.run(
                ["capinfos", "-c", "-M", str(path)], capture_output=True, text=True
            ).stdout.split()[-1]
        )
        floors, pipes, pys = [], [], []
        floor_cpu: list[float] = []
        pipe_cpu: list[float] = []
        n_msgs = py_msgs = 0
        unaligned: dict = {}
        run_pipeline(path, rule)  # warm the page cache and imports once, untimed
        for r in range(args.rounds):
            # Alternate which of the two goes first; pyshark last, then a pause so its tshark (killed on
            # close) is gone before the next round's floor starts.
            for which in ("floor", "pipeline") if r % 2 == 0 else ("pipeline", "floor"):
                c0 = cpu_now()
                if which == "floor":
                    floors.append(run_floor(path, rule))
                    floor_cpu.append(cpu_now() - c0)
                else:
                    dt, n_msgs, unaligned = run_pipeline(path, rule)
                    pipes.append(dt)
                    pipe_cpu.append(cpu_now() - c0)
            dt_py, py_msgs = run_pyshark(path, port, args.pyshark_frames)
            pys.append(dt_py / max(py_msgs, 1))
            wait_for_children()
            print(f"round {r + 1}: floor {floors[-1]:.2f} s, pipeline {pipes[-1]:.2f} s, "
                  f"pyshark {dt_py:.2f} s for {py_msgs} msgs in {args.pyshark_frames} frames", flush=True)
    floor, pipe, py_per_msg = statistics.median(floors), statistics.median(pipes), statistics.median(pys)
    floor_rate, pipe_rate, py_rate = n_msgs / floor, n_msgs / pipe, 1 / py_per_msg
    print(
        f"\ncapture: {n_msgs} MQTT messages in {total} frames; unaligned after exact path: {unaligned or 0}"
    )
    print(f"load average during run: {os.getloadavg()[0]:.1f} (2 cores)")
    fc, pc = statistics.median(floor_cpu), statistics.median(pipe_cpu)
    print(f"CPU seconds (process + children), medians: floor {fc:.2f}, pipeline {pc:.2f} "
          f"(pipeline uses {pc / fc:.2f}x the floor's CPU; wall time is what the targets are about)")
    paired = ", ".join(f"{f / p:.2f}" for f, p in zip(floors, pipes, strict=True))
    print(f"pipeline/floor speed ratio per round (same round, back to back): {paired}")
    print("| path | median s | msgs/s | ratio |")
    print("|---|---|---|---|")
    print(f"| raw floor: tshark -T fields > /dev/null | {floor:.2f} | {floor_rate:,.0f} | 1.00x |")
    print(
        f"| pipeline: open_capture_files -> Batch tables | {pipe:.2f} | {pipe_rate:,.0f} | "
        f"{pipe_rate / floor_rate:.2f}x floor |"
    )
    print(
        f"| pyshark FileCapture loop (first {args.pyshark_frames} frames, per-message rate extrapolated) | "
        f"{py_per_msg * n_msgs:.1f} (extrapolated) | {py_rate:,.0f} | pipeline = {pipe_rate / py_rate:.0f}x |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
