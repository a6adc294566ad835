"""Stacked LSTM 6x10 on (50, 10, 2): median ms per Adam training step, JAX (this project) vs the same
network in PyTorch on CPU, interleaved; and sustained msgs/s of the online detector alone.

    .venv/bin/python bench/model_step.py            # both XLA thread settings, each in a child process
    .venv/bin/python bench/model_step.py --threads 1 --child

Needs the bench extra for the comparison: .venv/bin/pip install torch==2.13.0 (skipped if missing).
Ratios are against PyTorch measured in the same process, alternating blocks of steps, so machine load
(shared 2-core box) hits both sides alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(threads: int, rounds: int, block: int, stream_messages: int, capture: Path) -> dict:
    from spear_tui.detect.lstm.stacked_lstm import LSTMConfig, StackedLSTM, configure_xla

    configure_xla(threads)
    import jax
    import numpy as np

    # Sustained detector throughput first, before torch is imported: its OpenMP threads spin after
    # each op and took CPU from XLA (measured: 156k msgs/s after the torch block vs 230k without).
    # The shipped MQTT model on the normal sample's messages, repeated.
    stream = None
    sample = capture
    if sample.exists() and stream_messages > 0:
        import polars as pl

        from spear_tui.commands.experiment import load_messages
        from spear_tui.detect.lstm.chunk_batch import ChunkBatch
        from spear_tui.detect.lstm.features import prepare
        from spear_tui.detect.lstm.online import OnlineLSTMDetector
        from spear_tui.detect.lstm.stacked_lstm import GROUP_CHUNKS, ChunkGroup

        base = load_messages(sample, "mqtt", 10**9, [])
        reps = -(-stream_messages // base.height)
        table = pl.concat([base] * reps).slice(0, stream_messages)
        det = OnlineLSTMDetector("mqtt", seed=0, checkpoint=ROOT / "models" / "mqtt.msgpack")
        det.model.compile()
        det.feed(base.slice(0, 1000))
        runs = []
        for lo in range(0, table.height, 20_000):  # the capture pipeline's batch size
            part = table.slice(lo, 20_000)
            t, c = time.perf_counter(), time.process_time()
            det.feed(part)
            runs.append((part.height, time.perf_counter() - t, time.process_time() - c))
        total = sum(r[0] for r in runs) / sum(r[1] for r in runs)
        # The ceiling: the same compiled group program queued back to back on full groups of one
        # chunk's tensors, no Python between calls. detector / ceiling says how much of it the
        # detector's own work costs, and is steadier than msgs/s on a machine whose speed drifts.
        chunk = det._tensors(ChunkBatch(prepare(base.slice(0, 500), "mqtt"), 500, det.cfg.mode), 0, 500)
        group = ChunkGroup.of(det.cfg, [(chunk.x, chunk.y, None)] * GROUP_CHUNKS, [1] * GROUP_CHUNKS,
                              [float("inf")] * GROUP_CHUNKS)
        calls = 400 // GROUP_CHUNKS
        t = time.perf_counter()
        for _ in range(calls):
            out = det.model.dispatch_group(group)
        np.asarray(out)
        ceiling = calls * GROUP_CHUNKS * 500 / (time.perf_counter() - t)
        stream = {"messages": table.height, "msgs_per_s": total,
                  "msgs_per_cpu_s": sum(r[0] for r in runs) / sum(r[2] for r in runs),
                  "median_batch_msgs_per_s": statistics.median(r[0] / r[1] for r in runs),
                  "ceiling_msgs_per_s": ceiling}

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 10, 2)).astype(np.float32)
    y = rng.normal(size=(50, 10, 2)).astype(np.float32)
    model = StackedLSTM(LSTMConfig(), seed=0)
    step = model.train_step_fn()
    t0 = time.perf_counter()
    p, o, loss = step(model.params, model.opt_state, x, y)
    jax.block_until_ready(loss)
    compile_s = time.perf_counter() - t0

    def jax_block() -> float:
        nonlocal p, o
        t = time.perf_counter()
        for _ in range(block):
            p, o, loss = step(p, o, x, y)
        jax.block_until_ready(loss)
        return (time.perf_counter() - t) / block * 1e3

    torch_block = None
    try:
        import torch

        torch.manual_seed(0)
        torch.set_num_threads(threads)

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = torch.nn.LSTM(2, 10, num_layers=6, batch_first=True)  # full sequences between
                self.out = torch.nn.Linear(10, 2)  # time-distributed dense

            def forward(self, v):
                return self.out(self.lstm(v)[0])

        net = Net()
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)

        def torch_step():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(tx), ty)
            loss.backward()
            opt.step()

        for _ in range(5):
            torch_step()

        def torch_block() -> float:
            t = time.perf_counter()
            for _ in range(block):
                torch_step()
            return (time.perf_counter() - t) / block * 1e3
    except ImportError:
        pass

    jax_ms, torch_ms = [], []
    for _ in range(rounds):
        jax_ms.append(jax_block())
        if torch_block is not None:
            torch_ms.append(torch_block())

    return {
        "threads": threads,
        "compile_s": compile_s,
        "jax_ms": statistics.median(jax_ms),
        "torch_ms": statistics.median(torch_ms) if torch_ms else None,
        "pairs": [j / t for j, t in zip(jax_ms, torch_ms, strict=False)] if torch_ms else [],
        "stream": stream,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=None, help="XLA/torch threads (default: run 1 and 2)")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--block", type=int, default=40, help="steps per timed block")
    ap.add_argument("--stream-messages", type=int, default=200_000)
    ap.add_argument("--capture", type=Path, default=ROOT / "sample_captures" / "normal.pcapng.gz",
                    help="normal capture whose MQTT messages feed the throughput run")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.threads or 1, a.rounds, a.block, a.stream_messages, a.capture)))
        return 0
    results = []
    for threads in ([a.threads] if a.threads else [1, 2]):
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--threads", str(threads), "--rounds", str(a.rounds),
             "--block", str(a.block), "--stream-messages", str(a.stream_messages),
             "--capture", str(a.capture)],
            capture_output=True, text=True, check=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    print("| threads (XLA = torch) | JAX ms/step | PyTorch ms/step | JAX/PyTorch (median of pairs) | "
          "first call s | detector msgs/s (wall) | detector msgs per CPU-second | chunk program alone msgs/s "
          "| detector / program alone |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        ratio = statistics.median(r["pairs"]) if r["pairs"] else float("nan")
        torch_ms = f"{r['torch_ms']:.2f}" if r["torch_ms"] else "n/a"
        st = r["stream"]
        msgs = (f"{st['msgs_per_s']:,.0f} | {st['msgs_per_cpu_s']:,.0f} | {st['ceiling_msgs_per_s']:,.0f} | "
                f"{st['msgs_per_s'] / st['ceiling_msgs_per_s']:.2f}" if st else "n/a | n/a | n/a | n/a")
        print(f"| {r['threads']} | {r['jax_ms']:.2f} | {torch_ms} | {ratio:.2f}x | "
              f"{r['compile_s']:.2f} | {msgs} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
