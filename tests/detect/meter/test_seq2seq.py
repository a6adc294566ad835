"""The seq2seq autoencoder on the year-long sample meter file (labels written by its generator).

One module-scoped training per variant keeps the whole file to well under a minute of training on
2 cores: a model trained on 9 winter weeks, with and without day-of-week conditioning.
"""

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from spear_tui.detect.meter.meter_threshold import AUTO, ThresholdRule, flag_days
from spear_tui.detect.meter.seq2seq import MeterDetector, Seq2SeqConfig
from spear_tui.errors import UserError
from spear_tui.events import TrainingProgress
from spear_tui.meter.days import to_days
from spear_tui.meter.files import read_meter_file

SAMPLE = Path(__file__).resolve().parents[3] / "sample_captures" / "meter"
CSV = SAMPLE / "office_2025.csv"
LABELS = SAMPLE / "office_2025.labels.json"
WINTER = (date(2025, 1, 7), date(2025, 3, 9))

pytestmark = pytest.mark.skipif(not CSV.exists(), reason="sample meter file not generated")


@pytest.fixture(scope="module")
def year():
    days = to_days(read_meter_file(CSV), samples_per_day=96, tz="Europe/Athens")
    labels = json.loads(LABELS.read_text())["incidents"]
    tz = ZoneInfo("Europe/Athens")
    anomalous, holidays = set(), set()
    for inc in labels:
        if inc["kind"] in ("gap", "outage", "reactive_spike"):  # not anomalies of active power
            continue
        lo = datetime.fromtimestamp(inc["start"], tz).date()
        hi = datetime.fromtimestamp(inc["end"] - 1, tz).date()
        hit = {d for d in days.dates if lo <= d <= hi}
        anomalous |= hit
        if inc["kind"] == "holiday":
            holidays |= hit
    values = days.values[..., days.measurements.index("active_power")]
    is_anom = np.array([d in anomalous for d in days.dates])
    train = np.array([WINTER[0] <= d <= WINTER[1] for d in days.dates]) & ~is_anom & days.complete
    return days, values, is_anom, np.array([d in holidays for d in days.dates]), train


def _fit(year, calendar: bool, events=None):
    days, values, _, _, train = year
    det = MeterDetector(Seq2SeqConfig(calendar=calendar, epochs=80, patience=15), "active_power")
    tr_dates = [d for d, k in zip(days.dates, train, strict=True) if k]
    det.fit(values[train], tr_dates, progress=events.append if events is not None else None)
    return det, det.score(values, days.dates, days.complete)


@pytest.fixture(scope="module")
def conditioned(year):
    events: list = []
    det, scores = _fit(year, calendar=True, events=events)
    return det, scores, events


@pytest.fixture(scope="module")
def plain(year):
    return _fit(year, calendar=False)


def _average_precision(mse, positive):
    order = np.argsort(-np.nan_to_num(mse, nan=-1.0))
    hits = positive[order]
    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float((precision * hits).sum() / hits.sum())


def test_labelled_days_rank_at_the_top(year, conditioned):
    days, _, is_anom, _, _ = year
    _, scores, _ = conditioned
    k = int(is_anom.sum())
    top = np.argsort(-np.nan_to_num(scores.mse, nan=-1.0))[:k]
    assert is_anom[top].sum() >= k - 3, [str(days.dates[i]) for i in top]


def test_calendar_conditioning_exposes_weekday_holidays(year, conditioned, plain):
    """A holiday Tuesday looks like a Sunday: the plain autoencoder reconstructs it well; the one that
    knows the weekday does not."""
    _, _, is_anom, is_hol, _ = year
    ap_cond = _average_precision(conditioned[1].mse, is_anom)
    ap_plain = _average_precision(plain[1].mse, is_anom)
    assert ap_cond > 0.8 and ap_cond > ap_plain + 0.3, (ap_cond, ap_plain)
    med_normal = np.nanmedian(conditioned[1].mse[~is_anom])
    assert np.all(conditioned[1].mse[is_hol] > 2 * med_normal)


def test_automatic_thresholds_survive_summer_where_percentile_does_not(year, conditioned):
    days, _, is_anom, _, train = year
    det, scores, _ = conditioned
    after = np.array([d > WINTER[1] for d in days.dates])
    normal_after = after & ~is_anom & scores.complete
    pct = flag_days(scores.mse, ThresholdRule("percentile", percentile=99), det.train_mse)
    auto = flag_days(scores.mse, AUTO, det.train_mse, dates=days.dates, train_weekdays=det.train_weekdays)
    rolling = flag_days(scores.mse, ThresholdRule("rolling"), det.train_mse)
    assert pct.flagged[normal_after].mean() > 0.3  # the winter percentile flags much of the year
    # rolling (the automatic rule before the weekday one): few false alarms, every incident
    assert rolling.flagged[normal_after].mean() < 0.12
    assert rolling.flagged[is_anom].mean() >= 0.75
    # the weekday rule (default): fewer false alarms still; on this generated year it pays with the
    # summer incidents, ~6x a summer weekday's MSE, under its ~8x floor (BENCHMARKS.md "Meter on real data")
    assert auto.flagged[normal_after].sum() < rolling.flagged[normal_after].sum()
    assert auto.flagged[normal_after].mean() < 0.05
    assert auto.flagged[is_anom].mean() >= 0.6


def test_incomplete_days_are_not_scored(year, conditioned):
    days, *_ = year
    scores = conditioned[1]
    outage = days.dates.index(date(2025, 4, 9))  # labelled 3-hour logger outage
    assert not days.complete[outage] and not scores.complete[outage]
    assert np.isnan(scores.mse[outage]) and np.isnan(scores.per_sample_error[outage]).all()
    assert np.isfinite(scores.mse[scores.complete]).all()
    assert not flag_days(scores.mse, 0.0).flagged[outage]


def test_scores_shapes_and_units(year, conditioned):
    days, values, is_anom, _, train = year
    scores = conditioned[1]
    n = len(days.dates)
    assert scores.per_sample_error.shape == scores.reconstruction.shape == (n, 96)
    # reconstruction is in kW: a normal training day is reproduced within a fraction of its range
    i = int(np.flatnonzero(train)[5])
    err = np.abs(scores.reconstruction[i] - values[i]).mean()
    assert err < 0.15 * (values[i].max() - values[i].min())
    ok = scores.complete
    np.testing.assert_allclose(scores.per_sample_error[ok].mean(axis=1), scores.mse[ok], rtol=1e-5)


def test_training_progress_events(conditioned):
    det, _, events = conditioned
    assert events and all(isinstance(e, TrainingProgress) for e in events)
    assert [e.epoch for e in events] == list(range(1, len(events) + 1))
    assert events[0].model == "seq2seq" and events[0].epochs == 80
    assert events[-1].val_loss is not None and events[-1].loss < events[0].loss
    assert det.train_mse.size > 0


def test_checkpoint_round_trip(tmp_path, year, conditioned):
    days, values, *_ = year
    det, scores, _ = conditioned
    path = tmp_path / "m.ckpt"
    det.save(path)
    back = MeterDetector.load(path)
    assert back.cfg == det.cfg and back.measurement == "active_power"
    np.testing.assert_array_equal(back.train_mse, det.train_mse)
    again = back.score(values[:40], days.dates[:40], days.complete[:40])
    np.testing.assert_allclose(again.mse, scores.mse[:40], rtol=1e-5, equal_nan=True)


def test_checkpoint_of_another_kind_is_refused(tmp_path):
    from spear_tui.detect.lstm.checkpoint import Checkpoint, save_checkpoint

    save_checkpoint(tmp_path / "x.ckpt", Checkpoint("stacked_lstm", {}, {}, {}))
    with pytest.raises(UserError, match="expected 'seq2seq'"):
        MeterDetector.load(tmp_path / "x.ckpt")


def test_bad_training_input_is_a_user_error(year):
    days, values, *_ = year
    det = MeterDetector(Seq2SeqConfig(epochs=1))
    with pytest.raises(UserError, match="at least 4"):
        det.fit(values[:3], days.dates[:3])
    with pytest.raises(UserError, match="samples a day"):
        det.fit(values[:10, :48], days.dates[:10])
    holey = values[:10].copy()
    holey[2, 5] = np.nan
    with pytest.raises(UserError, match="missing values"):
        det.fit(holey, days.dates[:10])
