"""`spear-tui meter-sim FILE`: serve a meter file as a live Modbus/TCP smart meter at accelerated time."""

from __future__ import annotations

import argparse
import datetime as dt

from spear_tui.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "meter-sim",
        help="serve a meter file as a live Modbus/TCP meter (accelerated time)",
        description="Serve a meter file (CSV or Parquet) as a Modbus/TCP smart meter: each request sees the "
        "row that is 'now' on a clock running --speed times faster than real time, encoded with a register "
        "map. Gaps in the file answer with a Modbus exception, like a meter that stopped responding. The "
        "row's time is also served as a u32 (epoch seconds) at address 65280.",
    )
    p.add_argument("file", help="meter file (CSV or Parquet)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5020, help="TCP port (default 5020; 0 picks a free one)")
    p.add_argument(
        "--speed",
        type=float,
        default=900.0,
        help="simulated seconds per real second (default 900: one 15-minute sample a second)",
    )
    p.add_argument(
        "--map",
        default="sdm630",
        dest="regmap",
        help="register map: a built-in name (sdm630, generic) or a TOML file (default sdm630)",
    )
    p.add_argument("--unit", type=int, default=None, help="Modbus unit id (default: the map's)")
    p.add_argument(
        "--start", default=None, help="start at this date/time of the file (ISO; default: first row)"
    )
    p.add_argument("--tz", default=None, help="time zone of naive timestamps in the file (default UTC)")
    p.add_argument("--timestamp", default=None, help="name of the timestamp column (default: detected)")
    p.set_defaults(func=run)


def _start(text: str | None, tz: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        start = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--start: not an ISO date/time: {text!r}") from None
    if start.tzinfo is None:
        from zoneinfo import ZoneInfo

        start = start.replace(tzinfo=ZoneInfo(tz) if tz else dt.UTC)
    return start


def run(args: argparse.Namespace) -> int:
    import asyncio

    from spear_tui.meter.files import read_meter_file
    from spear_tui.meter.registers import load_map
    from spear_tui.meter.sim import MeterSimulator, serve

    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be 0..65535, got {args.port}")
    if args.unit is not None and not 0 <= args.unit <= 255:
        raise UserError(f"--unit must be 0..255, got {args.unit}")
    regmap = load_map(args.regmap)
    series = read_meter_file(args.file, timestamp=args.timestamp, tz=args.tz)
    if series.bad_rows:
        print(f"meter-sim: skipped {series.bad_rows} unreadable rows")
    sim = MeterSimulator(
        series, regmap, speed=args.speed, start=_start(args.start, args.tz), unit_id=args.unit
    )
    try:
        asyncio.run(serve(sim, args.host, args.port, announce=lambda line: print(line, flush=True)))
    except KeyboardInterrupt:
        pass
    print(f"meter-sim: stopped after {sim.requests} requests ({sim.refused} refused in gaps)")
    return 0
