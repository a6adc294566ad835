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
    g.add_argument(
        "--site",
        metavar="NAME|PATH",
        help="judge traffic against a learned site (spear-tui learn ... --site NAME); `sample` is the "
        "bundled sample home. Without --site or --model, the bundled samples use the sample site and "
        "any other input starts with a learning period (no alerts inside it)",
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


def _sample_inputs(files: list[str]) -> bool:
    """Inputs that are the sample home's own captures (the demo, sample_captures/): the sample site."""
    from spear_tui.engines.builder import samples_dir

    root = samples_dir().resolve()
    return bool(files) and all(Path(f).resolve().is_relative_to(root) for f in files)


def detector_choice(
    args: argparse.Namespace, files: list[str] | None = None, default_site: str | None = None
):
    """Which models judge the traffic: --site, --model, the sample site for the bundled samples, a
    remembered default site (live), else none: every detector learns first (an explicit period)."""
    from spear_tui.engines.builder import DetectorChoice

    if args.model is not None and not args.model.is_dir():
        raise UserError(f"--model {args.model}: not a directory of checkpoints")
    site_name = getattr(args, "site", None)
    if site_name is not None and args.model is not None:
        raise UserError("give --site or --model, not both")
    if site_name is None and args.model is None and default_site and not _sample_inputs(files or []):
        site_name = default_site
    site = None
    models = args.model
    learn = False
    if site_name is not None:
        from spear_tui.site import open_site

        site = open_site(site_name)
        models = site.path
    elif args.model is None and not _sample_inputs(files or []):
        learn = True
    return DetectorChoice(
        lstm=not args.no_lstm,
        novelty=not args.no_novelty,
        seed=args.seed,
        models=models,
        sensitivity=args.sensitivity,
        learn=learn,
        site=site,
    )
