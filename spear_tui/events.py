"""Events: the only thing the engine hands to its sinks (console, JSON, alert store).

Small frozen dataclasses so they cross threads safely and serialise with `dataclasses.asdict`.
Times are epoch seconds; frames are tshark frame numbers in the file named by `file`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MessagesSeen:
    """A batch of decoded messages was ingested (sent at most a few times a second)."""

    protocol: str
    messages: int  # messages in this batch
    first_time: float
    last_time: float


@dataclass(frozen=True, slots=True)
class PacketsSkipped:
    """Frames that could not be decoded (malformed, truncated): counted, never fatal."""

    protocol: str
    count: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChunkScored:
    """One chunk of messages scored by an online sequence model (before training on it) and trained on."""

    protocol: str
    index: int
    start: float
    end: float
    first_frame: int
    last_frame: int
    score: float  # loss on the chunk before training on it (never-seen data)
    train_loss: float  # mean loss the optimiser saw on this chunk (each step's, before its update)
    flagged: bool
    threshold: float | None  # None during warm-up
    file: int = 0
    talkers: tuple[str, ...] = ()
    messages: int = 0  # messages in the chunk (the last chunk of a source can be partial)
    # Which model of the protocol scored it ("lstm": the flow view; "rhythm": the per-talker rhythm
    # view beside it): sinks keep one score series per (protocol, detector).
    detector: str = "lstm"


@dataclass(frozen=True, slots=True)
class DetectorStarted:
    """A chunk-scoring detector's own decision rule, sent once before its first chunk.

    Why: a sink that re-flags stored scores at another sensitivity (the console's slider, a review of a
    store) must use the detector's rule with the detector's parameters (`rule`: warm-up, window, skip,
    ...; see `spear_tui.detect.lstm.decision`), or the console and the engine would flag different chunks.
    """

    protocol: str
    detector: str
    rule: dict
    k: float


@dataclass(frozen=True, slots=True)
class Alert:
    """Something a user should look at, raised by `detector`. Which detectors agree on it is its incident's
    (`Incident.detectors`): alerts are grouped once, by `spear_tui.incidents`."""

    protocol: str
    detector: str  # "lstm", "novelty", "seq2seq"
    start: float
    end: float
    first_frame: int
    last_frame: int
    score: float
    threshold: float
    reason: str
    talkers: tuple[str, ...] = ()
    severity: str = "medium"  # "low" | "medium" | "high"
    file: int = 0
    source: str = ""  # capture file (or interface) the frames come from
    detectors: tuple[str, ...] = field(default=())  # (detector,) once through an engine
    # What accepting this alert as normal adds to the baseline: JSON {"known-set": [[...], ...]} of the
    # novelty rules (ProtocolRules.additions); "" when there is nothing to accept (LSTM, rate alerts).
    accept: str = ""
    id: int = 0  # running number given by the engine (1, 2, ...); 0 before it went through an engine
    chunk: int = -1  # the LSTM chunk index it is about (-1: not a chunk alert)


@dataclass(frozen=True, slots=True)
class Incident:
    """Alerts of one protocol that belong together (overlapping or adjacent in capture time, sharing an
    actor), as the user should see them: one row, the detectors that agree, the worst severity.

    Sent again whenever it grows (same `id`, a newer version); `absorbed` names incidents merged into
    it (an alert that bridged two of them), which sinks drop. Built only by `spear_tui.incidents`.
    """

    id: int
    protocol: str
    file: int
    source: str
    start: float
    end: float
    first_frame: int
    last_frame: int
    severity: str
    detectors: tuple[str, ...]
    actors: tuple[str, ...]
    reasons: tuple[str, ...]  # distinct reasons, most severe first: reasons[0] is the headline
    alerts: tuple[int, ...]  # Alert.id of its alerts, in time order
    absorbed: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class DayScored:
    """One meter day scored by the seq2seq autoencoder."""

    measurement: str
    date: str  # ISO date
    mse: float
    flagged: bool
    complete: bool
    threshold: float


@dataclass(frozen=True, slots=True)
class TrainingProgress:
    model: str
    epoch: int
    epochs: int
    loss: float
    val_loss: float | None = None


@dataclass(frozen=True, slots=True)
class SourceProgress:
    """Where a replay or live capture stands; `total` is None for live sources."""

    source: str
    position: float  # seconds of capture time consumed
    total: float | None
    done: bool = False
    paused: bool = False


@dataclass(frozen=True, slots=True)
class OtherTraffic:
    """Frames of no protocol we model: counted so nothing is dropped silently."""

    frames: int


@dataclass(frozen=True, slots=True)
class SummaryUpdated:
    """A per-protocol summary snapshot (ProtocolSummary.to_json()), sent about once a second."""

    protocol: str
    summary: dict


@dataclass(frozen=True, slots=True)
class EngineError:
    """A fatal problem in a worker, as one line for the user (no traceback)."""

    message: str


Event = (
    MessagesSeen
    | PacketsSkipped
    | ChunkScored
    | DetectorStarted
    | Alert
    | Incident
    | DayScored
    | TrainingProgress
    | SourceProgress
    | OtherTraffic
    | SummaryUpdated
    | EngineError
)
