"""`spear-tui meter FILE | --modbus HOST:PORT`: the console's meter screen on a MeterEngine.

Everything that can fail on user input (file, time zone, model, register map, address, training range)
is checked here, before the screen opens, so a bad file is one `spear-tui: error:` line and exit 2. Only
the model itself (JAX) is built in the console's worker, so the first frame is not delayed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spear_tui.commands.meter import check_model_args, pick_measurement, session_meta, training_plan
from spear_tui.errors import UserError

if TYPE_CHECKING:
    from spear_tui.engines.meter import MeterEngine
    from spear_tui.engines.outbox import Sink


def shipped_models(models: Path | None = None) -> list[Path]:
    from spear_tui.engines.builder import models_dir

    return sorted((models or models_dir()).glob("meter*.msgpack"))


def checkpoint_info(path: str | Path) -> tuple[int, str]:
    """(samples_per_day, measurement) of a seq2seq checkpoint, read without JAX; UserError if unusable."""
    from spear_tui.detect.lstm.checkpoint import load_checkpoint

    ck = load_checkpoint(path, "seq2seq")
    try:
        spd = int(ck.config.get("samples_per_day", 96))
    except (TypeError, ValueError, AttributeError):
        raise UserError(f"{path} is not a usable seq2seq checkpoint (bad config)") from None
    return spd, str(ck.extra.get("measurement", "value"))


def _model_for(args: argparse.Namespace, available: list[str]) -> tuple[Path | None, int, str]:
    """(model path or None = train, samples per day, measurement)."""
    training = args.train_from is not None or args.train_to is not None or bool(args.exclude)
    if args.model and training:
        raise UserError("--model scores with a saved model; drop --train-from/--train-to/--exclude")
    if args.model:
        spd, meas = checkpoint_info(args.model)
        return Path(args.model), spd, pick_measurement(available, args.measurement or meas)
    if training:
        return None, args.samples_per_day, pick_measurement(available, args.measurement)
    wanted = pick_measurement(available, args.measurement)
    site_models = None
    if getattr(args, "site", None):
        from spear_tui.site import open_site

        site_models = open_site(args.site).path
    for path in shipped_models(site_models):
        spd, meas = checkpoint_info(path)
        if meas == wanted:
            return path, spd, wanted
    return None, args.samples_per_day, wanted  # no shipped model for it: train on every complete day


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not sep or not host or not 0 < number < 65536:
        raise UserError(f"--modbus wants HOST:PORT (e.g. 127.0.0.1:5020), got {text!r}")
    return host.strip("[]"), number


def prepare(
    args: argparse.Namespace, sinks: Sequence[Sink] = (), meta: dict[str, Any] | None = None
) -> tuple[Callable[[], MeterEngine], str, str]:
    """Check the input and return (engine factory, source name, measurement); `sinks` are durable
    (the session's store), `meta` is filled with what the store records of the session."""
    from spear_tui.engines.meter import LiveMeter, MeterEngine

    rule = check_model_args(args)
    common: dict[str, Any] = {"rule": rule, "save_model": args.save_model, "sinks": sinks}
    if args.modbus:
        from spear_tui.meter.registers import load_map
        from spear_tui.meter.sim import SIM_CLOCK_ADDRESS

        host, port = _host_port(args.modbus)
        if not args.interval > 0:
            raise UserError("--interval must be positive")
        if args.unit is not None and not 0 <= args.unit <= 255:
            raise UserError(f"--unit must be 0..255, got {args.unit}")
        regmap = load_map(args.regmap)
        model, _, measurement = _model_for(args, list(regmap.measurements))
        if model is None:
            raise UserError("live meter mode scores with a saved model: give --model PATH")
        meter = LiveMeter(
            host, port, regmap, interval=args.interval, tz=args.tz, unit_id=args.unit,
            clock_address=SIM_CLOCK_ADDRESS if args.sim_clock else None,
        )
        if meta is not None:
            meta.update(session_meta(args, "meter", measurement, model, None))
        return (lambda: MeterEngine.live(meter, measurement, model=model, **common)), meter.name, measurement

    from spear_tui.meter.days import to_days
    from spear_tui.meter.files import read_meter_file

    series = read_meter_file(args.target, timestamp=args.timestamp, tz=args.tz)
    # the model decides the day length, so read its header (cheap, no JAX) before cutting days
    model, spd, measurement = _model_for(args, list(series.measurements))
    days = to_days(series, samples_per_day=spd, tz=args.tz)
    plan = None if model is not None else training_plan(args, days)
    source = str(args.target)
    if meta is not None:
        meta.update(session_meta(args, "meter", measurement, model, source))

    def factory() -> MeterEngine:
        return MeterEngine.from_days(
            days, measurement, source=source, model=model, train=plan, speed=args.speed, **common
        )

    return factory, source, measurement


def with_saved_threshold(
    factory: Callable[[], MeterEngine], settings: Any, measurement: str
) -> Callable[[], MeterEngine]:
    """The slider's persisted value for this measurement's model (console settings) is applied to the
    engine before its first day, so the engine's flags agree with the restored slider from the start."""
    from spear_tui.console.app import meter_key

    saved = settings.get(meter_key(measurement))

    def engine() -> MeterEngine:
        eng = factory()
        if saved is not None:
            eng.set_threshold(measurement, saved)
        return eng

    return engine


def open_console(args: argparse.Namespace) -> int:
    """The meter console; like every console session it is recorded (--store FILE, --no-store)."""
    from spear_tui.commands._store_option import close_session_store, open_session_store
    from spear_tui.console.app import run_meter_console
    from spear_tui.console.settings import Settings

    sinks: list[Sink] = []  # the engine is built in the console's worker, after the store is open
    meta: dict[str, Any] = {}
    factory, source, measurement = prepare(args, sinks, meta)  # all checked before a store file exists
    store = open_session_store(args, source, meta)
    try:
        if store is not None:
            sinks.append(store.write)
        settings = Settings()
        engine = with_saved_threshold(factory, settings, measurement)
        return run_meter_console(engine, source=source, settings=settings)
    finally:
        close_session_store(store)
