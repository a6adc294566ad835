"""End-to-end `spear-tui scan` against the raw tshark floor: what a user runs, detectors on.

Records (into a temp dir, never committed) loopback captures of real MQTT clients (mosquitto +
paho-mqtt + dumpcap, the stacks bench/ingest.py uses), both above the 8 MB at which a file is split
between tshark workers: "burst" (8 clients x 30,000 publishes as fast as they go: ~560k messages, ~3
per frame, many coalesced in each TCP segment) and "paced" (8 clients x 16,000 QoS 1 publishes, each
waiting for its PUBACK: ~256k messages, ~1 per frame, a sensor's rhythm at loopback speed); `--kind`
picks one. Or takes `--capture FILE --decode-as RULE`. Then, interleaved over `--rounds` rounds,
each a fresh process:
  floor      `tshark -r FILE -n -d RULE <the pipeline's exact -T fields options> > /dev/null`
  no-lstm    `spear-tui scan --json --no-lstm --decode-as RULE FILE`
  defaults   `spear-tui scan --json --decode-as RULE FILE` (LSTMs + novelty, shipped models)
  w=N        defaults with SPEAR_TUI_TSHARK_WORKERS=N, for each N in --workers (speed-up vs cores)
and the same first three on the small recorded sample `sample_captures/mqtt_shuffle.pcapng`, where
start-up dominates (`defaults - no-lstm` there is the detectors' start-up cost).
Prints medians, min-max and speed ratios floor/variant (1.0 = as fast as tshark alone), and the CPU
seconds each used (process + everything it waited for), the figure that does not depend on the load.
Every scan runs this tree's package (`python -m spear_tui`, PYTHONPATH=this tree); `--baseline DIR`
adds the defaults run from another tree (e.g. `git archive` of an earlier commit) for an A/B.

Usage: .venv/bin/python bench/scan_e2e.py [--kind both] [--clients 8] [--messages 30000] [--rounds 5]
                                          [--workers 1,2] [--capture FILE --decode-as RULE]
                                          [--baseline DIR] [--no-small]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(1, str(ROOT))
# This tree's package, not whatever the venv's `spear-tui` script imports (a shared editable install
# may point at another checkout): `python -m spear_tui` with this tree first on the path.
SPEAR = [sys.executable, "-m", "spear_tui"]
TREE_ENV = {"PYTHONPATH": str(ROOT)}
SMALL = ROOT / "sample_captures" / "mqtt_shuffle.pcapng"


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, bytes]:
    """(wall s, CPU s of the process and everything it waited for: tshark, editcap, capinfos, stdout)."""
    env = {**os.environ, **(env or {})}
    cpu = _children_cpu()
    t = time.perf_counter()
    # cwd: `python -m` puts it first on sys.path, ahead of PYTHONPATH, so run in the tree being measured
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                          cwd=env.get("PYTHONPATH", str(ROOT)))
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return elapsed, _children_cpu() - cpu, proc.stdout


def own_sample(path: Path, tree: Path) -> Path:
    """The baseline tree's copy of a bundled sample: a tree judges its own samples with its shipped
    models (the sample site) and any other capture by learning it first."""
    return tree / path.relative_to(ROOT) if path.is_relative_to(ROOT / "sample_captures") else path


def variants(
    path: Path, rule: str | None, workers: list[int], baseline: Path | None = None
) -> dict[str, tuple[list[str], dict]]:
    from spear_tui.capture.tshark import find_tshark
    from spear_tui.protocols.fields import tshark_field_args

    dec = ["-d", rule] if rule else []
    scan = [*SPEAR, "scan", "--json", *(["--decode-as", rule] if rule else []), str(path)]
    out: dict[str, tuple[list[str], dict]] = {
        "floor": ([find_tshark(), "-r", str(path), "-n", *dec, *tshark_field_args()], {}),
        "no-lstm": ([*scan[:5], "--no-lstm", *scan[5:]], TREE_ENV),
        "defaults": (scan, TREE_ENV),
    }
    if baseline is not None:  # the same run from another source tree (e.g. `git archive` of the last commit)
        out["baseline"] = ([*scan[:-1], str(own_sample(path, baseline))], {"PYTHONPATH": str(baseline)})
    for n in workers:
        out[f"w={n}"] = (scan, {**TREE_ENV, "SPEAR_TUI_TSHARK_WORKERS": str(n)})
    return out


def frames_in(path: Path) -> int:
    from spear_tui.capture.files import file_info

    return file_info(path).packets


def messages_in(doc: bytes) -> int:
    return sum(p["messages"] for p in json.loads(doc)["protocols"].values())


def measure(
    title: str, path: Path, rule: str | None, rounds: int, workers: list[int], baseline: Path | None = None
) -> dict:
    runs = variants(path.resolve(), rule, workers, baseline.resolve() if baseline else None)
    times: dict[str, list[float]] = {k: [] for k in runs}
    cpus: dict[str, list[float]] = {k: [] for k in runs}
    for name in ("defaults", "baseline"):  # warm the page cache and JAX's caches once
        if name in runs:
            timed(*runs[name])
    docs: dict[str, bytes] = {}
    for _ in range(rounds):
        for name, (cmd, env) in runs.items():  # interleaved: drift hits every variant alike
            elapsed, cpu, out = timed(cmd, env)
            times[name].append(elapsed)
            cpus[name].append(cpu)
            if name != "floor":
                docs[name] = out
    msgs = messages_in(docs["defaults"])
    frames = frames_in(path)
    if baseline is not None:  # the same document but for where the baseline's copy of a sample is
        own = str(own_sample(path.resolve(), baseline.resolve())).encode()
        docs["baseline"] = docs["baseline"].replace(own, str(path.resolve()).encode())
    same = {k: docs[k] == docs["defaults"] for k in docs if k.startswith("w=") or k == "baseline"}
    floor = statistics.median(times["floor"])
    print(f"\n{title}: {path.name}, {path.stat().st_size / 1e6:.1f} MB, {frames} frames, {msgs} messages "
          f"({msgs / max(frames, 1):.2f} per frame), {rounds} rounds interleaved")
    floor_cpu = statistics.median(cpus["floor"])
    print(f"  {'run':<10} {'median s':>9} {'min-max s':>13} {'msgs/s':>9} {'floor/run':>10} {'CPU s':>7} "
          f"{'CPU/floor':>10}")
    for name, ts in times.items():
        med, cpu = statistics.median(ts), statistics.median(cpus[name])
        spread = f"{min(ts):>6.2f}-{max(ts):<6.2f}"
        print(f"  {name:<10} {med:>9.2f} {spread} {msgs / med:>9.0f} {floor / med:>9.2f}x {cpu:>7.2f} "
              f"{cpu / floor_cpu:>9.2f}x")
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
    ap.add_argument("--baseline", type=Path, help="also run defaults from this source tree (A/B)")
    ap.add_argument("--no-small", action="store_true", help="skip the small sample")
    ap.add_argument("--kind", choices=("burst", "paced", "both"), default="both",
                    help="what the bench records: burst (clients publish as fast as they go, ~3 messages "
                    "per frame), paced (each QoS 1 publish waits for its PUBACK, ~1 per frame), or both")
    ap.add_argument("--paced-messages", type=int, default=16000, help="publishes per client when paced")
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w]
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.capture:
            measure("big capture", args.capture, args.decode_as, args.rounds, workers, args.baseline)
        else:
            from ingest import record

            for kind in ("burst", "paced") if args.kind == "both" else (args.kind,):
                paced = kind == "paced"
                n = args.paced_messages if paced else args.messages
                path, rule = record(Path(tmp), args.clients, n, paced=paced)
                measure(f"{kind} capture", path, rule, args.rounds, workers, args.baseline)
    if not args.no_small:
        measure("small sample", SMALL, None, args.rounds, [], args.baseline)


if __name__ == "__main__":
    main()
