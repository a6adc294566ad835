"""Peak detector: rolling median + k robust deviations, checked against hand computations."""

from __future__ import annotations

import numpy as np
from fuzzing import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from spear_tui.detect.lstm.peaks import MAD_TO_SD, flag_scores, latest_threshold, peak_heights


def test_warmup_chunks_are_never_flagged_and_have_no_threshold():
    s = np.array([5.0, 4.0, 9.0, 1.0, 1.0, 1.0])
    flags, thr = flag_scores(s, k=1.0, warmup=4)
    assert not flags[:4].any()
    assert np.isnan(thr[:4]).all()
    assert not np.isnan(thr[4:]).any()


def test_threshold_matches_hand_computed_median_and_mad():
    # skip 2: the first 2 scores (a fresh net still learning) never enter the baseline.
    s = np.array([100.0, 100.0, 1.0, 2.0, 2.9, 10.0, 50.0])
    flags, thr = flag_scores(s, k=2.0, warmup=4, window=50, skip=2)
    # chunk 4 against [1, 2]: median 1.5, MAD 0.5
    assert np.isclose(thr[4], 1.5 + 2.0 * 0.5 * MAD_TO_SD)
    assert not flags[4]  # 2.9 < 2.98
    # chunk 5 against [1, 2, 2.9]: median 2, MAD 0.9
    assert np.isclose(thr[5], 2.0 + 2.0 * 0.9 * MAD_TO_SD)
    assert flags[5]
    # chunk 6 against [1, 2, 2.9, 10]: median 2.45, |dev| = 1.45, .45, .45, 7.55 -> MAD 0.95
    assert np.isclose(thr[6], 2.45 + 2.0 * 0.95 * MAD_TO_SD)
    assert flags[6]


def test_window_limits_the_baseline_to_recent_chunks():
    s = np.array([0.0] * 4 + [100.0] * 10 + [1.0] * 3 + [1.2])  # window 3 -> only the 1.0s count
    _, thr = flag_scores(s, k=3.0, warmup=4, window=3)
    # the last chunk only sees the three 1.0s: median 1, MAD 0 -> floor 2% of 1
    assert np.isclose(thr[-1], 1.0 + 3.0 * 0.02)


def test_flat_series_uses_the_relative_floor_not_zero():
    s = np.full(20, 0.5)
    flags, thr = flag_scores(s, k=5.0, warmup=4)
    assert not flags.any()
    assert np.isclose(thr[-1], 0.5 + 5.0 * 0.01)


def test_peak_heights_in_deviations():
    s = np.array([9.0, 9.0, 1.0, 2.0, 3.0, 8.0])
    h = peak_heights(s, warmup=4, skip=2)
    # chunk 5 against [1, 2, 3]: median 2, MAD 1 -> (8 - 2) / 1.4826
    assert np.isclose(h[5], 6.0 / MAD_TO_SD)
    assert np.isnan(h[:4]).all()


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(st.floats(0.0, 10.0, allow_nan=False), min_size=1, max_size=80),
    st.floats(0.5, 10.0),
    st.integers(0, 12),
    st.integers(1, 30),
    st.integers(0, 12),
)
def test_online_threshold_equals_batch_reflag(scores, k, warmup, window, skip):
    """What the detector decides live must equal what the console recomputes from stored scores."""
    s = np.asarray(scores)
    _, thr = flag_scores(s, k, warmup, window, skip=skip)
    for i in range(len(s)):
        live = latest_threshold(s[: i + 1], k, warmup, window, skip=skip)
        if np.isnan(thr[i]):
            assert live is None
        else:
            assert live is not None and np.isclose(live, thr[i])


def test_skip_keeps_the_first_scores_out_of_the_baseline():
    s = np.array([1.0, 2.0, 3.0, 4.0, 9.0])
    _, fresh = flag_scores(s, 1.0, warmup=4, skip=2)  # baseline of chunk 4: [3, 4]
    _, trained = flag_scores(s, 1.0, warmup=4)  # default skip 0: [1, 2, 3, 4]
    assert np.isclose(fresh[4], 3.5 + 0.5 * MAD_TO_SD)
    assert np.isclose(trained[4], 2.5 + 1.0 * MAD_TO_SD)


def test_higher_k_flags_a_subset():
    rng = np.random.default_rng(3)
    s = rng.gamma(2.0, 1.0, 300)
    low, _ = flag_scores(s, 2.0, 8)
    high, _ = flag_scores(s, 6.0, 8)
    assert high.sum() < low.sum()
    assert not (high & ~low).any()


def test_warmup_baseline_needs_enough_finite_scores():
    from spear_tui.detect.lstm.peaks import MIN_WARMUP_BASELINE, warmup_baseline

    assert warmup_baseline(np.ones(MIN_WARMUP_BASELINE - 1)) is None
    assert warmup_baseline(np.r_[np.ones(MIN_WARMUP_BASELINE - 1), np.nan]) is None
    med, dev = warmup_baseline(np.array([1.0, 1.1, 0.9, 1.0, 1.2, 0.8, 50.0]))
    assert med == 1.0 and abs(dev - 0.1 * 1.4826) < 1e-9  # the outlier moves neither


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=80))
def test_sort_median_equals_numpy_median(values):
    """latest_baseline's median (one sort) must be np.median's value exactly: live flags are compared
    with a reflag of the stored series, which uses numpy's nanmedian."""
    from spear_tui.detect.lstm.peaks import _median

    v = np.asarray(values)
    assert _median(v) == float(np.median(v))
