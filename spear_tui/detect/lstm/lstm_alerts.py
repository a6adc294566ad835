"""The stacked LSTM's alerts: what a flagged chunk, a reviewed warm-up chunk or a reset tells the user.

Why a module of its own: `online.py` decides (scores, thresholds, flags); this says it in plain words,
with the numbers that decided it, and holds the warm-up review rule (pure: scores in, alerts out).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from spear_tui.detect.lstm import peaks
from spear_tui.events import Alert, ChunkScored

DETECTOR = "lstm"
REVIEW_AFTER = 3  # warm-up chunks are judged against the first REVIEW_AFTER x warmup_chunks scores


def _severity(height: float, k: float) -> str:
    """Twice the sensitivity above the baseline is high."""
    return "high" if height >= 2 * k else "medium"


def _who(talkers: tuple[str, ...]) -> str:
    return ", ".join(talkers) if talkers else "unknown"


def peak_alert(chunk: ChunkScored, messages: int, med: float, dev: float, k: float) -> Alert:
    """The alert for a chunk flagged online: its score against the rolling baseline (median, deviation)
    its threshold came from."""
    height = (chunk.score - med) / dev
    return Alert(
        protocol=chunk.protocol, detector=DETECTOR, start=chunk.start, end=chunk.end,
        first_frame=chunk.first_frame, last_frame=chunk.last_frame, score=chunk.score,
        threshold=float(chunk.threshold), file=chunk.file, talkers=chunk.talkers,
        severity=_severity(height, k), detectors=(DETECTOR,),
        reason=(
            f"{chunk.protocol} chunk {chunk.index} ({messages} messages): prediction loss {chunk.score:.3g} "
            f"is {height:.1f} baseline SDs above the rolling median {med:.3g} "
            f"(threshold {chunk.threshold:.3g} at k={k:g}); most messages from {_who(chunk.talkers)}"
        ),
    )


def warmup_alerts(chunks: Iterable[ChunkScored], first: np.ndarray, k: float) -> list[Alert]:
    """Alerts for warm-up chunks that stand out among the run's `first` scores (the first REVIEW_AFTER
    x warmup_chunks, or all of a shorter run). Their ChunkScored events keep threshold None (that was
    the online decision); the alert says when and against what they were judged."""
    base = peaks.warmup_baseline(np.asarray(first))
    if base is None:
        return []
    med, dev = base
    thr = med + k * dev
    alerts = []
    for c in chunks:
        if not (np.isfinite(c.score) and c.score > thr):
            continue
        height = (c.score - med) / dev
        alerts.append(Alert(
            protocol=c.protocol, detector=DETECTOR, start=c.start, end=c.end,
            first_frame=c.first_frame, last_frame=c.last_frame, score=c.score, threshold=thr,
            file=c.file, talkers=c.talkers, severity=_severity(height, k), detectors=(DETECTOR,),
            reason=(
                f"{c.protocol} chunk {c.index} (warm-up, judged after {len(first)} chunks): "
                f"prediction loss {c.score:.3g} is {height:.1f} SDs above the median {med:.3g} of the "
                f"first {len(first)} (threshold {thr:.3g} at k={k:g}); most messages from {_who(c.talkers)}"
            ),
        ))
    return alerts


def reset_alert(
    protocol: str, span: tuple[float, float, int, int, int], messages: int, talkers: tuple[str, ...],
    score: float, loss: float, resets: int,
) -> Alert:
    """The alert for a non-finite loss: the detector went back to its initial weights and statistics.
    `span` is (start, end, first_frame, last_frame, file) of the chunk, which gets no score."""
    start, end, first, last, file = span
    return Alert(
        protocol=protocol, detector=DETECTOR, start=start, end=end, first_frame=first, last_frame=last,
        score=0.0, threshold=0.0, file=file, talkers=talkers, severity="low", detectors=(DETECTOR,),
        reason=(
            f"{protocol} LSTM loss became non-finite (score {score}, training loss {loss}) on "
            f"{messages} messages: detector reset to its initial weights and statistics (reset "
            f"{resets}); this chunk is not scored"
        ),
    )
