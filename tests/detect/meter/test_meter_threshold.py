"""Threshold rules: pure re-flagging, and an automatic rule that survives a change of season."""

from datetime import date, timedelta

import numpy as np
import pytest

from spear_tui.detect.meter.meter_threshold import (
    AUTO,
    MIN_FACTOR,
    ThresholdRule,
    calibrated_factor,
    flag_days,
    parse_threshold,
)
from spear_tui.errors import UserError

ROLLING = ThresholdRule("rolling")


def test_parse_threshold_forms():
    assert parse_threshold("auto") == AUTO
    assert parse_threshold("0.25") == ThresholdRule("fixed", value=0.25)
    assert parse_threshold("percentile:95").percentile == 95
    r = parse_threshold("rolling:7:3")
    assert (r.kind, r.window, r.factor) == ("rolling", 7, 3.0)
    assert parse_threshold("rolling").window == 14
    w = parse_threshold("weekday")
    assert (w.kind, w.z, w.window) == ("weekday", 14.0, 12) and w == AUTO
    assert parse_threshold("weekday:6:4") == ThresholdRule("weekday", window=4, z=6.0)
    for bad in ("bogus", "-1", "nan", "percentile:0", "rolling:0", "rolling:7:-2", "weekday:0",
                "weekday:5:0", "weekday:inf"):
        with pytest.raises(UserError):
            parse_threshold(bad)


def test_fixed_threshold_flags_strictly_above_and_never_nan():
    mse = np.array([0.1, 0.5, np.nan, 0.50001, 2.0])
    f = flag_days(mse, 0.5)
    assert f.flagged.tolist() == [False, False, False, True, True]
    assert np.all(f.thresholds == 0.5)


def test_percentile_rule_is_the_training_percentile():
    train = np.arange(1, 101, dtype=float)
    f = flag_days(np.array([95.0, 99.5, 100.5]), ThresholdRule("percentile", percentile=99), train)
    assert f.thresholds[0] == pytest.approx(99.01)
    assert f.flagged.tolist() == [False, True, True]


def test_reflagging_is_pure():
    rng = np.random.default_rng(1)
    mse, train = rng.gamma(2, 0.1, 200), rng.gamma(2, 0.1, 60)
    mse_copy = mse.copy()
    a = flag_days(mse, ROLLING, train)
    b = flag_days(mse, ROLLING, train)
    assert np.array_equal(a.flagged, b.flagged) and np.array_equal(a.thresholds, b.thresholds)
    assert np.array_equal(mse, mse_copy)
    lower = flag_days(mse, 0.05)
    higher = flag_days(mse, 0.5)
    assert lower.flagged.sum() > higher.flagged.sum()
    assert not (higher.flagged & ~lower.flagged).any()  # raising the threshold only unflags


def test_rolling_threshold_is_causal():
    rng = np.random.default_rng(2)
    mse, train = rng.gamma(2, 0.1, 50), rng.gamma(2, 0.1, 30)
    base = flag_days(mse, ROLLING, train).thresholds
    bumped = mse.copy()
    bumped[20] = 100.0
    thr = flag_days(bumped, ROLLING, train).thresholds
    assert np.array_equal(thr[:21], base[:21])  # day 20 itself and earlier days are unaffected


def test_factor_is_calibrated_and_bounded():
    assert calibrated_factor(np.ones(10)) == MIN_FACTOR
    train = np.r_[np.ones(90), np.full(10, 4.0)]  # median 1, 99th percentile 4
    assert calibrated_factor(train, 99) == pytest.approx(4.0)


def test_season_change_percentile_flags_summer_rolling_does_not():
    """Winter-trained model: summer MSE is ~8x the winter level, with 5 real anomalies (x6 the level).

    The rolling rule lags a fast ramp (here +7 %/day for 30 days) by about half its window, so a few
    ramp days are flagged; the bound below allows that, the percentile rule is far beyond it."""
    rng = np.random.default_rng(3)
    train = rng.lognormal(np.log(0.01), 0.25, 60)
    winter = rng.lognormal(np.log(0.01), 0.25, 40)
    # a gradual spring ramp (30 days), then summer at 8x the winter level
    ramp = np.geomspace(1, 8, 30) * rng.lognormal(np.log(0.01), 0.25, 30)
    summer = 8 * rng.lognormal(np.log(0.01), 0.25, 120)
    spikes = [20, 45, 70, 95, 110]
    summer[spikes] *= 6
    mse = np.r_[winter, ramp, summer]
    n_normal = mse.size - len(spikes)
    spike_idx = 70 + np.array(spikes)
    pct = flag_days(mse, ThresholdRule("percentile", percentile=99), train)
    auto = flag_days(mse, ROLLING, train)
    assert pct.flagged[70:].sum() > 0.9 * 120  # a plain percentile flags the whole summer
    assert auto.flagged[spike_idx].all()  # the real anomalies are still flagged
    false_alarms = auto.flagged.sum() - auto.flagged[spike_idx].sum()
    assert false_alarms <= 0.08 * n_normal


def test_empty_and_missing_training_mse():
    assert flag_days(np.zeros(0), ROLLING, np.ones(5)).flagged.shape == (0,)
    with pytest.raises(UserError, match="no training MSE"):
        flag_days(np.ones(3), ROLLING, None)
    with pytest.raises(UserError):
        flag_days(np.ones(3), ROLLING, np.array([np.nan]))


def _weeks(n_weeks: int, start: date = date(2025, 1, 6)) -> list[date]:
    return [start + timedelta(days=i) for i in range(7 * n_weeks)]


def test_weekday_rule_judges_a_day_against_its_own_weekday():
    """Sundays reconstruct 10x worse than weekdays (a real pattern: a weekday-trained shape). The
    rolling rule, one level for all days, flags every Sunday; the weekday rule flags none of them,
    and still flags a weekday that reaches the Sunday level."""
    rng = np.random.default_rng(4)
    train_dates, dates = _weeks(8), _weeks(16, date(2025, 3, 3))
    level = lambda ds: np.array([0.1 if d.weekday() == 6 else 0.01 for d in ds])  # noqa: E731
    train = level(train_dates) * rng.lognormal(0, 0.2, len(train_dates))
    mse = level(dates) * rng.lognormal(0, 0.2, len(dates))
    odd = 7 * 10 + 2  # a Wednesday at the Sunday level
    mse[odd] = 0.12
    tw = np.array([d.weekday() for d in train_dates])
    sundays = np.array([d.weekday() == 6 for d in dates])
    wk = flag_days(mse, AUTO, train, dates=dates, train_weekdays=tw)
    roll = flag_days(mse, ThresholdRule("rolling", factor=3.0), train)
    assert roll.flagged[sundays].all()
    assert not wk.flagged[sundays].any()
    assert wk.flagged[odd] and wk.flagged.sum() == 1


def test_weekday_rule_is_causal_and_needs_dates():
    rng = np.random.default_rng(5)
    dates = _weeks(10)
    mse, train = rng.gamma(2, 0.1, len(dates)), rng.gamma(2, 0.1, 30)
    base = flag_days(mse, AUTO, train, dates=dates).thresholds
    bumped = mse.copy()
    bumped[20] = 100.0
    thr = flag_days(bumped, AUTO, train, dates=dates).thresholds
    assert np.array_equal(thr[:27], base[:27])  # the next day of day 20's weekday is day 27
    others = [i for i in range(len(dates)) if i % 7 != 20 % 7]
    assert np.array_equal(thr[others], base[others])  # other weekdays never see day 20
    with pytest.raises(UserError, match="needs the days' dates"):
        flag_days(mse, AUTO, train)


def test_weekday_history_starts_from_that_weekdays_training_days():
    train_dates = _weeks(4)
    train = np.array([1.0 if d.weekday() == 0 else 0.01 for d in train_dates])
    tw = np.array([d.weekday() for d in train_dates])
    monday, tuesday = [date(2025, 3, 3)], [date(2025, 3, 4)]
    assert flag_days(np.array([0.5]), AUTO, train, dates=tuesday, train_weekdays=tw).flagged[0]
    assert not flag_days(np.array([0.5]), AUTO, train, dates=monday, train_weekdays=tw).flagged[0]
    # an old checkpoint without weekdays: every weekday starts from all training MSEs
    assert not flag_days(np.array([0.05]), AUTO, train, dates=tuesday).flagged[0]
