"""Inline SVG loss plots: no JavaScript, no external files, so a report opens anywhere offline.

Long runs are reduced to at most one min/max pair per pixel column, so a 100k-chunk session still
makes a small page while keeping every spike visible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np

from spear_tui.events import Alert, ChunkScored, DayScored
from spear_tui.report.text import inert, utc

SCORE, TRAIN, THRESH, FLAG, ALERT_FILL = "#1f5fbf", "#8c8c8c", "#e08a00", "#d62728", "#f4c7c7"
W, H, ML, MR, MT, MB = 1000, 230, 70, 15, 28, 34  # size and margins (px)
_HEAD = f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">'


def _reduce(x: np.ndarray, y: np.ndarray, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep min and max of y per pixel column (x sorted); NaNs dropped."""
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size <= 2 * cols:
        return x, y
    span = x[-1] - x[0] or 1.0
    bucket = np.minimum(((x - x[0]) / span * cols).astype(np.int64), cols - 1)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    lo = np.minimum.reduceat(y, starts)
    hi = np.maximum.reduceat(y, starts)
    xs = np.repeat(x[starts], 2)
    ys = np.column_stack([lo, hi]).ravel()
    return xs, ys


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def loss_plot(title: str, chunks: Sequence[ChunkScored], alerts: Sequence[Alert] = ()) -> str:
    """One protocol's chunk scores (before training), training losses, threshold, flagged chunks and
    alert windows against capture time."""
    pw, ph = W - ML - MR, H - MT - MB
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">'
    )
    parts = [head, f'<text x="{ML}" y="18" class="t">{escape(inert(title))}</text>']
    if not chunks:
        parts.append(f'<text x="{ML}" y="{MT + 30}">no scored chunks</text></svg>')
        return "".join(parts)
    t = np.array([c.end for c in chunks], dtype=float)
    order = np.argsort(t, kind="stable")
    t = t[order]
    score = np.array([c.score for c in chunks], dtype=float)[order]
    train = np.array([c.train_loss for c in chunks], dtype=float)[order]
    thr = np.array([math.nan if c.threshold is None else c.threshold for c in chunks], dtype=float)[order]
    flagged = np.array([c.flagged for c in chunks], dtype=bool)[order]
    vals = np.concatenate([score, train, thr])
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        vals = np.array([0.0, 1.0])
    pos = vals[vals > 0]
    log = pos.size == vals.size and pos.size > 0 and pos.max() / pos.min() > 50
    lo, hi = (np.log10(pos.min()), np.log10(pos.max())) if log else (min(0.0, vals.min()), vals.max())
    if hi <= lo:
        hi = lo + 1.0
    t0, t1 = t[0], t[-1] if t[-1] > t[0] else t[0] + 1.0

    def px(x: np.ndarray) -> np.ndarray:
        return ML + (x - t0) / (t1 - t0) * pw

    def py(y: np.ndarray) -> np.ndarray:
        yy = np.log10(np.where(y > 0, y, np.nan)) if log else y
        return MT + ph - (yy - lo) / (hi - lo) * ph

    parts.append(f'<rect x="{ML}" y="{MT}" width="{pw}" height="{ph}" class="bg"/>')
    for a in alerts:  # shaded alert windows underneath everything
        x0 = float(px(np.array([max(a.start, t0)]))[0])
        x1 = float(px(np.array([min(a.end, t1)]))[0])
        if x1 >= ML and x0 <= ML + pw:
            parts.append(
                f'<rect x="{x0:.1f}" y="{MT}" width="{max(x1 - x0, 2):.1f}" height="{ph}" '
                f'fill="{ALERT_FILL}"/>'
            )
    for series, colour, width in ((train, TRAIN, 1), (score, SCORE, 1.5), (thr, THRESH, 1.5)):
        xs, ys = _reduce(t, series, pw)
        if xs.size:
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px(xs), py(ys), strict=True))
            dash = ' stroke-dasharray="6 3"' if colour == THRESH else ""
            parts.append(
                f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}/>'
            )
    fx, fy = _reduce(t[flagged], score[flagged], pw)
    for a, b in zip(px(fx), py(fy), strict=True):
        parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{FLAG}"/>')
    ticks = [(lo, MT + ph), (hi, MT)]
    for v, y in ticks:
        label = _fmt(10**v if log else v)
        parts.append(f'<text x="{ML - 6}" y="{y + 4}" text-anchor="end">{label}</text>')
    scale = "log scale" if log else "linear"
    parts.append(f'<text x="{ML - 6}" y="{MT + ph / 2}" text-anchor="end" class="s">{scale}</text>')
    parts.append(f'<text x="{ML}" y="{H - 10}">{utc(t0)}</text>')
    parts.append(f'<text x="{ML + pw}" y="{H - 10}" text-anchor="end">{utc(t1)}</text>')
    legend = [
        (SCORE, "score (before training)"),
        (TRAIN, "train loss"),
        (THRESH, "threshold"),
        (FLAG, "flagged"),
    ]
    x = ML + 330
    for colour, name in legend:
        parts.append(f'<rect x="{x}" y="9" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="19" class="s">{name}</text>')
        x += 26 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def day_plot(title: str, days: Sequence[DayScored]) -> str:
    """Meter days: one bar per day (reconstruction MSE), flagged days red, threshold dashed."""
    pw, ph = W - ML - MR, H - MT - MB
    parts = [
        _HEAD,
        f'<text x="{ML}" y="18" class="t">{escape(inert(title))}</text>',
        f'<rect x="{ML}" y="{MT}" width="{pw}" height="{ph}" class="bg"/>',
    ]
    mse = np.array([d.mse for d in days], dtype=float)
    thr = np.array([d.threshold for d in days], dtype=float)
    both = np.concatenate([mse, thr])
    both = both[np.isfinite(both)]
    hi = float(both.max()) if both.size and both.max() > 0 else 1.0
    bw = pw / max(len(days), 1)
    for i, d in enumerate(days):
        if not math.isfinite(d.mse):
            continue
        h = d.mse / hi * ph
        colour = FLAG if d.flagged else SCORE
        parts.append(
            f'<rect x="{ML + i * bw:.1f}" y="{MT + ph - h:.1f}" width="{max(bw - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="{colour}"/>'
        )
    if days and math.isfinite(days[-1].threshold):
        y = MT + ph - days[-1].threshold / hi * ph
        parts.append(
            f'<line x1="{ML}" x2="{ML + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="{THRESH}" '
            'stroke-dasharray="6 3"/>'
        )
    parts.append(f'<text x="{ML - 6}" y="{MT + 4}" text-anchor="end">{_fmt(hi)}</text>')
    parts.append(f'<text x="{ML - 6}" y="{MT + ph + 4}" text-anchor="end">0</text>')
    if days:
        parts.append(f'<text x="{ML}" y="{H - 10}">{escape(inert(days[0].date))}</text>')
        parts.append(
            f'<text x="{ML + pw}" y="{H - 10}" text-anchor="end">{escape(inert(days[-1].date))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
