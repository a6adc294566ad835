"""`spear-tui demo` (and `spear-tui` with no command): the console on the bundled incident samples,
replayed at recorded timing (idle gaps between the captures shortened) with the shipped models: the
first alerts (a BACnet Who-Is storm, DeviceCommunicationControl from an unknown host) show after about
two and a half minutes; `--speed 4` shows them within the first minute."""

from __future__ import annotations

import argparse

from spear_tui.commands._options import add_detector_args, parse_speed
from spear_tui.commands._store_option import add_store_args

DEMO_CAPTURES = (
    "mqtt_shuffle.pcapng",
    "mqtt_incidents.pcapng",
    "modbus_incidents.pcapng",
    "bacnet_incidents.pcapng",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="open the console on the bundled sample captures (the default with no command)",
        description="Replay the bundled incident captures (MQTT shuffle/flood/wildcard, Modbus scan/"
        "writes/exceptions, BACnet storms) through the shipped models.",
    )
    p.add_argument("--speed", type=parse_speed, default=1.0, metavar="N|max", help="replay speed or 'max'")
    from spear_tui.commands.replay import add_max_idle

    add_max_idle(p)
    add_detector_args(p)
    add_store_args(p)
    p.set_defaults(func=run, decode_as=[])


def demo_files() -> list[str]:
    from spear_tui.engines.builder import samples_dir
    from spear_tui.errors import UserError

    files = [samples_dir() / name for name in DEMO_CAPTURES]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise UserError(f"bundled sample missing: {missing[0]} (run from a full checkout)")
    return [str(f) for f in files]


def run(args: argparse.Namespace) -> int:
    from spear_tui.commands.replay import open_console

    return open_console(demo_files(), args, speed=args.speed)
