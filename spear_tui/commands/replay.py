"""`spear-tui replay FILE...`: the console on capture files, at recorded timing × speed."""

from __future__ import annotations

import argparse

from spear_tui.commands._options import add_decode_as, add_detector_args, detector_choice, parse_speed
from spear_tui.commands._store_option import add_store_args, close_session_store, open_session_store


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "replay",
        help="open the console on capture files, replayed at recorded timing",
        description="Replay pcap/pcapng files (merged by time) through the detectors in the console.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="capture files")
    p.add_argument(
        "--speed", type=parse_speed, default=1.0, metavar="N|max", help="replay speed factor or 'max'"
    )
    add_max_idle(p)
    add_decode_as(p)
    add_detector_args(p)
    add_store_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return open_console(args.files, args, speed=args.speed)


def open_console(files: list[str], args: argparse.Namespace, *, speed: float | None) -> int:
    from spear_tui.console.app import run_console
    from spear_tui.engines.builder import open_source

    choice = detector_choice(args, files)
    # Opening checks every file (and tshark), so bad input fails as one line before the screen opens.
    source = open_source(files, decode_as=args.decode_as, choice=choice)
    meta = {"command": args.command or "demo", "files": list(files), "decode_as": list(args.decode_as)}
    try:
        store = open_session_store(args, source.name, meta)
    except BaseException:
        source.close()
        raise
    try:
        sinks = [store.write] if store is not None else []
        factory = engine_factory(source, choice, speed, args.decode_as, sinks, max_idle=idle_limit(args))
        return run_console(factory, source=source.name, site=choice.site)
    finally:
        close_session_store(store)


def idle_limit(args: argparse.Namespace) -> float | None:
    return args.max_idle if args.max_idle and args.max_idle > 0 else None


def add_max_idle(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-idle",
        type=float,
        default=3.0,
        metavar="S",
        help="shorten idle gaps in the capture to S wall seconds (default 3; 0 keeps recorded gaps)",
    )


def engine_factory(source, choice, speed: float | None, decode_as, sinks=(), max_idle: float | None = None):
    """Detectors (and JAX) are built inside the console's worker, so the first frame is not delayed.
    `sinks` (the session's alert store) are durable: the engine calls them before the display."""

    def factory():
        from spear_tui.engines.builder import build_engine

        return build_engine(source, choice, speed=speed, decode_as=decode_as, sinks=sinks, max_idle=max_idle)

    return factory
