"""Options shared by the commands that run the packet detectors (scan, replay, live, demo)."""

from __future__ import annotations

import argparse
from pathlib import Path

from spear_tui.errors import UserError


def add_decode_as(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--decode-as",
        action="append",
        default=[],
        metavar="RULE",
        help="tshark decode-as rule for a non-standard port, e.g. tcp.port==17501,mqtt (repeatable)",
    )


def add_detector_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("detectors")
    g.add_argument(
        "--model",
        metavar="DIR",
        type=Path,
        help="directory of checkpoints (<protocol>.msgpack, <protocol>_novelty.msgpack); default: models/",
    )
    g.add_argument("--no-lstm", action="store_true", help="do not run the stacked-LSTM detectors")
    g.add_argument("--no-novelty", action="store_true", help="do not run the novelty detectors")
    g.add_argument("--sensitivity", type=float, metavar="K", help="stacked-LSTM peak sensitivity k")
    g.add_argument("--seed", type=int, default=0, help="random seed (results are deterministic per seed)")


def parse_speed(text: str) -> float | None:
    """`max` (as fast as possible) or a positive factor of recorded timing."""
    if text.lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed must be a number or 'max', not {text!r}") from None
    if not speed > 0:
        raise argparse.ArgumentTypeError("speed must be > 0")
    return speed


def detector_choice(args: argparse.Namespace):
    from spear_tui.pipeline import DetectorChoice

    if args.model is not None and not args.model.is_dir():
        raise UserError(f"--model {args.model}: not a directory of checkpoints")
    return DetectorChoice(
        lstm=not args.no_lstm,
        novelty=not args.no_novelty,
        seed=args.seed,
        models=args.model,
        sensitivity=args.sensitivity,
    )
