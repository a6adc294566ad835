"""`spear-tui meter scan FILE ...` (headless day scoring) and `spear-tui meter FILE` (console screen).

Headless scan: read the meter file, cut it into days, train the seq2seq autoencoder on the days the user
marks normal (or load a saved model), score every day and flag those above the threshold rule.
Exit 0: no flagged day; 1: flagged days; 2: usage or input error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from spear_tui.errors import UserError

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


def training_mask(
    dates: list[date], complete: Any, start: date | None, end: date | None, exclude: list[tuple[date, date]]
) -> Any:
    """Bool per day: complete, inside [start, end], not in any excluded range."""
    import numpy as np

    return np.array([
        bool(c) and (start is None or d >= start) and (end is None or d <= end)
        and not any(lo <= d <= hi for lo, hi in exclude)
        for d, c in zip(dates, complete, strict=True)
    ], dtype=bool)


def scan(args: argparse.Namespace) -> int:
    import numpy as np

    from spear_tui.detect.meter.calendar import holiday_names, parse_holidays, resolve_calendar
    from spear_tui.detect.meter.meter_explain import explain_day
    from spear_tui.detect.meter.meter_threshold import flag_days, parse_threshold
    from spear_tui.detect.meter.seq2seq import MeterDetector, Seq2SeqConfig
    from spear_tui.meter.days import to_days
    from spear_tui.meter.files import read_meter_file

    rule = parse_threshold(args.threshold)
    if args.holidays:
        parse_holidays(args.holidays)
        if args.calendar is False:
            raise UserError("--holidays needs calendar conditioning; drop --no-calendar")
    if args.epochs < 1 or args.samples_per_day < 1:
        raise UserError("--epochs and --samples-per-day must be positive")
    det = MeterDetector.load(args.model) if args.model else None
    spd = det.cfg.samples_per_day if det else args.samples_per_day
    series = read_meter_file(args.file, timestamp=args.timestamp, tz=args.tz)
    days = to_days(series, samples_per_day=spd, tz=args.tz)
    measurement = pick_measurement(days.measurements, args.measurement or (det.measurement if det else None))
    values = days.values[..., days.measurements.index(measurement)]
    model_info: dict[str, Any]
    if det is None:
        train = training_mask(days.dates, days.complete, args.train_from, args.train_to, args.exclude)
        tr_dates = [d for d, k in zip(days.dates, train, strict=True) if k]
        calendar = resolve_calendar(args.calendar, args.holidays, tr_dates)
        cfg = Seq2SeqConfig(samples_per_day=spd, calendar=calendar, holidays=args.holidays,
                            epochs=args.epochs, seed=args.seed)
        det = MeterDetector(cfg, measurement)
        progress = _progress_printer() if not args.json and sys.stderr.isatty() else None
        fit = det.fit(values[train], tr_dates, progress=progress)
        model_info = {"trained_on_days": int(train.sum()), "epochs": fit.epochs_run,
                      "best_epoch": fit.best_epoch, "val_loss": fit.val_loss,
                      "train_from": str(tr_dates[0]), "train_to": str(tr_dates[-1])}
    else:
        model_info = {"loaded": str(args.model)}
    model_info["calendar"] = det.cfg.calendar
    model_info["holidays"] = det.cfg.holidays
    if args.save_model:
        det.save(args.save_model)
    scores = det.score(values, days.dates, days.complete)
    flags = flag_days(scores.mse, rule, det.train_mse, dates=days.dates, train_weekdays=det.train_weekdays)
    names = holiday_names(days.dates, args.holidays or det.cfg.holidays)
    unit = days.units.get(measurement)
    why = {
        i: explain_day(values[i], scores.reconstruction[i], unit=unit, holiday=names.get(d))
        for i, d in enumerate(days.dates) if flags.flagged[i]
    }
    out = {
        "file": str(args.file),
        "measurement": measurement,
        "threshold": float(flags.thresholds[-1]) if len(flags.thresholds) else None,
        "threshold_rule": flags.rule,
        "mse_units": "normalised (training mean/std)",
        "model": model_info,
        "bad_rows": int(series.bad_rows),
        "days": [
            {"date": str(d), "mse": None if not np.isfinite(m) else round(float(m), 6),
             "flagged": bool(f), "complete": bool(c), "threshold": round(float(t), 6),
             **({"why": why[i].to_dict()} if i in why else {})}
            for i, (d, m, f, c, t) in enumerate(zip(days.dates, scores.mse, flags.flagged, scores.complete,
                                                    flags.thresholds, strict=True))
        ],
    }
    out["flagged"] = [d["date"] for d in out["days"] if d["flagged"]]
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        _print_text(out)
    return 1 if out["flagged"] else 0


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
