"""Peak detection on a chunk-score series: rolling median + k robust deviations, after a warm-up.

Pure numpy functions so the console can re-flag the stored score series instantly when the user moves
the sensitivity slider (no retraining). The deviation unit is 1.4826 x MAD (equal to the standard
deviation for Gaussian noise), so "k" and the experiment's "peak height in baseline SDs" are the same
scale. A median/MAD baseline is robust to the peaks it is looking for, so flagged chunks need not be
excluded from it and the whole series is evaluated in one vectorised pass.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MAD_TO_SD = 1.4826
# Warm-up scores that make a baseline of their own (see `warmup_baseline`); fewer are too few.
MIN_WARMUP_BASELINE = 6


def baseline(
    scores: np.ndarray, warmup: int, window: int = 50, rel_floor: float = 0.02, skip: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling median and robust deviation of the scores *before* each chunk (NaN during warm-up).

    The baseline of chunk i uses scores[max(skip, i - window) : i]. A detector started from trained
    weights (the shipped models) uses skip=0; a fresh net passes skip = warmup // 2, because the first
    half of its warm-up is it still learning to predict at all, so those losses are not "normal".
    The deviation is floored at `rel_floor` x median, so a very flat series does not turn noise into alerts.
    """
    s = np.asarray(scores, dtype=np.float64)
    n = len(s)
    med = np.full(n, np.nan)
    dev = np.full(n, np.nan)
    skip = min(skip, warmup)
    if n <= warmup:
        return med, dev
    # Pad so that every chunk i >= warmup sees exactly its preceding window (NaN-padded on the left).
    hist = np.concatenate([np.full(window, np.nan), s])
    hist[window : window + skip] = np.nan
    wins = sliding_window_view(hist[:-1], window)[warmup:]  # row j: s[i - window : i] for i = warmup + j
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows (warmup 0) give NaN: no flag
        m = np.nanmedian(wins, axis=1)
        mad = np.nanmedian(np.abs(wins - m[:, None]), axis=1) * MAD_TO_SD
    med[warmup:] = m
    dev[warmup:] = np.maximum(mad, rel_floor * np.abs(m))
    return med, dev


def flag_scores(
    scores: np.ndarray, k: float, warmup: int, window: int = 50, rel_floor: float = 0.02,
    skip: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(flagged bool array, threshold array with NaN during warm-up) for a whole score series.

    Use the detector's `peak_params()` (or `OnlineLSTMDetector.reflag`) so the result equals the live flags.
    """
    s = np.asarray(scores, dtype=np.float64)
    med, dev = baseline(s, warmup, window, rel_floor, skip)
    thr = med + k * dev
    with np.errstate(invalid="ignore"):
        flagged = np.where(np.isnan(thr), False, s > thr)
    return flagged.astype(bool), thr


def peak_heights(
    scores: np.ndarray, warmup: int, window: int = 50, rel_floor: float = 0.02, skip: int = 0
) -> np.ndarray:
    """How many baseline deviations each score lies above its rolling median (NaN during warm-up)."""
    s = np.asarray(scores, dtype=np.float64)
    med, dev = baseline(s, warmup, window, rel_floor, skip)
    return (s - med) / dev


def latest_baseline(
    scores: np.ndarray, warmup: int, window: int = 50, rel_floor: float = 0.02, skip: int = 0
) -> tuple[float, float]:
    """(median, deviation) for the last score only — what the online detector needs per chunk.

    Same definition as `baseline` (so live flags equal a later `flag_scores` of the stored series),
    at O(window) cost instead of O(n x window). NaN during warm-up.
    """
    s = np.asarray(scores, dtype=np.float64)
    i = len(s) - 1
    if i < warmup or i < 1:
        return float("nan"), float("nan")
    skip = min(skip, warmup)
    win = s[max(skip, i - window) : i]
    if len(win) == 0:
        return float("nan"), float("nan")
    return _median_dev(win, rel_floor)


def _median_dev(v: np.ndarray, rel_floor: float) -> tuple[float, float]:
    """Median and robust deviation (1.4826 x MAD, floored at rel_floor x median) of `v`."""
    m = _median(v)
    mad = _median(np.abs(v - m)) * MAD_TO_SD
    return m, max(mad, rel_floor * abs(m))


def _median(v: np.ndarray) -> float:
    """np.median's value (mean of the two middle values for an even count), from one sort: np.median's
    own overhead was most of the online detector's per-chunk threshold cost (BENCHMARKS.md "online,
    peaks, features: the detector's own Python")."""
    s = np.sort(v)
    k = len(s) // 2
    return float(s[k]) if len(s) % 2 else float((s[k - 1] + s[k]) / 2.0)


def latest_threshold(
    scores: np.ndarray, k: float, warmup: int, window: int = 50, rel_floor: float = 0.02,
    skip: int = 0,
) -> float | None:
    """Threshold for the last score (None during warm-up)."""
    m, d = latest_baseline(scores, warmup, window, rel_floor, skip)
    if np.isnan(m):
        return None
    return m + k * d


def warmup_baseline(scores: np.ndarray, rel_floor: float = 0.02) -> tuple[float, float] | None:
    """(median, deviation) of the first scores of a run, to judge its warm-up chunks after the fact;
    None when fewer than MIN_WARMUP_BASELINE finite scores are given.

    Why: the rolling baseline needs `warmup` scores first, so an incident in a capture's first chunks
    (a unit-id scan at the start of a responder's capture) would never be judged at all. The caller
    passes more scores than the warm-up (8 alone gave a too-tight MAD: the normal day's first MQTT chunk,
    a burst of CONNECTs, stood 7.5 SDs above them and 2 above the first 24).
    """
    s = np.asarray(scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    if len(s) < MIN_WARMUP_BASELINE:
        return None
    return _median_dev(s, rel_floor)
