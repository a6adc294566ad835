"""Threshold rules for meter-day MSEs, and re-flagging as a pure function (no retraining).

Why not just a percentile: alibi-detect's `infer_threshold` takes a percentile of the training days'
scores. That holds only while the days look like the training season: a model trained on winter weeks
reconstructs every summer day a little worse, and a fixed winter percentile then flags the whole summer.
The automatic rule here is relative to *recent* days instead: threshold(t) = factor x median MSE of the
last `window` complete days before t (all of them, flagged or not, so a season change cannot lock the
rule out; the median shrugs off the few anomalous days). The factor is calibrated on the training days
as percentile / median of their MSE, so on the first day the rule equals the percentile rule.
Measured on the sample meter file and nyc_taxi: BENCHMARKS.md "Meter thresholds / nyc_taxi".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from spear_tui.errors import UserError

MIN_FACTOR = 1.5
MIN_SCALE = 0.5  # weekday rule: the MAD scale is at least this share of the median (quiet weeks)


@dataclass(frozen=True)
class ThresholdRule:
    kind: str  # "fixed" | "percentile" | "rolling" | "weekday"
    value: float | None = None  # fixed threshold
    percentile: float = 99.0  # percentile of training MSE (percentile rule; rolling factor calibration)
    window: int = 14  # rolling: recent complete days; weekday: recent days of the same weekday
    factor: float | None = None  # rolling: None = calibrated on the training MSE
    z: float = 14.0  # weekday: robust z (median + z x scaled MAD) above which a day is flagged

    def describe(self) -> str:
        if self.kind == "fixed":
            return f"fixed {self.value:g}"
        if self.kind == "percentile":
            return f"percentile {self.percentile:g} of training MSE"
        if self.kind == "weekday":
            return (f"weekday: median + {self.z:g} x MAD of the MSE of the last {self.window} days "
                    "of the same weekday")
        f = "auto" if self.factor is None else f"{self.factor:g}"
        return f"rolling: factor {f} x median MSE of the last {self.window} complete days"


AUTO = ThresholdRule("weekday", window=12, z=14.0)


@dataclass(frozen=True)
class Flags:
    thresholds: np.ndarray  # float (n_days,): threshold in force on each day
    flagged: np.ndarray  # bool (n_days,): mse > threshold (never for NaN/incomplete days)
    rule: str  # human-readable rule, with the calibrated factor
    factor: float | None = None


def parse_threshold(text: str) -> ThresholdRule:
    """CLI/console syntax: "auto" | "percentile[:Q]" | "rolling[:WINDOW[:FACTOR]]" |
    "weekday[:Z[:WEEKS]]" | a number."""
    t = text.strip().lower()
    try:
        if t == "auto":
            return AUTO
        if t.startswith("percentile"):
            q = float(t.split(":", 1)[1]) if ":" in t else 99.0
            if not 0 < q <= 100:
                raise ValueError
            return ThresholdRule("percentile", percentile=q)
        if t.startswith("rolling"):
            parts = t.split(":")
            window = int(parts[1]) if len(parts) > 1 and parts[1] else 14
            factor = float(parts[2]) if len(parts) > 2 else None
            if window < 1 or (factor is not None and factor <= 0):
                raise ValueError
            return ThresholdRule("rolling", window=window, factor=factor)
        if t.startswith("weekday"):
            parts = t.split(":")
            z = float(parts[1]) if len(parts) > 1 and parts[1] else 14.0
            weeks = int(parts[2]) if len(parts) > 2 else 12
            if weeks < 1 or not z > 0 or not np.isfinite(z):
                raise ValueError
            return ThresholdRule("weekday", window=weeks, z=z)
        value = float(t)
    except (ValueError, IndexError):
        raise UserError(
            f"bad threshold {text!r}: use auto, percentile[:Q], rolling[:DAYS[:FACTOR]], "
            "weekday[:Z[:WEEKS]] or a number"
        ) from None
    if not np.isfinite(value) or value < 0:
        raise UserError(f"bad threshold {text!r}: must be a non-negative number")
    return ThresholdRule("fixed", value=value)


def calibrated_factor(train_mse: np.ndarray, percentile: float = 99.0) -> float:
    """percentile / median of the training MSE, at least MIN_FACTOR."""
    m = np.asarray(train_mse, dtype=np.float64)
    m = m[np.isfinite(m)]
    if m.size == 0:
        raise UserError("no training MSE stored with this model; give a fixed --threshold")
    med = float(np.median(m))
    if med <= 0:
        return MIN_FACTOR
    return max(MIN_FACTOR, float(np.percentile(m, percentile)) / med)


def flag_days(
    mse: np.ndarray,
    rule: ThresholdRule | float,
    train_mse: np.ndarray | None = None,
    *,
    dates: Sequence[date] | None = None,
    train_weekdays: np.ndarray | None = None,
) -> Flags:
    """Thresholds and flags for days in date order. Pure: same inputs, same flags; cheap enough to
    call on every slider move. NaN MSE (incomplete days) is never flagged and never sets a level.
    The weekday rule needs the days' `dates`; `train_weekdays` (Mon=0, one per training MSE) seeds
    each weekday's history (without it every weekday starts from all training MSEs)."""
    if not isinstance(rule, ThresholdRule):
        rule = ThresholdRule("fixed", value=float(rule))
    mse = np.asarray(mse, dtype=np.float64)
    valid = np.isfinite(mse)
    n = mse.size
    if rule.kind == "fixed":
        thr = np.full(n, float(rule.value or 0.0))
        factor = None
    elif rule.kind == "percentile":
        base = _train(train_mse)
        thr = np.full(n, float(np.percentile(base, rule.percentile)))
        factor = None
    elif rule.kind == "rolling":
        base = _train(train_mse)
        factor = rule.factor if rule.factor is not None else calibrated_factor(base, rule.percentile)
        thr = factor * _rolling_median(mse, valid, base, rule.window)
    elif rule.kind == "weekday":
        if dates is None or len(dates) != n:
            raise UserError("the weekday threshold rule needs the days' dates")
        thr = _weekday_threshold(mse, valid, dates, _train(train_mse), train_mse, train_weekdays, rule)
        factor = None
    else:
        raise UserError(f"unknown threshold rule {rule.kind!r}")
    flagged = valid & (np.where(valid, mse, -np.inf) > thr)
    desc = rule.describe() if factor is None or rule.factor is not None else (
        f"rolling: factor {factor:.3g} (training p{rule.percentile:g}/median) x median MSE "
        f"of the last {rule.window} complete days"
    )
    return Flags(thr, flagged, desc, factor)


def _train(train_mse: np.ndarray | None) -> np.ndarray:
    m = np.asarray(train_mse if train_mse is not None else [], dtype=np.float64)
    m = m[np.isfinite(m)]
    if m.size == 0:
        raise UserError("no training MSE stored with this model; give a fixed --threshold")
    return m


def _rolling_median(mse: np.ndarray, valid: np.ndarray, train: np.ndarray, window: int) -> np.ndarray:
    """Median of the `window` valid MSEs before each day; history starts as the training MSEs' tail."""
    seed = train[-window:]
    hist = np.concatenate([seed, mse[valid]])
    # index in `hist` just past the last valid day strictly before each day
    ends = seed.size + np.concatenate([[0], np.cumsum(valid)[:-1]]).astype(np.int64)[: mse.size]
    padded = np.pad(hist, (window, 0), constant_values=np.nan)
    rows = np.lib.stride_tricks.sliding_window_view(padded, window)[ends]  # rows[i] = hist[end-window:end]
    return np.nanmedian(rows, axis=1) if mse.size else np.zeros(0)


def _weekday_threshold(
    mse: np.ndarray,
    valid: np.ndarray,
    dates: Sequence[date],
    base: np.ndarray,
    train_mse: np.ndarray | None,
    train_weekdays: np.ndarray | None,
    rule: ThresholdRule,
) -> np.ndarray:
    """median + z x max(1.4826 MAD, MIN_SCALE x median) of the last `window` valid MSEs of the day's
    weekday (all of them, flagged or not: a season change cannot lock the rule out; the median and
    the MAD shrug off the odd holiday). Histories start with that weekday's training MSEs."""
    hist: dict[int, list[float]] = {w: [] for w in range(7)}
    tm = np.asarray(train_mse if train_mse is not None else [], dtype=np.float64)
    tw = None if train_weekdays is None else np.asarray(train_weekdays, dtype=np.int64)
    if tw is not None and tw.shape == tm.shape:
        for m, w in zip(tm, tw, strict=True):
            if np.isfinite(m) and 0 <= w < 7:
                hist[int(w)].append(float(m))
    for w in range(7):
        if not hist[w]:
            hist[w] = [float(m) for m in base]
    thr = np.empty(mse.size)
    for i, d in enumerate(dates):
        h = np.asarray(hist[d.weekday()][-rule.window:])
        med = float(np.median(h))
        scale = max(1.4826 * float(np.median(np.abs(h - med))), MIN_SCALE * med)
        thr[i] = med + rule.z * scale
        if valid[i]:
            hist[d.weekday()].append(float(mse[i]))
    return thr
