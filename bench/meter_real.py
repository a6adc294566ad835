"""Meter-day detection on a real public electricity year (results: BENCHMARKS.md "Meter on real data").

    .venv/bin/python bench/meter_real.py [--seeds 0 1] [--train-to 1997-04-10] [--holidays]

Series: E. Keogh's Dutch research-facility power demand, 1997, 15-minute samples
(`tests/data/real/meter/keogh_dutch_power_1997.txt`, source in tests/data/real/SOURCES.md). Ground truth:
the weekdays that are Dutch public holidays per the `holidays` package (NL, categories public + optional,
which adds Liberation Day 5 May). Train on 1997-01-01..--train-to minus those days (as a user would:
an early part of the year, holidays excluded), score the rest of the year. For each model variant
(calendar off / day of week on) every threshold rule is applied to the same scores.
With --holidays a third variant conditions on the NL calendar (holidays expected Sunday-like: they should
no longer be flagged).
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "real" / "meter" / "keogh_dutch_power_1997.txt"


def off_schedule(values: np.ndarray, dates: list[date]) -> np.ndarray:
    """Model-free second ground truth (as tests/commands/test_meter_scan_real.py): days whose
    working-hours (08-17) load is on the other side of the weekday/weekend midpoint from their weekday
    (closed weekdays: exactly the weekday holidays; open weekend days: 4 October)."""
    work = values[:, 32:68].mean(axis=1)
    weekday = np.array([d.weekday() < 5 for d in dates])
    mid = (np.median(work[weekday]) + np.median(work[~weekday])) / 2
    return (work < mid) == weekday


def keogh_days() -> tuple[np.ndarray, list[date], np.ndarray]:
    """(365, 96) values, dates, bool label (weekday NL holiday)."""
    import holidays

    x = np.loadtxt(DATA, dtype=np.float32)
    values = x.reshape(-1, 96)
    dates = [date(1997, 1, 1) + timedelta(days=i) for i in range(len(values))]
    nl = holidays.country_holidays("NL", years=1997, categories=("public", "optional"))
    label = np.array([d in nl and d.weekday() < 5 for d in dates])
    return values, dates, label


def main() -> None:
    from spear_tui.detect.meter.meter_threshold import flag_days, parse_threshold
    from spear_tui.detect.meter.seq2seq import MeterDetector, Seq2SeqConfig

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--train-to", type=date.fromisoformat, default=date(1997, 4, 10))
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--rules", nargs="+",
                    default=["rolling", "percentile:99", "weekday", "weekday:4", "weekday:6"])
    ap.add_argument("--holidays", action="store_true", help="add the dow + NL holidays variant")
    args = ap.parse_args()
    values, dates, label = keogh_days()
    sched = off_schedule(values, dates)
    train = np.array([d <= args.train_to for d in dates]) & ~label
    test = np.array([d > args.train_to for d in dates])
    print(f"train {train.sum()} days (to {args.train_to}), test {test.sum()} days, "
          f"positive test days {label[test].sum()}: "
          + " ".join(str(d) for d, k in zip(dates, label & test, strict=True) if k))
    variants = [("no calendar", False, None), ("day of week", True, None)]
    if args.holidays:
        variants.append(("dow + NL hol.", True, "NL"))
    for name, cal, hol in variants:
        for seed in args.seeds:
            det = MeterDetector(Seq2SeqConfig(calendar=cal, holidays=hol, seed=seed, epochs=args.epochs))
            det.fit(values[train], [d for d, k in zip(dates, train, strict=True) if k])
            sc = det.score(values, dates)
            mse_t, lab_t = sc.mse[test], label[test]
            order = np.argsort(-mse_t)
            hits = lab_t[order]
            ap_ = float(((np.cumsum(hits) / np.arange(1, hits.size + 1)) * hits).sum() / max(hits.sum(), 1))
            ranks = sorted(int(np.where(hits)[0][k]) + 1 for k in range(int(hits.sum())))
            test_dates = [d for d, k in zip(dates, test, strict=True) if k]
            for rtext in args.rules:
                fl = flag_days(sc.mse, parse_threshold(rtext), det.train_mse, dates=dates,
                                train_weekdays=det.train_weekdays).flagged[test]
                tp = int((fl & lab_t).sum())
                prec = tp / max(int(fl.sum()), 1)
                rec = tp / max(int(lab_t.sum()), 1)
                sch = sched[test]
                tp2 = int((fl & sch).sum())
                prec2, rec2 = tp2 / max(int(fl.sum()), 1), tp2 / max(int(sch.sum()), 1)
                fps = [f"{d:%m-%d}" for d, f, y in zip(test_dates, fl, sch, strict=True) if f and not y]
                print(f"{name:14s} seed {seed}  AP {ap_:.2f}  ranks {ranks}  {rtext:14s} flagged "
                      f"{int(fl.sum()):3d}  holidays P {prec:.2f} R {rec:.2f}  off-schedule P {prec2:.2f} "
                      f"R {rec2:.2f}  false (off-schedule): {' '.join(fps)}")


if __name__ == "__main__":
    main()
