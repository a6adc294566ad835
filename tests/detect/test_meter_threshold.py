"""Threshold rules: pure re-flagging, and an automatic rule that survives a change of season."""

import numpy as np
import pytest

from spear_tui.detect.meter_threshold import (
    AUTO,
    MIN_FACTOR,
    ThresholdRule,
    calibrated_factor,
    flag_days,
    parse_threshold,
)
from spear_tui.errors import UserError


def test_parse_threshold_forms():
    assert parse_threshold("auto") == AUTO
    assert parse_threshold("0.25") == ThresholdRule("fixed", value=0.25)
    assert parse_threshold("percentile:95").percentile == 95
    r = parse_threshold("rolling:7:3")
    assert (r.kind, r.window, r.factor) == ("rolling", 7, 3.0)
    assert parse_threshold("rolling").window == 14
    for bad in ("bogus", "-1", "nan", "percentile:0", "rolling:0", "rolling:7:-2"):
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
    a = flag_days(mse, AUTO, train)
    b = flag_days(mse, AUTO, train)
    assert np.array_equal(a.flagged, b.flagged) and np.array_equal(a.thresholds, b.thresholds)
    assert np.array_equal(mse, mse_copy)
    lower = flag_days(mse, 0.05)
    higher = flag_days(mse, 0.5)
    assert lower.flagged.sum() > higher.flagged.sum()
    assert not (higher.flagged & ~lower.flagged).any()  # raising the threshold only unflags


def test_rolling_threshold_is_causal():
    rng = np.random.default_rng(2)
    mse, train = rng.gamma(2, 0.1, 50), rng.gamma(2, 0.1, 30)
    base = flag_days(mse, AUTO, train).thresholds
    bumped = mse.copy()
    bumped[20] = 100.0
    thr = flag_days(bumped, AUTO, train).thresholds
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
    auto = flag_days(mse, AUTO, train)
    assert pct.flagged[70:].sum() > 0.9 * 120  # a plain percentile flags the whole summer
    assert auto.flagged[spike_idx].all()  # the real anomalies are still flagged
    false_alarms = auto.flagged.sum() - auto.flagged[spike_idx].sum()
    assert false_alarms <= 0.08 * n_normal


def test_empty_and_missing_training_mse():
    assert flag_days(np.zeros(0), AUTO, np.ones(5)).flagged.shape == (0,)
    with pytest.raises(UserError, match="no training MSE"):
        flag_days(np.ones(3), AUTO, None)
    with pytest.raises(UserError):
        flag_days(np.ones(3), AUTO, np.array([np.nan]))
