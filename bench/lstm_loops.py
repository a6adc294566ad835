"""The LSTM time loops in JAX vs as native FFI calls, in one process (results: BENCHMARKS.md "Seq2seq"
and "Stacked LSTM step").

    XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
        .venv/bin/python bench/lstm_loops.py [--rounds 15]

Each program is compiled twice from the same code, once with `lstm_kernel.jax_lstm_layer` (and the XLA
options measured best for it) and once with the native loops (XLA's defaults), and the two run in
alternating order; ratios are native / JAX. Programs: the stacked LSTM's chunk program (6 x 10 units,
50 x 10 messages; 100 calls per round), a seq2seq training epoch on (100, 96, 1) at batch 25 and 100,
and seq2seq scoring of 100 days (the JAX loops in their fixed 128-day batch, the native ones in 112,
what `MeterDetector` uses for each). Also checks that both give the same numbers. At default threads
(no XLA_FLAGS) it then times the native loops splitting a call's batch over two threads against one
thread, on the seq2seq programs (`lstm_native.split_columns`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _interleaved(fns: dict, rounds: int) -> dict[str, float]:
    for f in fns.values():
        f()
    ts: dict[str, list[float]] = {k: [] for k in fns}
    items = list(fns.items())
    for r in range(rounds):
        for k, f in items if r % 2 else items[::-1]:
            t0 = time.perf_counter()
            f()
            ts[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in ts.items()}


def _variants():
    from spear_tui.detect.kernels import lstm_kernel as K

    return (("jax", K.jax_lstm_layer, K.JAX_LOOP_TRAINING_OPTIONS, K.JAX_LOOP_SCORING_OPTIONS, 128),
            ("native", K.lstm_layer, {}, {}, 112))


def stacked(rounds: int) -> None:
    import jax

    from spear_tui.detect.kernels import lstm_kernel as K
    from spear_tui.detect.lstm.stacked_lstm import LSTMConfig, StackedLSTM

    rng = np.random.default_rng(0)
    x, y = (rng.standard_normal((50, 10, 2)).astype(np.float32) for _ in range(2))
    fns, outs = {}, {}
    layer = K.lstm_layer
    try:
        for name, variant, opts, _, _ in _variants():
            K.lstm_layer = variant  # what the chunk program calls at trace time
            m = StackedLSTM(LSTMConfig(), seed=4)
            args = (m._flat, m._opt, x, y, np.ones((50, 10), np.float32), np.int32(1), np.float32(np.inf))
            c = m.traced_chunk_fn().lower(*args).compile(compiler_options=opts)
            outs[name] = jax.tree.leaves(c(*args))

            def hundred(c=c, args=args):
                for _ in range(100):
                    out = c(*args)
                jax.block_until_ready(out)

            fns[name] = hundred
    finally:
        K.lstm_layer = layer
    pairs = zip(*outs.values(), strict=True)
    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in pairs)
    m = _interleaved(fns, rounds)
    print(f"stacked chunk program    jax {m['jax'] * 10:6.3f} ms  native {m['native'] * 10:6.3f} ms  "
          f"native/jax {m['native'] / m['jax']:.2f}   (max difference of outputs {diff:.1e})")


def seq2seq(rounds: int) -> None:
    import jax
    from flax import nnx

    from spear_tui.detect.kernels import lstm_kernel as K
    from spear_tui.detect.meter.seq2seq import MeterDetector, Seq2SeqConfig, _pad_batches

    rng = np.random.default_rng(0)
    t = np.arange(96) / 96
    days = (np.sin(2 * np.pi * t)[None] + 0.1 * rng.standard_normal((100, 96))).astype(np.float32)
    layer = K.lstm_layer
    for bsz in (25, 100):
        det = MeterDetector(Seq2SeqConfig(batch_size=bsz))
        x, cal = det._inputs(days, [date(2025, 1, 1)] * 100)
        p = det._params
        idx, mask = _pad_batches(100, bsz, rng.permutation(100))
        fns, losses, recon = {}, {}, {}
        try:
            for name, variant, topts, sopts, sb in _variants():
                K.lstm_layer = variant
                epoch = det._make_epoch_fn()
                args = (p, det._tx.init(p), x[idx], cal[idx], mask)
                c = jax.jit(epoch.__wrapped__).lower(*args).compile(compiler_options=topts)
                losses[name] = float(c(*args)[2])
                fns[f"epoch {name}"] = lambda c=c, args=args: jax.block_until_ready(c(*args))
                if bsz == 25:
                    g, rest = det._graphdef, det._rest
                    row = np.arange(sb) % 100
                    s = jax.jit(lambda q, xb, cb, g=g, rest=rest: nnx.merge(g, q, rest)(xb, cb))
                    s = s.lower(p, x[row], cal[row]).compile(compiler_options=sopts)
                    xs, cs = x[row], cal[row]
                    recon[name] = np.asarray(s(p, xs, cs))[:100]
                    fns[f"score {name}"] = lambda s=s, p=p, xs=xs, cs=cs: np.asarray(s(p, xs, cs))
        finally:
            K.lstm_layer = layer
        m = _interleaved(fns, rounds)
        print(f"seq2seq epoch batch {bsz:3d}  jax {m['epoch jax'] * 1e3:6.1f} ms  native "
              f"{m['epoch native'] * 1e3:6.1f} ms  native/jax {m['epoch native'] / m['epoch jax']:.2f}   "
              f"(losses {losses['jax']:.6f} / {losses['native']:.6f})")
        if bsz == 25:
            diff = float(np.max(np.abs(recon["jax"] - recon["native"])))
            print(f"seq2seq score 100 days   jax {m['score jax'] * 1e3:6.1f} ms  native "
                  f"{m['score native'] * 1e3:6.1f} ms  native/jax {m['score native'] / m['score jax']:.2f}   "
                  f"(max difference of reconstructions {diff:.1e})")


def split(rounds: int) -> None:
    """The native loops with a call's batch split over two threads against one thread, same programs."""
    import jax

    from spear_tui.detect.kernels import lstm_native
    from spear_tui.detect.meter.seq2seq import MeterDetector, Seq2SeqConfig, _pad_batches

    rng = np.random.default_rng(0)
    t = np.arange(96) / 96
    days = (np.sin(2 * np.pi * t)[None] + 0.1 * rng.standard_normal((100, 96))).astype(np.float32)
    cases = {}
    for bsz in (25, 100):
        det = MeterDetector(Seq2SeqConfig(batch_size=bsz))
        x, cal = det._inputs(days, [date(2025, 1, 1)] * 100)
        idx, mask = _pad_batches(100, bsz, rng.permutation(100))
        epoch, p = det._make_epoch_fn(), det._params
        args = (p, det._tx.init(p), x[idx], cal[idx], mask)
        cases[f"epoch batch {bsz:3d}"] = lambda epoch=epoch, args=args: jax.block_until_ready(epoch(*args))
        if bsz == 25:
            cases["score 100 days  "] = lambda det=det, x=x, cal=cal: det._recon(x, cal)
    try:
        for name, f in cases.items():
            fns = {on: (lambda f=f, on=on: (lstm_native.split_columns(on), f())) for on in (False, True)}
            m = _interleaved(fns, rounds)
            print(f"seq2seq {name}  one thread {m[False] * 1e3:6.1f} ms  split {m[True] * 1e3:6.1f} ms  "
                  f"split/one {m[True] / m[False]:.2f}")
    finally:
        lstm_native.split_columns(True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    from spear_tui.detect.kernels.lstm_kernel import kernel_name

    if not kernel_name().startswith("native"):
        sys.exit(f"the native loops are not in use: {kernel_name()}")
    stacked(args.rounds)
    seq2seq(args.rounds)
    from spear_tui.detect.kernels import lstm_native

    if lstm_native.splitting():  # default threads: also the two-thread split against one thread
        split(args.rounds)


if __name__ == "__main__":
    main()
