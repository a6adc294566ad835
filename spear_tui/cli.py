"""Entry point: `spear-tui [COMMAND] ...`.

Each subcommand lives in `spear_tui.commands.<name>` and exposes `register(subparsers)`, which adds
its parser and sets `func=run` (run(args) -> exit code). Command modules import heavy libraries
(JAX, pyshark, Textual) inside `run`, so `--help` and start-up stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from spear_tui import __version__
from spear_tui.errors import UserError
from spear_tui.logs import inert_error_line, setup_logging

# Order is the order shown in --help.
COMMANDS: tuple[str, ...] = (
    "demo",
    "replay",
    "live",
    "scan",
    "learn",
    "site",
    "interfaces",
    "meter",
    "meter_sim",
    "review",
    "export",
    "experiment",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spear-tui",
        description="Anomaly-detection console for MQTT, Modbus/TCP, BACnet/IP and smart meters. "
        "With no command, opens a demo on the bundled samples.",
    )
    parser.add_argument("--version", action="version", version=f"spear-tui {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"spear_tui.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv and "demo" in COMMANDS:
        argv = ["demo"]
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    setup_logging()
    try:
        code = int(args.func(args) or 0)
    except UserError as exc:
        print(inert_error_line(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    if _WHOLE_PROCESS and getattr(args, "end_at_once", False):
        end_process(code)
    return code


_WHOLE_PROCESS = False  # main() is the whole process (`entry`), not a call from a test or another tool


def whole_process() -> bool:
    """Whether `main` is the whole process (`entry`): what may change process-wide state for good."""
    return _WHOLE_PROCESS


def entry() -> None:
    """The `spear-tui` program and `python -m spear_tui`."""
    global _WHOLE_PROCESS
    _WHOLE_PROCESS = True
    sys.exit(main())


def end_process(code: int) -> None:
    """End the process now, without Python's teardown: for a headless command (`end_at_once`) whose
    outputs are all written and closed. Tearing down XLA's client and the interpreter's modules took
    ~0.25 s of every scan's wall time (BENCHMARKS.md "End-to-end scan"); what must not be skipped is
    done here: stdout and the log flushed, tools we started stopped."""
    import logging
    import os

    prestart = sys.modules.get("spear_tui.capture.prestart")
    if prestart is not None:
        prestart.discard()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing more can reach it anyway
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
