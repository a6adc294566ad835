"""`spear-tui export --alert ID STORE -o OUT.pcapng`: an alert's evidence, cut from its source capture."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="write an alert's frames to a new pcapng (and its messages to CSV/Parquet)",
        description="Cut the frames of a stored alert's window (first..last frame of its capture file, "
        "as recorded in the store) into a new pcapng with editcap, and optionally write the decoded "
        "messages of that window as CSV and/or Parquet.",
    )
    p.add_argument("store", metavar="STORE", help="alert store file written by a session")
    p.add_argument("--alert", type=int, required=True, metavar="ID", help="alert id (see `spear-tui review`)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.pcapng", help="pcapng file to write")
    p.add_argument("--csv", metavar="OUT.csv", help="also write the window's messages as CSV")
    p.add_argument("--parquet", metavar="OUT.parquet", help="also write the window's messages as Parquet")
    p.add_argument("--source", metavar="CAPTURE", help="capture file to cut (if it moved since the scan)")
    p.add_argument("--force", action="store_true", help="cut even if the source changed since the scan")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spear_tui.evidence import export_alert
    from spear_tui.report.text import inert
    from spear_tui.store import open_store

    with open_store(args.store) as reader:
        ev = export_alert(
            reader, args.alert, args.output, out_csv=args.csv, out_parquet=args.parquet,
            source=args.source, force=args.force,
        )  # fmt: skip
    line = (
        f"alert {args.alert}: {ev.frames} frame(s) {ev.first_frame}..{ev.last_frame} of "
        f"{inert(ev.source)} -> {inert(Path(ev.pcapng))}"
    )
    if ev.messages is not None:
        outs = ", ".join(inert(p) for p in (args.csv, args.parquet) if p)
        line += f"; {ev.messages} message(s) -> {outs}"
    print(line)
    return 0
