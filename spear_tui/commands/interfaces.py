"""`spear-tui interfaces`: the capture interfaces tshark can use (for `live`)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "interfaces",
        help="list capture interfaces",
        description="List the interfaces tshark/dumpcap can capture on.",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spear_tui.capture.interfaces import list_interfaces

    for i in list_interfaces():
        desc = f"  ({i.description})" if i.description else ""
        print(f"{i.index}. {i.name}{desc}")
    return 0
