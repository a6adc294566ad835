"""The stacked-LSTM detector's decision: which chunks it flags at a sensitivity k, and the alerts it raises.

One rule, used by the online detector while it runs and by every sink that re-flags stored scores (the
console's slider, a review of a store): so at any k the console, the store and `scan --json` agree.
The rule's parameters travel with the scores (`DetectorStarted.rule`, stored with the session).

Two parts:
- the rolling rule (`spear_tui.detect.peaks`): chunk i is flagged when its score is more than k robust
  deviations above the median of the scores before it; nothing is flagged during the warm-up;
- the warm-up review (trained nets only, `review` > 0): warm-up chunks have no rolling baseline, so they
  are judged once against the first `review` scores of the run. They raise alerts but their chunks stay
  unflagged (that was the online decision when they were scored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from spear_tui.detect.lstm import peaks
from spear_tui.events import Alert, ChunkScored

DETECTOR = "lstm"
REVIEW_AFTER = 3  # a trained net's warm-up chunks are judged against its first REVIEW_AFTER x warmup scores


@dataclass(frozen=True)
class PeakRule:
    """A detector's decision parameters (`OnlineLSTMDetector.rule`)."""

    warmup: int
    window: int = 50
    skip: int = 0  # leading scores left out of the baseline (a fresh net's first losses are it learning)
    rel_floor: float = 0.02
    review: int = 0  # warm-up chunks are judged against the first `review` scores; 0: never

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> PeakRule:
        return cls(**{k: d[k] for k in ("warmup", "window", "skip", "rel_floor", "review") if k in d})

    def peak_params(self) -> dict:
        """Keyword arguments of the `peaks` functions."""
        return {"warmup": self.warmup, "window": self.window, "rel_floor": self.rel_floor, "skip": self.skip}

    def flags(self, scores: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
        """(flagged, threshold with NaN in the warm-up) of a whole score series at sensitivity k."""
        return peaks.flag_scores(np.asarray(scores, np.float64), float(k), **self.peak_params())

    def heights(self, scores: np.ndarray) -> np.ndarray:
        """Each score's height in baseline SDs as the detector judges it: against the rolling baseline
        after the warm-up, against the review baseline in it (NaN where nothing judges it). What the
        alerts' reasons say, for every chunk (benchmarks and tests report heights of unflagged ones)."""
        s = np.asarray(scores, np.float64)
        out = peaks.peak_heights(s, **self.peak_params())
        base = self.review_baseline(s)
        if base is not None:
            w = min(self.warmup, len(s))
            out[:w] = (s[:w] - base[0]) / base[1]
        return out

    def review_baseline(self, scores: np.ndarray) -> tuple[float, float] | None:
        """(median, deviation) warm-up chunks are judged by, or None (no review, or too few scores)."""
        if not self.review:
            return None
        return peaks.warmup_baseline(np.asarray(scores, np.float64)[: self.review], self.rel_floor)


def severity(height: float, k: float) -> str:
    return "high" if height >= 2 * k else "medium"


def _view(protocol: str, detector: str) -> str:
    """How a reason names the model: "mqtt", or "mqtt rhythm" for a second view of the protocol."""
    return protocol if detector == DETECTOR else f"{protocol} {detector}"


def _who(talkers: Sequence[str]) -> str:
    return ", ".join(talkers) if talkers else "unknown"


def _chunk_alert(c: ChunkScored, k: float, med: float, dev: float, detector: str, why: str) -> Alert:
    """An alert about chunk `c`, whose score stands `height` deviations above `med` (threshold med + k dev);
    `why` words it, with {height} and {thr} filled in."""
    thr = med + k * dev
    height = (c.score - med) / dev
    return Alert(
        protocol=c.protocol, detector=detector, start=c.start, end=c.end, first_frame=c.first_frame,
        last_frame=c.last_frame, score=c.score, threshold=float(thr), file=c.file, talkers=c.talkers,
        severity=severity(height, k), detectors=(detector,), chunk=c.index,
        reason=why.format(height=height, thr=thr) + f"; most messages from {_who(c.talkers)}",
    )  # fmt: skip


def chunk_alert(c: ChunkScored, k: float, med: float, dev: float, detector: str = DETECTOR) -> Alert:
    """The alert of a chunk flagged by the rolling rule (threshold med + k * dev)."""
    why = (
        f"{_view(c.protocol, detector)} chunk {c.index} ({c.messages} messages): prediction loss "
        f"{c.score:.3g} is {{height:.1f}} baseline SDs above the rolling median {med:.3g} "
        f"(threshold {{thr:.3g}} at k={k:g})"
    )
    return _chunk_alert(c, k, med, dev, detector, why)


def review_alert(
    c: ChunkScored, k: float, med: float, dev: float, judged_on: int, detector: str = DETECTOR
) -> Alert:
    """The alert of a warm-up chunk that stands out among the run's first `judged_on` scores."""
    why = (
        f"{_view(c.protocol, detector)} chunk {c.index} (warm-up, judged after {judged_on} chunks): "
        f"prediction loss {c.score:.3g} is {{height:.1f}} SDs above the median {med:.3g} of the first "
        f"{judged_on} (threshold {{thr:.3g}} at k={k:g})"
    )
    return _chunk_alert(c, k, med, dev, detector, why)


def review_alerts(
    chunks: Sequence[ChunkScored], scores: np.ndarray, rule: PeakRule, k: float, detector: str = DETECTOR
) -> list[Alert]:
    """Alerts of the warm-up chunks among `chunks`, judged against the first `rule.review` scores."""
    base = rule.review_baseline(scores)
    if base is None:
        return []
    med, dev = base
    judged_on = min(len(scores), rule.review)
    return [
        review_alert(c, k, med, dev, judged_on, detector)
        for c in chunks
        if c.index < rule.warmup and np.isfinite(c.score) and c.score > med + k * dev
    ]


def lstm_alerts(
    chunks: Sequence[ChunkScored], rule: PeakRule, k: float, detector: str = DETECTOR
) -> list[Alert]:
    """Every alert the detector named `detector` raises at sensitivity k over a run's chunks
    (`chunks[i].index == i`), in the order of the chunks: what `OnlineLSTMDetector` raised, had k been
    set before the run."""
    scores = np.fromiter((c.score for c in chunks), np.float64, len(chunks))
    flags, thr = rule.flags(scores, k)
    med, dev = peaks.baseline(scores, **rule.peak_params())
    out = review_alerts(chunks, scores, rule, k, detector)
    out.extend(
        chunk_alert(chunks[int(i)], k, float(med[i]), float(dev[i]), detector)
        for i in np.flatnonzero(flags)
    )
    return out


def reset_alert(
    protocol: str, span: tuple[float, float, int, int, int], messages: int, talkers: tuple[str, ...],
    score: float, loss: float, resets: int, detector: str = DETECTOR,
) -> Alert:
    """The alert for a non-finite loss: the detector went back to its initial weights and statistics.
    `span` is (start, end, first_frame, last_frame, file) of the chunk, which gets no score."""
    start, end, first, last, file = span
    return Alert(
        protocol=protocol, detector=detector, start=start, end=end, first_frame=first, last_frame=last,
        score=0.0, threshold=0.0, file=file, talkers=talkers, severity="low", detectors=(detector,),
        reason=(
            f"{_view(protocol, detector)} LSTM loss became non-finite (score {score}, "
            f"training loss {loss}) on "
            f"{messages} messages: detector reset to its initial weights and statistics (reset "
            f"{resets}); this chunk is not scored"
        ),
    )  # fmt: skip
