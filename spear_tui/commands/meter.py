"""`spear-tui meter scan FILE ...` (headless day scoring) and `spear-tui meter FILE` (console screen).

Headless scan: read the meter file, cut it into days, and run the console's MeterEngine without a screen:
it trains the seq2seq autoencoder on the days the user marks normal (or loads a saved model), scores every
day and flags those above the threshold rule; with --store the session is recorded for `spear-tui review`.
Exit 0: no flagged day; 1: flagged days; 2: usage or input error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from spear_tui.errors import UserError
from spear_tui.events import DayScored, EngineError, TrainingProgress

PREFERRED = ("active_power", "apparent_power", "reactive_power")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "meter",
        help="smart-meter days: `meter scan FILE` scores days headless; `meter FILE` opens the console",
        description="Score meter days with the seq2seq LSTM autoencoder. `spear-tui meter scan FILE` is "
        "headless (exit 0: nothing flagged, 1: flagged days, 2: error); `spear-tui meter FILE` opens the "
        "console's meter screen.",
    )
    p.add_argument(
        "target", nargs="?", metavar="scan|learn|FILE",
        help="`scan` for headless scoring, `learn` to train a site's meter model (--site), else the meter "
        "file (omit with --modbus)",
    )
    p.add_argument("--site", metavar="NAME|PATH", help="site whose meter model `learn` trains / FILE uses")
    p.add_argument("file", nargs="?", metavar="FILE", help="meter file (CSV or Parquet) after `scan`")
    p.add_argument("--measurement", metavar="M", help="measurement to score (default: active power)")
    p.add_argument("--train-from", metavar="DATE", type=_date, help="first normal training day (ISO)")
    p.add_argument("--train-to", metavar="DATE", type=_date, help="last normal training day (ISO)")
    p.add_argument(
        "--exclude", metavar="DATE[..DATE]", nargs="+", action="extend", default=[], type=_date_range,
        help="days (or inclusive ranges A..B) to keep out of training",
    )
    p.add_argument(
        "--threshold", default="auto", metavar="auto|X",
        help="auto (= weekday:14:12: median + 14 x MAD of the last 12 same-weekday days' MSE), "
        "weekday[:Z[:WEEKS]], rolling[:DAYS[:FACTOR]], percentile[:Q] or a fixed MSE value",
    )
    p.add_argument("--model", metavar="PATH", help="score with a saved model instead of training")
    p.add_argument("--save-model", metavar="PATH", help="save the trained model (msgpack checkpoint)")
    p.add_argument(
        "--calendar", action=argparse.BooleanOptionalAction, default=None,
        help="condition the model on the day of week (default: on when training holds at least two of "
        "each weekday; --no-calendar turns it off)",
    )
    p.add_argument(
        "--holidays", metavar="CC[-SUB]",
        help="holiday calendar of the `holidays` package (NL, GR, US-CA, ...): holidays are expected "
        "to look like Sundays, and flagged days are named",
    )
    p.add_argument("--tz", metavar="ZONE", help="time zone of the days (and of naive timestamps)")
    p.add_argument("--timestamp", metavar="COLUMN", help="timestamp column (default: detected)")
    p.add_argument("--samples-per-day", type=int, default=96, metavar="N", help="default 96 (15 min)")
    p.add_argument("--epochs", type=int, default=150, metavar="N", help="maximum training epochs")
    p.add_argument("--seed", type=int, default=0, metavar="N")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument(
        "--store", metavar="FILE.db",
        help="record the scored days in this store (`spear-tui review FILE.db`); the console records every "
        "session by default (under $XDG_STATE_HOME/spear-tui/sessions/)",
    )
    p.add_argument("--no-store", action="store_true", help="console: do not record this session")
    _console_options(p)
    p.set_defaults(func=run)


def _console_options(p: argparse.ArgumentParser) -> None:
    from spear_tui.commands._options import parse_speed

    g = p.add_argument_group(
        "console (`meter FILE` or `meter --modbus HOST:PORT`)",
        "Without --model or a training range the console scores with the shipped model "
        "(models/meter*.msgpack, trained on the sample office file).",
    )
    g.add_argument(
        "--speed", type=parse_speed, default=None, metavar="N|max",
        help="file mode: days shown per second (default max)",
    )
    g.add_argument(
        "--modbus", metavar="HOST:PORT", help="poll a live meter over Modbus/TCP instead of a file"
    )
    g.add_argument(
        "--map", default="sdm630", dest="regmap", metavar="MAP",
        help="register map for --modbus: sdm630, generic or a TOML file (default sdm630)",
    )
    g.add_argument("--unit", type=int, default=None, metavar="ID", help="Modbus unit id (default: the map's)")
    g.add_argument(
        "--interval", type=float, default=10.0, metavar="S", help="seconds between polls (default 10)"
    )
    g.add_argument(
        "--sim-clock", action="store_true",
        help="timestamp samples with meter-sim's clock (register 65280) instead of the wall clock",
    )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def _date_range(text: str) -> tuple[date, date]:
    a, _, b = text.partition("..")
    lo, hi = _date(a), _date(b) if b else _date(a)
    if hi < lo:
        raise argparse.ArgumentTypeError(f"empty date range {text!r}")
    return lo, hi


def run(args: argparse.Namespace) -> int:
    if args.target == "learn":
        return learn(args)
    if args.target != "scan":
        if args.file:
            raise UserError(f"unexpected argument {args.file!r}; did you mean `meter scan {args.target}`?")
        if (args.target is None) == (args.modbus is None):
            raise UserError("give a meter FILE or --modbus HOST:PORT (not both)")
        from spear_tui.commands._meter_console import open_console

        return open_console(args)
    if not args.file:
        raise UserError("meter scan needs a FILE")
    if args.site and not args.model:
        args.model = site_meter_model(args)
    return scan(args)


def site_meter_model(args: argparse.Namespace) -> str:
    """The site's meter model for `meter scan --site` (the measurement's, else the only one)."""
    from spear_tui.site import open_site

    site = open_site(args.site)
    models = site.meter_models()
    named = [m for m in models if args.measurement and m.stem == f"meter_{args.measurement}"]
    if named or len(models) == 1:
        return str((named or models)[0])
    if not models:
        raise UserError(
            f"site {site.name} has no meter model; learn one: spear-tui meter learn FILE --site {args.site}"
        )
    raise UserError(f"site {site.name} has {len(models)} meter models; pick one with --measurement")


def pick_measurement(available: list[str], wanted: str | None) -> str:
    if wanted:
        if wanted not in available:
            raise UserError(f"no measurement {wanted!r} in the file; it has: {', '.join(available)}")
        return wanted
    for name in PREFERRED:
        if name in available:
            return name
    return available[0]


def check_model_args(args: argparse.Namespace) -> Any:
    """The checks `meter scan` and the meter console share; returns the threshold rule."""
    from spear_tui.detect.meter.meter_threshold import parse_threshold

    rule = parse_threshold(args.threshold)
    if args.holidays:
        from spear_tui.detect.meter.calendar import parse_holidays

        parse_holidays(args.holidays)
        if args.calendar is False:
            raise UserError("--holidays needs calendar conditioning; drop --no-calendar")
    if args.epochs < 1 or args.samples_per_day < 1:
        raise UserError("--epochs and --samples-per-day must be positive")
    return rule


def session_meta(
    args: argparse.Namespace, command: str, measurement: str, model: Any, file: str | None
) -> dict[str, Any]:
    """What a meter session records in the store: enough for review to redraw its days (the file, the
    model that scored it: the one loaded, else the one saved; none when trained and not saved)."""
    meta: dict[str, Any] = {"command": command, "kind": "meter", "measurement": measurement}
    if file is not None:
        meta["files"] = [file]
    saved = model or args.save_model
    meta.update(model=str(Path(saved).resolve()) if saved else None, tz=args.tz, timestamp=args.timestamp)
    return meta


def training_plan(args: argparse.Namespace, days: Any) -> Any:
    """The TrainPlan of the command line, checked against the days (enough of them to train on)."""
    from spear_tui.engines.meter import TrainPlan

    plan = TrainPlan(
        args.train_from, args.train_to, tuple(args.exclude), epochs=args.epochs, seed=args.seed,
        calendar=args.calendar, holidays=args.holidays,
    )
    plan.check(days.dates, days.complete)
    return plan


def scan(args: argparse.Namespace) -> int:
    from spear_tui.commands._meter_console import checkpoint_info
    from spear_tui.engines.meter import MeterEngine
    from spear_tui.meter.days import to_days
    from spear_tui.meter.files import read_meter_file

    rule = check_model_args(args)
    spd, model_measurement = checkpoint_info(args.model) if args.model else (args.samples_per_day, None)
    series = read_meter_file(args.file, timestamp=args.timestamp, tz=args.tz)
    days = to_days(series, samples_per_day=spd, tz=args.tz)
    measurement = pick_measurement(days.measurements, args.measurement or model_measurement)
    plan = None if args.model else training_plan(args, days)
    store = None
    if args.store:
        from spear_tui.store import AlertStore

        meta = session_meta(args, "meter scan", measurement, args.model, str(args.file))
        store = AlertStore(args.store, meta)
    engine = MeterEngine.from_days(
        days, measurement, source=str(args.file), model=args.model, train=plan, rule=rule,
        save_model=args.save_model, sinks=[store.write] if store is not None else [],
    )  # fmt: skip
    scored: list[DayScored] = []
    show = _progress_printer() if not args.json and sys.stderr.isatty() else None

    def collect(batch: list[Any]) -> None:
        scored.extend(ev for ev in batch if isinstance(ev, DayScored))
        errors = [ev for ev in batch if isinstance(ev, EngineError)]
        if errors:
            failed.append(errors[0].message)
        progress = [ev for ev in batch if isinstance(ev, TrainingProgress)]
        if show is not None and progress:
            show(progress[-1])

    failed: list[str] = []
    try:
        engine.run(collect)
    finally:
        if store is not None:
            store.close()
    if failed:
        raise UserError(failed[0])
    out = report(args, engine, scored, int(series.bad_rows), days.units.get(measurement))
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        _print_text(out)
    return 1 if out["flagged"] else 0


def report(
    args: argparse.Namespace, engine: Any, scored: list[DayScored], bad_rows: int, unit: str | None
) -> dict[str, Any]:
    """meter scan's document (README's JSON contract) from what the engine scored."""
    import numpy as np

    from spear_tui.detect.meter.calendar import holiday_names
    from spear_tui.detect.meter.meter_explain import explain_day

    det = engine.detector
    model_info = {**engine.model_info, "calendar": det.cfg.calendar, "holidays": det.cfg.holidays}
    dates = [date.fromisoformat(d.date) for d in scored]
    names = holiday_names(dates, args.holidays or det.cfg.holidays)
    rows = []
    for d, day in zip(dates, scored, strict=True):
        row: dict[str, Any] = {
            "date": day.date, "mse": None if not np.isfinite(day.mse) else round(float(day.mse), 6),
            "flagged": bool(day.flagged), "complete": bool(day.complete),
            "threshold": round(float(day.threshold), 6),
        }  # fmt: skip
        rec = engine.record(engine.measurement, day.date) if day.flagged else None
        if rec is not None:
            why = explain_day(rec.measured, rec.reconstructed, unit=unit, holiday=names.get(d))
            row["why"] = why.to_dict()
        rows.append(row)
    out = {
        "file": str(args.file),
        "measurement": engine.measurement,
        "threshold": float(scored[-1].threshold) if scored else None,
        "threshold_rule": engine.threshold_rule(),
        "mse_units": "normalised (training mean/std)",
        "model": model_info,
        "bad_rows": bad_rows,
        "days": rows,
    }
    out["flagged"] = [d["date"] for d in rows if d["flagged"]]
    return out


def _progress_printer() -> Any:
    def show(ev: Any) -> None:
        val = f" val {ev.val_loss:.4f}" if ev.val_loss is not None else ""
        print(f"\rtraining epoch {ev.epoch}/{ev.epochs} loss {ev.loss:.4f}{val}   ", end="", file=sys.stderr)

    return show


def _print_text(out: dict[str, Any]) -> None:
    from spear_tui.detect.meter.meter_explain import why_text

    if sys.stderr.isatty():
        print("", file=sys.stderr)
    days = out["days"]
    scored = sum(d["mse"] is not None for d in days)
    print(f"{out['file']}: {out['measurement']}, {len(days)} days ({scored} scored, "
          f"{len(days) - scored} incomplete), threshold rule: {out['threshold_rule']}")
    for d in days:
        if d["flagged"]:
            weekday = date.fromisoformat(d["date"]).strftime("%a")
            print(f"  FLAGGED {d['date']} {weekday}  mse {d['mse']:.4f} > {d['threshold']:.4f}")
            if "why" in d:
                print(f"          {why_text(d['why'])}")
    print(f"{len(out['flagged'])} flagged day(s)")



def learn(args: argparse.Namespace) -> int:
    """`meter learn FILE --site NAME`: train on the file's normal days (the same training as `meter scan`,
    --train-from/--to/--exclude apply) and save the model into the site, recorded in its manifest."""
    import time

    from spear_tui.site import open_site

    if not args.file or not args.site:
        raise UserError("meter learn needs a FILE and --site NAME")
    if args.model:
        raise UserError("meter learn trains a model; drop --model")
    site = open_site(args.site, create=True)
    if site.sample:
        raise UserError("the sample site is read-only; use --site NAME")
    site.path.mkdir(parents=True, exist_ok=True)
    args.save_model = str(site.path / f"meter_{args.measurement or 'default'}.msgpack")
    code = scan(args)
    site.manifest.meter = {"file": str(args.file), "model": args.save_model, "learned": time.time()}
    if site.manifest.learned is None:
        site.manifest.learned = time.time()
    site.save()
    print(f"meter model saved in site {site.name}: {args.save_model}", file=sys.stderr)
    return 0 if code in (0, 1) else code
