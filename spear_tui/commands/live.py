"""`spear-tui live -i IFACE`: the console on a live interface."""

from __future__ import annotations

import argparse

from spear_tui.commands._options import add_decode_as, add_detector_args, detector_choice
from spear_tui.commands._store_option import add_store_args, close_session_store, open_session_store


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "live",
        help="open the console on a live network interface",
        description="Capture on an interface with tshark (needs capture permission: root, or dumpcap's "
        "capabilities / the wireshark group) and run the detectors live.",
    )
    p.add_argument("-i", "--interface", required=True, metavar="IFACE", help="interface (see `interfaces`)")
    p.add_argument("--filter", metavar="BPF", help="capture filter, e.g. 'tcp port 1883 or udp port 47808'")
    add_decode_as(p)
    add_detector_args(p)
    add_store_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spear_tui.commands.replay import engine_factory
    from spear_tui.console.app import run_console
    from spear_tui.engines.builder import open_source
    from spear_tui.site.default import get_default

    choice = detector_choice(args, [], default_site=get_default())
    source = open_source(interface=args.interface, bpf=args.filter, decode_as=args.decode_as)
    meta = {
        "command": "live", "files": [args.interface], "interface": args.interface, "filter": args.filter,
        "decode_as": list(args.decode_as),
    }  # fmt: skip
    try:
        store = open_session_store(args, f"live-{args.interface}", meta)
    except BaseException:
        source.close()
        raise
    try:
        sinks = [store.write] if store is not None else []
        factory = engine_factory(source, choice, None, args.decode_as, sinks)
        return run_console(factory, source=source.name, site=choice.site)
    finally:
        close_session_store(store)
