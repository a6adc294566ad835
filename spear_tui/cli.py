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
        return int(args.func(args) or 0)
    except UserError as exc:
        print(inert_error_line(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
