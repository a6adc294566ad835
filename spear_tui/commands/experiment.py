"""`spear-tui experiment shuffle CAPTURE`: the paper's shuffle experiment on a real capture.

Takes one protocol's messages from the capture (first `--messages`, default 10,000), shuffles one
chunk-aligned block of 500 messages completely and, later, 50 of the 500 messages of another block
(whole messages move, with their addresses; each of the 50 lands on another one's position), runs the
online detector in each sequence mode, and reports the score series (terminal plot + SVG), the peak
height of each shuffled chunk in baseline SDs, and false alarms on the other chunks after warm-up.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spear_tui.commands.experiment_plot import terminal_plot, write_svg
from spear_tui.errors import UserError

if TYPE_CHECKING:  # numpy is imported where used: every command's start-up imports this module
    import numpy as np

MODES = ("flow", "direction", "paper")


@dataclass
class ModeResult:
    mode: str
    scores: list[float]
    thresholds: list[float | None]
    flagged: list[int]
    full_height: float
    partial_height: float
    full_flagged: bool
    partial_flagged: bool
    false_alarms: list[int]
    warmup: int
    max_normal_height: float  # highest peak of an unshuffled chunk after warm-up (false-alarm margin)


@dataclass
class ShuffleResult:
    protocol: str
    messages: int
    chunks: int
    full_at: int
    partial_at: int
    k: float
    seed: int
    modes: list[ModeResult] = field(default_factory=list)


def shuffle_block(table, start: int, size: int, count: int, rng: np.random.Generator):
    """Return `table` with `count` of the rows in [start, start+size) moved onto each other's places.

    count == size: a uniform random permutation of the block. count < size: `count` random positions
    rotated by one after a random ordering, so every chosen message really leaves its place.
    """
    import numpy as np
    import polars as pl

    idx = np.arange(table.height)
    if count >= size:
        idx[start : start + size] = start + rng.permutation(size)
    else:
        pos = start + rng.choice(size, size=count, replace=False)
        pos = pos[rng.permutation(count)]
        idx[pos] = np.roll(pos, 1)
    return table[pl.Series(idx)] if hasattr(table, "height") else table[idx]


def run_shuffle(
    table,
    protocol: str,
    *,
    modes: tuple[str, ...] = MODES,
    seed: int = 0,
    k: float | None = None,
    full_at: int | None = None,
    partial_at: int | None = None,
    partial_count: int = 50,
    config=None,
    checkpoint: Path | None = None,
    pretrain=None,
) -> ShuffleResult:
    """Shuffle two chunks of `table` and score the stream with a fresh detector per mode."""
    import numpy as np

    from spear_tui.detect.lstm import peaks
    from spear_tui.detect.lstm.online import OnlineLSTMDetector
    from spear_tui.detect.lstm.stacked_lstm import LSTMConfig

    base = config or LSTMConfig()
    n = base.chunk
    chunks = table.height // n
    if chunks < base.warmup_chunks + 4:
        raise UserError(
            f"need at least {(base.warmup_chunks + 4) * n} {protocol} messages for the experiment, "
            f"the capture has {table.height}"
        )
    full_at = full_at if full_at is not None else max(base.warmup_chunks + 2, int(chunks * 0.45))
    partial_at = partial_at if partial_at is not None else max(full_at + 3, int(chunks * 0.8))
    if not (base.warmup_chunks <= full_at < chunks and base.warmup_chunks <= partial_at < chunks):
        raise UserError(f"shuffled chunks must lie between chunk {base.warmup_chunks} and {chunks - 1}")
    rng = np.random.default_rng(seed)
    data = table.slice(0, chunks * n)
    data = shuffle_block(data, full_at * n, n, n, rng)
    data = shuffle_block(data, partial_at * n, n, partial_count, rng)
    kk = base.k if k is None else k
    result = ShuffleResult(protocol, data.height, chunks, full_at, partial_at, kk, seed)
    for mode in modes:
        cfg = LSTMConfig.from_dict({**base.to_dict(), "mode": mode, "k": kk})
        if pretrain is not None:
            det = _pretrained(pretrain, protocol, cfg, seed)
        else:
            det = OnlineLSTMDetector(protocol, cfg, seed=seed, checkpoint=checkpoint)
        if checkpoint is not None and det.cfg.mode != mode:
            continue  # a checkpoint fixes its sequence mode
        det.feed(data)
        scores = np.asarray(det.scores)
        flags, thr = peaks.flag_scores(scores, kk, **det.peak_params())
        heights = peaks.peak_heights(scores, **det.peak_params())
        flagged = [int(i) for i in np.flatnonzero(flags)]
        result.modes.append(
            ModeResult(
                mode=mode,
                scores=[float(s) for s in scores],
                thresholds=[None if np.isnan(t) else float(t) for t in thr],
                flagged=flagged,
                full_height=float(heights[full_at]),
                partial_height=float(heights[partial_at]),
                full_flagged=bool(flags[full_at]),
                partial_flagged=bool(flags[partial_at]),
                false_alarms=[i for i in flagged if i not in (full_at, partial_at)],
                warmup=cfg.warmup_chunks,
                max_normal_height=float(
                    np.nanmax([h for i, h in enumerate(heights) if i not in (full_at, partial_at)])
                ),
            )
        )
    return result


def summary_lines(res: ShuffleResult) -> list[str]:
    lines = [
        f"{res.protocol}: {res.messages} messages = {res.chunks} chunks; fully shuffled chunk {res.full_at}, "
        f"50/500 shuffled chunk {res.partial_at}; k = {res.k:g}, seed {res.seed}",
        f"{'mode':<10} {'full (SDs)':>11} {'flagged':>8} {'partial (SDs)':>14} {'flagged':>8} "
        f"{'max normal (SDs)':>17} {'false alarms':>13}",
    ]
    for m in res.modes:
        lines.append(
            f"{m.mode:<10} {m.full_height:>11.1f} {str(m.full_flagged):>8} {m.partial_height:>14.1f} "
            f"{str(m.partial_flagged):>8} {m.max_normal_height:>17.1f} {len(m.false_alarms):>6} "
            f"{m.false_alarms if m.false_alarms else ''}"
        )
    return lines


# -- CLI ---------------------------------------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("experiment", help="reproduce the paper's experiments on a capture")
    sub = p.add_subparsers(dest="experiment", metavar="EXPERIMENT", required=True)
    s = sub.add_parser("shuffle", help="shuffle two chunks of a normal capture and score them online")
    s.add_argument("capture", type=Path, help="pcap/pcapng file of normal traffic")
    s.add_argument("--protocol", default="mqtt", choices=("mqtt", "modbus", "bacnet"))
    s.add_argument("--messages", type=int, default=10_000, help="messages taken (default 10000)")
    s.add_argument("--mode", default="all", choices=(*MODES, "all"), help="sequence design (default: all)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--k", type=float, default=None, help="peak sensitivity in baseline SDs")
    s.add_argument("--full-at", type=int, default=None, help="chunk index of the fully shuffled chunk")
    s.add_argument("--partial-at", type=int, default=None, help="chunk index of the 50/500 shuffled chunk")
    s.add_argument("--decode-as", action="append", default=[], metavar="tcp.port==N,mqtt",
                   help="tshark decode-as rule for non-standard ports (repeatable)")
    s.add_argument("--checkpoint", type=Path, default=None,
                   help="start from trained weights (e.g. models/mqtt.msgpack) instead of a fresh net")
    s.add_argument("--pretrain", type=Path, default=None,
                   help="train each mode's net on this normal capture first (if it is CAPTURE itself, "
                   "only on the messages after the first --messages)")
    s.add_argument("--out", type=Path, default=None, help="write the score plot as SVG")
    s.add_argument("--json", action="store_true", help="print the results as JSON instead of text")
    s.set_defaults(func=run)

    t = sub.add_parser("train", help="train a detector on normal traffic and save a checkpoint (models/)")
    t.add_argument("capture", type=Path, help="pcap/pcapng file of normal traffic")
    t.add_argument("--protocol", default="mqtt", choices=("mqtt", "modbus", "bacnet"))
    t.add_argument("--out", type=Path, required=True, help="checkpoint to write (.msgpack)")
    t.add_argument("--skip", type=int, default=0, help="leave the first N messages out (held out for tests)")
    t.add_argument("--epochs", type=int, default=4, help="passes over the training messages (default 4)")
    t.add_argument("--steps", type=int, default=10, help="Adam steps per chunk while training (default 10)")
    t.add_argument("--mode", default="flow", choices=MODES)
    t.add_argument("--rhythm", action="store_true",
                   help="add the per-talker rhythm feature (BENCHMARKS.md: 'Shuffle experiment on "
                   "recorded clients')")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--decode-as", action="append", default=[], metavar="tcp.port==N,mqtt")
    t.set_defaults(func=run_train)

    i = sub.add_parser("incidents", help="score a labelled incident capture: peak height per incident")
    i.add_argument("capture", type=Path, help="incident capture (pcap/pcapng)")
    i.add_argument("--labels", type=Path, default=None, help="labels JSON (default: NAME.labels.json)")
    i.add_argument("--protocol", default="mqtt", choices=("mqtt", "modbus", "bacnet"))
    i.add_argument("--mode", default="all", choices=(*MODES, "all"))
    i.add_argument("--pretrain", type=Path, default=None,
                   help="normal capture to train each mode's net on first (as `experiment train` does)")
    i.add_argument("--checkpoint", type=Path, default=None, help="start from this checkpoint instead")
    i.add_argument("--k", type=float, default=None)
    i.add_argument("--rhythm", action="store_true",
                   help="add the per-talker rhythm feature (with --pretrain)")
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--decode-as", action="append", default=[], metavar="tcp.port==N,mqtt")
    i.set_defaults(func=run_incidents)


def score_incidents(table, incidents: list[dict], protocol: str, *, mode: str, seed: int, k: float | None,
                    checkpoint: Path | None = None, pretrain=None, timing: bool = False,
                    trim: float | None = None) -> dict:
    """Run one detector over a labelled capture; per incident, the highest peak (baseline SDs) among
    the chunks overlapping its time window and whether any was flagged; false alarms elsewhere."""
    import numpy as np

    from spear_tui.detect.lstm import peaks
    from spear_tui.detect.lstm.decision import REVIEW_AFTER
    from spear_tui.detect.lstm.online import OnlineLSTMDetector
    from spear_tui.detect.lstm.stacked_lstm import LSTMConfig

    extra: dict = {"timing": True, "features": 3} if timing else {}
    if trim is not None:
        extra["trim"] = trim
    cfg = LSTMConfig(mode=mode, **extra) if k is None else LSTMConfig(mode=mode, k=k, **extra)
    if pretrain is not None:
        det = _pretrained(pretrain, protocol, cfg, seed)
    else:
        det = OnlineLSTMDetector(protocol, cfg, seed=seed, checkpoint=checkpoint)
    events = det.feed(table)
    events += det.flush()  # end of source: the warm-up review judges the first chunks (a trained net)
    chunks = [e for e in events if type(e).__name__ == "ChunkScored"]
    scores = np.asarray(det.scores)
    heights = peaks.peak_heights(scores, **det.peak_params())
    flags, _ = peaks.flag_scores(scores, det.sensitivity, **det.peak_params())
    warm = min(det.cfg.warmup_chunks, len(scores))
    first = scores[: REVIEW_AFTER * det.cfg.warmup_chunks]
    base = None if det.baseline_skip else peaks.warmup_baseline(first)
    if base is not None:  # the detector's warm-up review: those chunks against the run's first scores
        med, dev = base
        heights[:warm] = (scores[:warm] - med) / dev
        flags = np.array(flags, dtype=bool)
        flags[:warm] = scores[:warm] > med + det.sensitivity * dev
    mine = [inc for inc in incidents if inc.get("protocol", protocol) == protocol]
    hit: set[int] = set()
    rows = []
    for inc in mine:
        idx = [c.index for c in chunks if c.end >= inc["start"] and c.start <= inc["end"]]
        hit.update(idx)
        hs = [heights[i] for i in idx if not np.isnan(heights[i])]
        rows.append({
            "kind": inc.get("kind", "?"), "chunks": idx,
            "height": float(max(hs)) if hs else float("nan"),
            "flagged": bool(any(flags[i] for i in idx)),
        })
    false = [int(i) for i in np.flatnonzero(flags) if int(i) not in hit]
    normal = [heights[i] for i in range(len(scores)) if i not in hit and not np.isnan(heights[i])]
    return {"mode": det.cfg.mode, "chunks": len(scores), "incidents": rows, "false_alarms": false,
            "max_normal_height": float(max(normal)) if normal else float("nan"), "k": det.sensitivity}


def run_incidents(args: argparse.Namespace) -> int:
    labels = args.labels or args.capture.with_name(args.capture.name.split(".")[0] + ".labels.json")
    try:
        incidents = json.loads(labels.read_text(encoding="utf-8")).get("incidents", [])
    except (OSError, ValueError, AttributeError) as exc:
        raise UserError(f"cannot read labels {labels}: {exc}") from None
    from spear_tui.detect.lstm.stacked_lstm import configure_xla

    configure_xla()
    table = load_messages(args.capture, args.protocol, 10**12, args.decode_as)
    normal = None
    if args.pretrain is not None:
        normal = load_messages(args.pretrain, args.protocol, 10**12, args.decode_as)
    modes = MODES if args.mode == "all" else (args.mode,)
    print(f"{args.capture.name}: {table.height} {args.protocol} messages")
    for mode in modes:
        r = score_incidents(table, incidents, args.protocol, mode=mode, seed=args.seed, k=args.k,
                            checkpoint=args.checkpoint, pretrain=normal, timing=args.rhythm)
        false = r["false_alarms"]
        print(f"mode {r['mode']}: {r['chunks']} chunks, k={r['k']:g}, highest normal peak "
              f"{r['max_normal_height']:.1f} SDs, false alarms {len(false)} {false or ''}")
        for row in r["incidents"]:
            print(f"  {row['kind']:<20} chunks {row['chunks']}: peak {row['height']:.1f} SDs, "
                  f"{'flagged' if row['flagged'] else 'not flagged'}")
        if args.checkpoint is not None:
            break
    return 0


def train_offline(
    table, protocol: str, *, epochs: int, steps: int, mode: str, seed: int, timing: bool = False,
    trim: float | None = None, progress=None,
):
    """Train a fresh detector on normal messages: `epochs` passes, `steps` Adam steps per chunk, no
    gate (everything is normal by assumption). Returns the detector and the mean score per epoch;
    `progress(epoch, mean_score)` is called after each epoch (`spear-tui learn` shows it)."""
    import numpy as np

    from spear_tui.detect.lstm.online import OnlineLSTMDetector
    from spear_tui.detect.lstm.stacked_lstm import LSTMConfig

    extra: dict[str, Any] = {} if trim is None else {"trim": trim}
    cfg = LSTMConfig(
        mode=mode, steps=steps, warmup_train=0, gate=False, timing=timing, features=2 + int(timing), **extra
    )
    det = OnlineLSTMDetector(protocol, cfg, seed=seed)
    per_epoch: list[float] = []
    chunks = table.height // cfg.chunk
    if chunks < 1:
        raise UserError(f"need at least {cfg.chunk} {protocol} messages to train, got {table.height}")
    for _ in range(epochs):
        det.feed(table.slice(0, chunks * cfg.chunk))
        per_epoch.append(float(np.mean(det.scores[-chunks:])))
        if progress is not None:
            progress(len(per_epoch), per_epoch[-1])
    det.ref_score = per_epoch[-1]
    return det, per_epoch


def _pretrained(table, protocol: str, cfg, seed: int):
    """A detector trained like the shipped models (`experiment train`), then set to run-time `cfg`."""
    det, _ = train_offline(table, protocol, epochs=4, steps=10, mode=cfg.mode, seed=seed, timing=cfg.timing,
                           trim=cfg.trim)
    det.run_as_trained(cfg)
    return det


def run_train(args: argparse.Namespace) -> int:
    if args.epochs < 1 or args.steps < 1 or args.skip < 0:
        raise UserError("--epochs and --steps must be >= 1, --skip >= 0")
    from spear_tui.detect.lstm.stacked_lstm import configure_xla

    configure_xla()
    table = load_messages(args.capture, args.protocol, 10**12, args.decode_as).slice(args.skip)
    det, per_epoch = train_offline(table, args.protocol, epochs=args.epochs, steps=args.steps,
                                   mode=args.mode, seed=args.seed, timing=args.rhythm)
    # Shipped with run-time defaults: online steps/lr and the training gate back on.
    from spear_tui.detect.lstm.stacked_lstm import LSTMConfig

    det.cfg = LSTMConfig.from_dict({**LSTMConfig().to_dict(), "mode": args.mode, "timing": args.rhythm,
                                    "features": 2 + int(args.rhythm)})
    try:
        det.save(args.out)
    except OSError as exc:
        raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    losses = ", ".join(f"{v:.4f}" for v in per_epoch)
    print(f"{args.protocol}: trained on {table.height} messages (skipped {args.skip}), {args.epochs} epochs"
          f" x {args.steps} steps/chunk; mean loss per epoch: {losses}")
    print(f"checkpoint written to {args.out}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.out is not None and args.out.suffix.lower() != ".svg":
        raise UserError(f"--out {args.out}: only .svg is supported (matplotlib is not a dependency)")
    if args.messages < 1:
        raise UserError("--messages must be positive")
    from spear_tui.detect.lstm.stacked_lstm import configure_xla

    configure_xla()
    table = load_messages(args.capture, args.protocol, args.messages, args.decode_as)
    modes = MODES if args.mode == "all" else (args.mode,)
    normal = None
    if args.pretrain is not None:
        normal = load_messages(args.pretrain, args.protocol, 10**12, args.decode_as)
        if args.pretrain.resolve() == args.capture.resolve():
            normal = normal.slice(args.messages)
    res = run_shuffle(table, args.protocol, modes=modes, seed=args.seed, k=args.k,
                      full_at=args.full_at, partial_at=args.partial_at, checkpoint=args.checkpoint,
                      pretrain=normal)
    if args.out is not None:
        try:
            write_svg(res, args.out)
        except OSError as exc:
            raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    if args.json:
        from dataclasses import asdict

        json.dump(asdict(res), sys.stdout)
        sys.stdout.write("\n")
        return 0
    for m in res.modes:
        print(f"mode {m.mode}: loss per chunk (before training on it)")
        print(terminal_plot(res, m))
        print()
    print("\n".join(summary_lines(res)))
    if args.out is not None:
        print(f"plot written to {args.out}")
    return 0


def load_messages(path: Path, protocol: str, limit: int, decode_as: list[str]):
    """The first `limit` messages of one protocol from a capture file, via the capture pipeline."""
    if not path.is_file():
        raise UserError(f"{path}: no such capture file")
    import polars as pl

    from spear_tui.capture.source import open_capture_files  # the project's tshark -T fields pipeline

    source = open_capture_files([path], decode_as=decode_as)
    parts: list[pl.DataFrame] = []
    got = 0
    for batch in source.batches():
        t = batch.tables.get(protocol)
        if t is not None and t.height:
            parts.append(t)
            got += t.height
            if got >= limit:
                break
    close = getattr(source, "close", None)
    if close is not None:
        close()
    if not parts:
        raise UserError(f"{path}: no {protocol} messages found")
    return pl.concat(parts, how="diagonal_relaxed").slice(0, limit)
