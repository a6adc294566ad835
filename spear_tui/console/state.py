"""Everything the console shows, accumulated from engine events; no Textual here.

The UI thread applies event batches (`ConsoleState.apply`) and screens read from it. Keeping this pure
makes re-flagging testable without a terminal: moving a slider re-evaluates the stored scores with the
detector's own rule (`ConsoleState.reflag`, `MeterTrack.reflag`), it never retrains. Everything is bounded.

A protocol can have more than one chunk-scoring model (the MQTT flow LSTM "lstm" and its "rhythm"
view): tracks are keyed by (protocol, detector), each with its own rule and slider.

Incidents are the engine's (`Incident` events) while the user has not moved a slider of the protocol.
After that, the protocol's incidents are the same grouping (`spear_tui.incidents`) over the alerts each
moved model raises at its own k (`spear_tui.detect.lstm.decision.lstm_alerts`) and the other alerts as
the engine raised them: what `scan --sensitivity K` would show.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from spear_tui.detect.lstm.decision import PeakRule, lstm_alerts
from spear_tui.events import (
    Alert,
    ChunkScored,
    DayScored,
    DetectorStarted,
    EngineError,
    Incident,
    MessagesSeen,
    OtherTraffic,
    PacketsSkipped,
    SourceProgress,
    SummaryUpdated,
    TrainingProgress,
)
from spear_tui.incidents import IncidentLedger, group_incidents

MAX_CHUNKS = 100_000
MAX_ALERTS = 5_000
RATE_WINDOW = 10.0  # seconds of capture time over which msgs/s is measured


class _Growing:
    """An append-only float array with amortised O(1) appends and a cheap numpy view."""

    def __init__(self, dtype: type = np.float64) -> None:
        self._a: np.ndarray = np.empty(64, dtype=dtype)
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
    rule: PeakRule | None = None  # the detector's decision rule (DetectorStarted); None: not known
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

    def decision_rule(self) -> PeakRule:
        """The detector's rule; an engine that sent none (an old store) gets the plain rolling rule."""
        return self.rule if self.rule is not None else PeakRule(warmup=self.warmup)

    def reflag(self, k: float) -> int:
        """Re-evaluate every stored score with sensitivity k; returns how many chunks it flags."""
        self.k = float(k)
        flags, thresholds = self.decision_rule().flags(self.scores.view(), self.k)
        self.flags, self.thresholds = np.asarray(flags, dtype=bool), np.asarray(thresholds, np.float64)
        return int(self.flags.sum())

    def alerts_at_k(self) -> list[Alert]:
        """The chunk alerts the detector raises at the user's k (needs every chunk still held)."""
        if self.k is None or len(self.chunks) != self.scores.n:
            return []
        return lstm_alerts(list(self.chunks), self.decision_rule(), self.k, self.detector)

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


Key = tuple[str, str]  # (protocol, detector) of a chunk-scoring model


@dataclass
class ConsoleState:
    tracks: dict[Key, ModelTrack] = field(default_factory=dict)
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
    learning_left: float | None = None  # capture seconds of the learning period left (no site), or None
    engine_incidents: IncidentLedger = field(default_factory=IncidentLedger)
    # protocol -> (incidents, their alerts by id) re-grouped at the user's k (see the module docstring)
    regrouped: dict[str, tuple[list[Incident], dict[int, Alert]]] = field(default_factory=dict)

    def reflag(self, protocol: str, k: float, detector: str = "lstm") -> int:
        """The slider of one model of `protocol` moved to k: re-flag its chunks and re-group the
        protocol's incidents."""
        n = self.track(protocol, detector).reflag(k)
        self._regroup(protocol)
        return n

    def protocol_tracks(self, protocol: str) -> list[ModelTrack]:
        return [t for (p, _), t in self.tracks.items() if p == protocol]

    def _regroup(self, protocol: str) -> None:
        """The protocol's incidents over: every moved model's alerts at its own k (with its own rule),
        and the other alerts (novelty, unmoved models) as the engine raised them."""
        moved = [t for t in self.protocol_tracks(protocol) if t.k is not None]
        if not moved:
            return
        names = {t.detector for t in moved}
        kept = [
            a for a in self.alerts if a.protocol == protocol and not (a.detector in names and a.chunk >= 0)
        ]
        derived = [a for t in moved for a in t.alerts_at_k()]
        for i, a in enumerate(derived, start=1):  # ids of their own: negative, never an engine id
            derived[i - 1] = dataclasses.replace(a, id=-i)
        group = kept + derived
        self.regrouped[protocol] = (group_incidents(group), {a.id: a for a in group})

    def incidents(self) -> list[Incident]:
        """Every incident shown now, in time order."""
        out = [i for i in self.engine_incidents.sorted() if i.protocol not in self.regrouped]
        for incs, _ in self.regrouped.values():
            out.extend(incs)
        return sorted(out, key=lambda i: (i.start, i.protocol, i.file, i.id))

    def alerts_of(self, inc: Incident) -> list[Alert]:
        """An incident's alerts still held (the alert list is bounded), in time order."""
        if inc.protocol in self.regrouped:
            by_id = self.regrouped[inc.protocol][1]
        else:
            by_id = {a.id: a for a in self.alerts if a.protocol == inc.protocol}
        return [by_id[i] for i in inc.alerts if i in by_id]

    def flagged_share(self, protocol: str, detector: str = "lstm") -> tuple[dict[str, float], int]:
        """(talker -> share of the currently flagged chunks naming it among their top talkers, number of
        flagged chunks). Follows the slider: it reads the track's current flags, not the engine's."""
        track = self.tracks.get((protocol, detector))
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

    def track(self, protocol: str, detector: str = "lstm") -> ModelTrack:
        key = (protocol, detector)
        if key not in self.tracks:
            track = ModelTrack(protocol, detector)
            flow = self.tracks.get((protocol, "lstm"))
            if flow is not None:  # a second view starts with the protocol's message counts so far
                track.messages = flow.messages
                track._rate.extend(flow._rate)
            self.tracks[key] = track
        return self.tracks[key]

    @property
    def messages(self) -> int:
        """Messages seen over all protocols (each counted once, not once per model)."""
        per: dict[str, int] = {}
        for (p, _), t in self.tracks.items():
            per[p] = max(per.get(p, 0), t.messages)
        return sum(per.values())

    def meter(self, measurement: str) -> MeterTrack:
        if measurement not in self.meters:
            self.meters[measurement] = MeterTrack(measurement)
        return self.meters[measurement]

    def apply(self, events: Iterable[object]) -> set[str]:
        """Fold a batch of events in; returns the kinds that changed so screens refresh only those."""
        changed: set[str] = set()
        stale: set[str] = set()  # re-grouped protocols whose chunks or alerts moved on
        for ev in events:
            self.events += 1
            if isinstance(ev, ChunkScored):
                self.track(ev.protocol, ev.detector).add_chunk(ev)
                changed.add("chunks")
                if ev.protocol in self.regrouped:
                    stale.add(ev.protocol)
            elif isinstance(ev, Incident):
                self.engine_incidents.apply(ev)
                changed.add("alerts")
            elif isinstance(ev, DetectorStarted):
                self.track(ev.protocol, ev.detector).rule = PeakRule.from_dict(ev.rule)
            elif isinstance(ev, MessagesSeen):
                for track in self.protocol_tracks(ev.protocol) or [self.track(ev.protocol)]:
                    track.add_messages(ev)
                changed.add("messages")
            elif isinstance(ev, Alert):
                self.alerts.append(ev)
                if ev.protocol in self.regrouped:
                    stale.add(ev.protocol)
                self.alerts_total += 1
                if (ev.protocol, ev.detector) in self.tracks:  # a model's own alert
                    self.tracks[(ev.protocol, ev.detector)].alerts += 1
                elif (ev.protocol, "lstm") in self.tracks or ev.detector == "lstm":  # others: the flow panel
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
            elif isinstance(ev, OtherTraffic):
                self.other_frames += int(ev.frames)
                changed.add("messages")
            elif isinstance(ev, SummaryUpdated):
                self.summaries[ev.protocol] = ev.summary
                changed.add("summary")
        for protocol in stale:
            self._regroup(protocol)
            changed.add("alerts")
        return changed
