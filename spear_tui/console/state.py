"""Everything the console shows, accumulated from engine events; no Textual here.

The UI thread applies event batches (`ConsoleState.apply`) and screens read from it. Keeping this pure
makes re-flagging testable without a terminal: moving a slider re-evaluates the stored scores
(`ModelTrack.reflag`, `MeterTrack.reflag`), it never retrains. Everything is bounded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from spear_tui.events import (
    Alert,
    ChunkScored,
    DayScored,
    EngineError,
    MessagesSeen,
    PacketsSkipped,
    SourceProgress,
    TrainingProgress,
)

MAX_CHUNKS = 100_000
MAX_ALERTS = 5_000
RATE_WINDOW = 10.0  # seconds of capture time over which msgs/s is measured


def flag_scores(scores: np.ndarray, k: float, warmup: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-flag stored chunk scores with sensitivity `k` using the detector's own rule (numpy only)."""
    from spear_tui.detect.lstm.peaks import flag_scores as detector_rule

    flags, thresholds = detector_rule(np.asarray(scores, dtype=np.float64), float(k), int(warmup))
    return np.asarray(flags, dtype=bool), np.asarray(thresholds, dtype=np.float64)


class _Growing:
    """An append-only float array with amortised O(1) appends and a cheap numpy view."""

    def __init__(self, dtype: type = np.float64) -> None:
        self._a = np.empty(64, dtype=dtype)
        self.n = 0

    def append(self, v: float) -> None:
        if self.n == len(self._a):
            self._a = np.concatenate([self._a, np.empty_like(self._a)])
        self._a[self.n] = v
        self.n += 1

    def view(self) -> np.ndarray:
        return self._a[: self.n]


@dataclass
class ModelTrack:
    """One online sequence model (one protocol): its chunk scores and how they are flagged now."""

    protocol: str
    detector: str = "lstm"
    scores: _Growing = field(default_factory=_Growing)
    train_losses: _Growing = field(default_factory=_Growing)
    engine_thresholds: _Growing = field(default_factory=_Growing)
    engine_flags: _Growing = field(default_factory=lambda: _Growing(np.bool_))
    chunks: deque = field(default_factory=lambda: deque(maxlen=MAX_CHUNKS))
    warmup: int = 0
    k: float | None = None  # user sensitivity; None: the engine's flags/thresholds are shown as is
    flags: np.ndarray | None = None  # re-flagged with k (None: engine's)
    thresholds: np.ndarray | None = None
    messages: int = 0
    alerts: int = 0
    _rate: deque = field(default_factory=lambda: deque(maxlen=512))

    def add_chunk(self, ev: ChunkScored) -> None:
        self.scores.append(ev.score)
        self.train_losses.append(ev.train_loss)
        self.engine_thresholds.append(np.nan if ev.threshold is None else ev.threshold)
        self.engine_flags.append(ev.flagged)
        if ev.threshold is None and self.warmup == self.scores.n - 1:
            self.warmup = self.scores.n
        self.chunks.append(ev)
        if self.k is not None:
            self.reflag(self.k)

    def add_messages(self, ev: MessagesSeen) -> None:
        self.messages += ev.messages
        self._rate.append((ev.first_time, ev.last_time, ev.messages))

    @property
    def rate(self) -> float:
        """Messages per second of capture time over the last RATE_WINDOW seconds."""
        if not self._rate:
            return 0.0
        end = self._rate[-1][1]
        recent = [r for r in self._rate if r[1] >= end - RATE_WINDOW]
        span = end - min(r[0] for r in recent)
        total = sum(r[2] for r in recent)
        return total / span if span > 0 else 0.0

    def reflag(self, k: float) -> int:
        """Re-evaluate every stored score with sensitivity k; returns how many chunks it flags."""
        self.k = float(k)
        self.flags, self.thresholds = flag_scores(self.scores.view(), self.k, self.warmup)
        return int(self.flags.sum())

    def current_flags(self) -> np.ndarray:
        return self.flags if self.flags is not None else self.engine_flags.view().astype(bool)

    def current_thresholds(self) -> np.ndarray:
        return self.thresholds if self.thresholds is not None else self.engine_thresholds.view()

    @property
    def flagged(self) -> int:
        return int(self.current_flags().sum())

    @property
    def threshold(self) -> float | None:
        t = self.current_thresholds()
        return None if len(t) == 0 or np.isnan(t[-1]) else float(t[-1])

    @property
    def last_score(self) -> float | None:
        return float(self.scores.view()[-1]) if self.scores.n else None


@dataclass
class MeterTrack:
    """Scored days of one meter measurement, flagged by an MSE threshold the user can move."""

    measurement: str
    days: list[DayScored] = field(default_factory=list)
    threshold: float | None = None  # user threshold; None: the engine's

    def add(self, ev: DayScored) -> None:
        self.days.append(ev)

    def mses(self) -> np.ndarray:
        return np.fromiter((d.mse for d in self.days), dtype=np.float64, count=len(self.days))

    def current_threshold(self) -> float | None:
        if self.threshold is not None:
            return self.threshold
        return self.days[-1].threshold if self.days else None

    def flags(self) -> np.ndarray:
        thr = self.current_threshold()
        if thr is None or self.threshold is None:
            return np.fromiter((d.flagged for d in self.days), dtype=bool, count=len(self.days))
        return self.mses() > thr

    def reflag(self, threshold: float) -> int:
        self.threshold = float(threshold)
        return int(self.flags().sum())


@dataclass
class ConsoleState:
    tracks: dict[str, ModelTrack] = field(default_factory=dict)
    meters: dict[str, MeterTrack] = field(default_factory=dict)
    alerts: deque = field(default_factory=lambda: deque(maxlen=MAX_ALERTS))
    alerts_total: int = 0
    progress: SourceProgress | None = None
    training: dict[str, TrainingProgress] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    other_frames: int = 0
    summaries: dict[str, dict] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    events: int = 0
    alerts_by_detector: dict[str, dict[str, int]] = field(default_factory=dict)  # protocol -> name -> n
    later_agree: dict[int, set[str]] = field(default_factory=dict)  # alert running number -> detectors
    learning_left: float | None = None  # capture seconds of the learning period left (no site), or None

    def _note_agreement(self, ev: Alert) -> None:
        """The engine names, on each new alert, the detectors of earlier overlapping alerts; the earlier
        alert cannot be re-emitted (events are frozen), so the console records that `ev.detector` agreed
        with it afterwards (only ev's own detector: overlap is not transitive)."""
        n_before = self.alerts_total - len(self.alerts)  # running number of alerts[0]
        for j in range(len(self.alerts) - 1, max(-1, len(self.alerts) - 201), -1):
            other = self.alerts[j]
            if other.protocol != ev.protocol or not (other.start <= ev.end and ev.start <= other.end):
                continue
            n = n_before + j
            if ev.detector not in {other.detector, *other.detectors, *self.later_agree.get(n, ())}:
                self.later_agree.setdefault(n, set()).add(ev.detector)
        for n in [n for n in self.later_agree if n < n_before]:  # bounded like the alert list
            del self.later_agree[n]

    def flagged_share(self, protocol: str) -> tuple[dict[str, float], int]:
        """(talker -> share of the currently flagged chunks naming it among their top talkers, number of
        flagged chunks). Follows the slider: it reads the track's current flags, not the engine's."""
        track = self.tracks.get(protocol)
        if track is None or not track.chunks:
            return {}, 0
        flags = track.current_flags()
        offset = len(flags) - len(track.chunks)  # chunks is bounded; flags covers every score
        idx = np.flatnonzero(flags[max(0, offset) :])
        if not len(idx):
            return {}, 0
        chunks = list(track.chunks)
        counts: dict[str, int] = {}
        for i in idx:
            for t in set(chunks[i].talkers):
                counts[t] = counts.get(t, 0) + 1
        return {t: n / len(idx) for t, n in counts.items()}, len(idx)

    def track(self, protocol: str) -> ModelTrack:
        if protocol not in self.tracks:
            self.tracks[protocol] = ModelTrack(protocol)
        return self.tracks[protocol]

    def meter(self, measurement: str) -> MeterTrack:
        if measurement not in self.meters:
            self.meters[measurement] = MeterTrack(measurement)
        return self.meters[measurement]

    def apply(self, events: Iterable[object]) -> set[str]:
        """Fold a batch of events in; returns the kinds that changed so screens refresh only those."""
        changed: set[str] = set()
        for ev in events:
            self.events += 1
            if isinstance(ev, ChunkScored):
                self.track(ev.protocol).add_chunk(ev)
                changed.add("chunks")
            elif isinstance(ev, MessagesSeen):
                self.track(ev.protocol).add_messages(ev)
                changed.add("messages")
            elif isinstance(ev, Alert):
                self._note_agreement(ev)
                self.alerts.append(ev)
                self.alerts_total += 1
                if ev.protocol in self.tracks or ev.detector == "lstm":
                    self.track(ev.protocol).alerts += 1
                per = self.alerts_by_detector.setdefault(ev.protocol, {})
                for name in {ev.detector, *ev.detectors}:
                    per[name] = per.get(name, 0) + 1
                changed.add("alerts")
            elif isinstance(ev, DayScored):
                self.meter(ev.measurement).add(ev)
                changed.add("days")
            elif isinstance(ev, SourceProgress):
                self.progress = ev
                changed.add("progress")
            elif isinstance(ev, TrainingProgress):
                self.training[ev.model] = ev
                changed.add("training")
            elif isinstance(ev, PacketsSkipped):
                self.skipped[ev.protocol] = self.skipped.get(ev.protocol, 0) + ev.count
                changed.add("messages")
            elif isinstance(ev, EngineError):
                self.errors.append(ev.message)
                changed.add("errors")
            else:  # events added to the contract later (OtherTraffic, SummaryUpdated): by name
                name = type(ev).__name__
                if name == "OtherTraffic":
                    self.other_frames += int(getattr(ev, "frames", 0))
                    changed.add("messages")
                elif name == "SummaryUpdated":
                    self.summaries[ev.protocol] = ev.summary  # type: ignore[attr-defined]
                    changed.add("summary")
        return changed
