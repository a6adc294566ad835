"""`spear-tui learn CAPTURE... --site NAME`: learn what is normal on this network, in one command.

Reads the captures once (optionally only `--from/--to`), learns the novelty baselines (who polls,
who writes what to which unit, client ids, topic prefixes, BACnet services) and trains the per-protocol
stacked LSTMs, and saves all of it in the site folder with a manifest. `scan/replay/live --site NAME`
then judge traffic against this network instead of the sample home.
"""

from __future__ import annotations

import argparse
import json
import sys

from spear_tui.commands._options import add_decode_as
from spear_tui.text import escape_controls


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "learn",
        help="learn a site (this network's normal traffic) from capture files",
        description="Learn novelty baselines and train the per-protocol LSTMs from captures of normal "
        "traffic, saved as a site profile ($XDG_DATA_HOME/spear-tui/sites/NAME, or a path).",
    )
    p.add_argument("files", nargs="+", metavar="CAPTURE", help="captures of normal traffic, merged by time")
    p.add_argument("--site", required=True, metavar="NAME|PATH", help="site to create or re-learn")
    p.add_argument("--from", dest="start", metavar="WHEN", help="start: ISO time, +SECONDS or frame:N")
    p.add_argument("--to", dest="end", metavar="WHEN", help="end: ISO time, +SECONDS or frame:N")
    p.add_argument("--no-lstm", action="store_true", help="learn the novelty baselines only (fast)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the LSTM training")
    p.add_argument("--json", action="store_true", help="print what was learned as JSON")
    add_decode_as(p)
    p.set_defaults(func=run)


def _progress(line: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[K{line}")
    else:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from spear_tui.site import open_site
    from spear_tui.site.learn import learn_site
    from spear_tui.site.summary import summary_lines
    from spear_tui.site.window import parse_window

    window = parse_window(args.start, args.end)
    site = open_site(args.site, create=True)
    if site.sample:
        from spear_tui.errors import UserError

        raise UserError("the sample site is the shipped models/ folder and is read-only; use --site NAME")
    summary = learn_site(
        site,
        args.files,
        window=window,
        decode_as=args.decode_as,
        lstm=not args.no_lstm,
        seed=args.seed,
        progress=_progress,
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    if args.json:
        json.dump({"site": site.name, "path": str(site.path), "learned": summary}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    n = len(site.manifest.captures)
    print(f"site {escape_controls(site.name)} learned from {n} capture(s) -> {site.path}")
    for line in summary_lines(summary):
        print("  " + escape_controls(line))
    print(f"use it: spear-tui scan FILE --site {escape_controls(args.site)}")
    return 0
