"""Seq2seq autoencoder benchmarks (results: BENCHMARKS.md "Seq2seq" and "Meter thresholds / nyc_taxi").

    .venv/bin/python bench/seq2seq.py speed [--rounds 15]      # JAX vs PyTorch, same network, interleaved
    .venv/bin/python bench/seq2seq.py taxi [--seeds 0 1]       # nyc_taxi day-level precision/recall

speed: one training epoch on (100, 96, 1) (batch 25 -> 4 Adam steps, and batch 100 -> 1 step) and scoring
100 days, our jitted JAX model (`MeterDetector`) against the same architecture in PyTorch on CPU (torch's
own threads; XLA flags as given in the environment). Rounds alternate JAX / torch; medians and the
JAX/torch ratio are printed. Compile time is excluded (one warm-up call each).

taxi: nyc_taxi (NAB, 48 samples/day). Train on 2014-07-01..2014-10-15 (before every labelled window),
score 2014-10-16..2015-01-31; a day is positive when it overlaps a NAB anomaly window. Compared: no
calendar, day-of-week channels, day-of-week + US federal holidays (holidays encoded as Sundays); rules:
auto (the weekday rule), rolling (the former automatic rule), percentile 99 of the training MSE.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# nyc_taxi and its labelled windows, from the shared folder beside the checkout (../shared)
TAXI = ROOT.parent / "shared" / "data" / "real" / "timeseries"


def _torch_model(hidden: int, latent: int, s: int):
    import math

    import torch
    from torch import nn

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.LSTM(1, hidden, num_layers=2, batch_first=True)
            self.to_latent = nn.Linear(hidden, latent)
            self.dec = nn.LSTM(latent + 2, hidden, num_layers=2, batch_first=True)
            self.out = nn.Linear(hidden, 1)
            t = torch.arange(s) * (2 * math.pi / s)
            self.register_buffer("pos", torch.stack([torch.sin(t), torch.cos(t)], 1))

        def forward(self, x):
            hs, _ = self.enc(x)
            z = torch.tanh(self.to_latent(hs[:, -1]))
            b = x.shape[0]
            d_in = torch.cat([z[:, None].expand(b, s, latent), self.pos[None].expand(b, s, 2)], -1)
            d, _ = self.dec(d_in)
            return self.out(d)[..., 0]

    return Seq2Seq()


def speed(rounds: int, torch_threads: int | None) -> None:
    import jax
    import torch

    if torch_threads:
        torch.set_num_threads(torch_threads)

    from spear_tui.detect.meter.seq2seq import MeterDetector, Seq2SeqConfig, _pad_batches

    rng = np.random.default_rng(0)
    t = np.arange(96) / 96
    days = (np.sin(2 * np.pi * t)[None] + 0.1 * rng.standard_normal((100, 96))).astype(np.float32)
    dates = [date(2025, 1, 1)] * 100
    from spear_tui.detect.kernels.lstm_kernel import kernel_name

    print(f"jax {jax.__version__} devices {jax.devices()} LSTM loops {kernel_name()} | torch "
          f"{torch.__version__} threads {torch.get_num_threads()}")
    results = {}
    for bsz in (25, 100):
        cfg = Seq2SeqConfig(batch_size=bsz)
        det = MeterDetector(cfg)
        x, cal = det._inputs(days, dates)
        epoch_fn = det._make_epoch_fn()
        params, opt = det._params, det._tx.init(det._params)
        idx, mask = _pad_batches(100, bsz, rng.permutation(100))

        def jax_epoch(params=params, opt=opt, idx=idx, mask=mask, x=x, cal=cal, epoch_fn=epoch_fn):
            p, o, loss = epoch_fn(params, opt, x[idx], cal[idx], mask)
            jax.block_until_ready(loss)

        tm = _torch_model(cfg.hidden, cfg.latent, 96)
        topt = torch.optim.Adam(tm.parameters(), lr=cfg.lr)
        xt = torch.from_numpy(x)

        def torch_epoch(tm=tm, topt=topt, xt=xt, bsz=bsz):
            perm = torch.randperm(100)
            for i in range(0, 100, bsz):
                xb = xt[perm[i : i + bsz]]
                topt.zero_grad()
                loss = ((tm(xb) - xb[..., 0]) ** 2).mean()
                loss.backward()
                topt.step()

        def jax_score(det=det, x=x, cal=cal):
            det._recon(x, cal)

        def torch_score(tm=tm, xt=xt):
            with torch.no_grad():
                tm(xt).numpy()

        pairs = [(f"train epoch (100,96,1) batch {bsz}", jax_epoch, torch_epoch)]
        if bsz == 25:
            pairs.append(("score 100 days", jax_score, torch_score))
        for name, fj, ft in pairs:
            fj(), ft()  # compile / warm up
            tj, tt = [], []
            for _ in range(rounds):
                t0 = time.perf_counter()
                fj()
                tj.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                ft()
                tt.append(time.perf_counter() - t0)
            mj, mt = statistics.median(tj), statistics.median(tt)
            results[name] = (mj, mt)
            print(f"{name:34s} jax {mj * 1e3:8.1f} ms   torch {mt * 1e3:8.1f} ms   jax/torch {mj / mt:5.2f}x")


def _taxi_days():
    import polars as pl

    df = pl.read_csv(TAXI / "nab_nyc_taxi.csv", try_parse_dates=True)
    values = df["value"].to_numpy().astype(np.float32).reshape(-1, 48)
    dates = [d.date() for d in df["timestamp"][::48]]
    windows = json.loads((TAXI / "nab_nyc_taxi_windows.json").read_text())["realKnownCause/nyc_taxi.csv"]
    spans = [(datetime.fromisoformat(a).date(), datetime.fromisoformat(b).date()) for a, b in windows]
    label = np.array([any(a <= d <= b for a, b in spans) for d in dates])
    win_id = np.array([next((k for k, (a, b) in enumerate(spans) if a <= d <= b), -1) for d in dates])
    return values, dates, label, win_id


def taxi(seeds: list[int], epochs: int, latent: int = 8) -> None:
    from spear_tui.detect.meter.meter_threshold import AUTO, ThresholdRule, flag_days
    from spear_tui.detect.meter.seq2seq import MeterDetector, Seq2SeqConfig

    values, dates, label, win_id = _taxi_days()
    train = np.array([d <= date(2014, 10, 15) for d in dates])
    test = ~train
    named = {"Thanksgiving": date(2014, 11, 27), "Christmas": date(2014, 12, 25),
             "New Year": date(2015, 1, 1), "marathon": date(2014, 11, 2), "blizzard": date(2015, 1, 26)}
    print(f"train {train.sum()} days, test {test.sum()} days, positive test days {label[test].sum()}, "
          f"windows {len(set(win_id[win_id >= 0]))}")
    print("variant        seed  AP    rule          flagged  precision  recall  events  ranks (test days) "
          + " ".join(named))
    for variant, cal, hol in (("no calendar", False, None), ("day of week", True, None),
                              ("dow + US hol.", True, "US")):
        for seed in seeds:
            det = MeterDetector(Seq2SeqConfig(samples_per_day=48, calendar=cal, holidays=hol, seed=seed,
                                              epochs=epochs, latent=latent))
            det.fit(values[train], [d for d, k in zip(dates, train, strict=True) if k])
            sc = det.score(values, dates)
            mse_t, lab_t = sc.mse[test], label[test]
            order = np.argsort(-mse_t)
            hits = lab_t[order]
            ap = float(((np.cumsum(hits) / np.arange(1, hits.size + 1)) * hits).sum() / hits.sum())
            test_dates = [d for d, k in zip(dates, test, strict=True) if k]
            ranks = [int(np.where(order == test_dates.index(d))[0][0]) + 1 for d in named.values()]
            p99 = ThresholdRule("percentile", percentile=99)
            rules = (("auto", AUTO), ("rolling", ThresholdRule("rolling")), ("percentile 99", p99))
            for rname, rule in rules:
                fl = flag_days(sc.mse, rule, det.train_mse, dates=dates,
                               train_weekdays=det.train_weekdays).flagged[test]
                tp = int((fl & lab_t).sum())
                prec = tp / max(int(fl.sum()), 1)
                rec = tp / int(lab_t.sum())
                events = len(set(win_id[test][fl & lab_t]))
                print(f"{variant:14s} {seed:4d}  {ap:.2f}  {rname:13s} {int(fl.sum()):7d}  {prec:9.2f}"
                      f"  {rec:6.2f}  {events}/5    {' '.join(f'{r:>4d}' for r in ranks)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("--rounds", type=int, default=15)
    sp.add_argument("--torch-threads", type=int, default=None, help="default: torch's own choice")
    tx = sub.add_parser("taxi")
    tx.add_argument("--seeds", type=int, nargs="+", default=[0])
    tx.add_argument("--epochs", type=int, default=150)
    tx.add_argument("--latent", type=int, default=8, help="latent code size (the model's default: 8)")
    args = ap.parse_args()
    if args.what == "speed":
        speed(args.rounds, args.torch_threads)
    else:
        taxi(args.seeds, args.epochs, args.latent)


if __name__ == "__main__":
    main()
