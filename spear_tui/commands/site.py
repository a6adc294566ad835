"""`spear-tui site list|show|accept|unaccept|default`: look after site profiles.

`accept ALERT_ID` takes an alert from an alert store (a scan's --store, or a console session's store)
and adds what it showed (the master->unit write, client id, topic prefix, BACnet service) to the
site's baseline, recorded in the manifest with who and when; the next occurrence does not alert.
`unaccept` takes it out again.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from spear_tui.errors import UserError
from spear_tui.text import escape_controls


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("site", help="site profiles: list, show, accept an alert as normal, default")
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("list", help="the sites learned on this machine").set_defaults(func=run_list)
    s = sub.add_parser("show", help="what a site was learned from and what was accepted")
    s.add_argument("--site", required=True, metavar="NAME|PATH")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run_show)
    a = sub.add_parser("accept", help="accept an alert (from an alert store) as normal on the site")
    a.add_argument("alert", type=int, metavar="ALERT_ID", help="alert id in the store (see `review`)")
    a.add_argument("--site", required=True, metavar="NAME|PATH")
    a.add_argument("--store", metavar="FILE.db", help="alert store (default: the latest console session)")
    a.set_defaults(func=run_accept)
    u = sub.add_parser("unaccept", help="undo an accept: the alert's tuples leave the baseline")
    u.add_argument("alert", metavar="ID", help="ALERT_ID (with --store) or the id `site show` lists")
    u.add_argument("--site", required=True, metavar="NAME|PATH")
    u.add_argument("--store", metavar="FILE.db", help="alert store the id refers to")
    u.set_defaults(func=run_unaccept)
    d = sub.add_parser("default", help="remember the site `live` uses without --site (none: forget)")
    d.add_argument("site", nargs="?", metavar="NAME|PATH|none")
    d.set_defaults(func=run_default)
    p.set_defaults(func=lambda _a: (p.print_help(), 2)[1])


def run_list(args: argparse.Namespace) -> int:
    from spear_tui.site.default import get_default
    from spear_tui.site.paths import site_names

    default = get_default()
    for name in site_names():
        print(f"{name}{'  (default for live)' if name == default else ''}")
    return 0


def _utc(t: float | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def run_show(args: argparse.Namespace) -> int:
    from spear_tui.site import open_site
    from spear_tui.site.summary import summary_lines

    site = open_site(args.site)
    m = site.manifest
    if args.json:
        json.dump({"site": site.name, "path": str(site.path), **m.to_json()}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"site {escape_controls(site.name)}: {site.path}")
    if site.sample and m.learned is None:
        print("  the bundled sample home's models (sample_captures/normal.pcapng.gz; see the model cards)")
    else:
        print(
            f"  learned {_utc(m.learned)} from {len(m.captures)} capture(s), "
            f"capture time {_utc(m.start)} .. {_utc(m.end)}"
        )
    for c in m.captures:
        print(f"    {escape_controls(c)}")
    for line in summary_lines(m.learned_items):
        print("  " + escape_controls(line))
    models = [p.name for p in sorted(site.path.glob("*.msgpack"))]
    print(f"  models: {', '.join(models) or 'none'}")
    for card in site.cards():
        print(f"  model card: {card}")
    print(f"  accepted as normal: {len(m.accepted)}")
    for a in m.accepted:
        print(
            f"    {escape_controls(a.id)}  {a.protocol}  by {escape_controls(a.who)} {_utc(a.when)}: "
            f"{escape_controls(a.reason)}"
        )
    return 0


def _store_path(args: argparse.Namespace):
    from pathlib import Path

    if args.store:
        return Path(args.store)
    from spear_tui.commands._store_option import sessions_dir

    found = sorted(sessions_dir().glob("*.db"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise UserError("no --store given and no console session stores found")
    return found[-1]


def run_accept(args: argparse.Namespace) -> int:
    from spear_tui.site import open_site
    from spear_tui.site.accept import accept_alert, store_key
    from spear_tui.store import open_store

    site = open_site(args.site)
    path = _store_path(args)
    with open_store(path) as reader:
        record = reader.alert(args.alert)
    item = accept_alert(site, record.alert, store_key(path, args.alert))
    n = sum(len(v) for v in item.adds.values())
    print(
        f"accepted alert {args.alert} as normal on site {escape_controls(site.name)} ({n} baseline row(s)); "
        f"undo: spear-tui site unaccept {args.alert} --store {escape_controls(str(path))} "
        f"--site {escape_controls(args.site)}"
    )
    return 0


def run_unaccept(args: argparse.Namespace) -> int:
    from spear_tui.site import open_site
    from spear_tui.site.accept import store_key, unaccept

    site = open_site(args.site)
    key = store_key(_store_path(args), int(args.alert)) if args.store and args.alert.isdigit() else args.alert
    item = unaccept(site, key)
    print(f"no longer accepted on site {escape_controls(site.name)}: {escape_controls(item.reason)}")
    return 0


def run_default(args: argparse.Namespace) -> int:
    from spear_tui.site.default import get_default, set_default

    if args.site is None:
        print(get_default() or "none")
        return 0
    set_default(None if args.site == "none" else args.site)
    print(f"live uses site {args.site} by default" if args.site != "none" else "no default site for live")
    return 0
