"""The engine: source → decoder → features → detectors → events → sinks, in one worker thread.

`scan` and the console are two sinks of the same `PacketEngine`, so what the console shows and what
`scan --json` prints cannot disagree. The engine imports nothing from Textual. Events reach sinks
through the shared outbox (engines/outbox.py): in batches, durable sinks (the alert store) before the
display sink, a failing durable sink as one EngineError line that stops the engine.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from spear_tui.engines.contract import Engine, Learning
from spear_tui.engines.outbox import Outbox, Sink
from spear_tui.events import (
    Alert,
    ChunkScored,
    DetectorStarted,
    Event,
    MessagesSeen,
    OtherTraffic,
    PacketsSkipped,
    SourceProgress,
    SummaryUpdated,
)
from spear_tui.incidents import IncidentStage
from spear_tui.retain import MessageRetainer

log = logging.getLogger(__name__)

READ_AHEAD = 16  # batches decoded ahead of the detectors


class PacketDetector(Protocol):
    """What the engine needs of a detector (the online LSTM, the novelty rules)."""

    name: str
    protocol: str
    sensitivity: float

    def feed(self, table: pl.DataFrame) -> list[Event]: ...

    def flush(self) -> list[Event]: ...


class PacketEngine(Engine):
    """Captures (files or an interface) through the detectors; see the module docstring."""

    keeps_messages = True
    accepts_alerts = True

    def __init__(
        self,
        source: Any,
        detectors: Mapping[str, Sequence[PacketDetector]] | None = None,
        *,
        speed: float | None = None,
        sinks: Iterable[Sink] = (),
        emit_interval: float = 0.1,
        summary_interval: float = 1.0,
        retainer: MessageRetainer | None = None,
        decode_as: Sequence[str] = (),
        max_idle: float | None = None,
    ) -> None:
        from spear_tui.capture.prefetch import ReadAhead
        from spear_tui.capture.source import ReplayPacer
        from spear_tui.capture.summary import CaptureSummary

        super().__init__(speed=speed, sinks=sinks, emit_interval=emit_interval)
        self.source = source
        # the console's drill-down dissects with the same options as the source
        self.decode_as = tuple(decode_as) or tuple(getattr(source, "decode_as", None) or ())
        self.detectors: dict[str, list[PacketDetector]] = {p: list(d) for p, d in (detectors or {}).items()}
        self.summary_interval = summary_interval
        self.retainer = retainer or MessageRetainer()
        # Decoding runs ahead in its own thread, overlapping the detectors' work here; deep enough
        # (16 batches of <= 20k messages) that tshark keeps going while the LSTMs' JAX start-up runs.
        self._reader = ReadAhead(source.batches(), depth=READ_AHEAD, name="packet-source")
        self._pacer = ReplayPacer(self._reader, speed, max_idle=max_idle)
        self.summary = CaptureSummary()  # what scan prints and the protocol views show
        self.incidents = IncidentStage()
        self._started_keys: set[tuple[str, str]] = set()
        self.messages: dict[str, int] = {}

    # --- intents from the console (any thread) ---------------------------------------------
    def resume(self) -> None:
        super().resume()
        self._pacer.set_speed(self._speed)  # re-anchor: no catch-up burst for the time spent paused

    def set_speed(self, speed: float | None) -> None:
        super().set_speed(speed)
        self._pacer.set_speed(speed)

    def stop(self) -> None:
        super().stop()
        self._reader.close()
        self._pacer.stop()
        try:
            self.source.close()
        except Exception:  # closing a dead tshark must never take the UI down
            log.debug("source close failed", exc_info=True)

    def _detector(self, protocol: str, name: str) -> PacketDetector | None:
        return next((d for d in self.detectors.get(protocol, ()) if d.name == name), None)

    def set_sensitivity(self, protocol: str, detector: str, k: float) -> None:
        det = self._detector(protocol, detector)
        if det is not None:
            det.sensitivity = k

    def get_sensitivity(self, protocol: str, detector: str) -> float | None:
        """The k a detector uses now; None when that detector is not running (e.g. --no-lstm)."""
        det = self._detector(protocol, detector)
        return None if det is None else float(det.sensitivity)

    def set_rules(self, protocol: str, detector: str, rules: Iterable[str]) -> None:
        """Switch a rule-based detector's rules (novelty): only `rules` raise alerts from now on; an
        empty set turns the detector off. The set is replaced whole, so the worker never sees it change
        mid-batch."""
        det = self._detector(protocol, detector)
        if det is not None and hasattr(det, "enabled_rules"):
            det.enabled_rules = set(rules)

    def get_rules(self, protocol: str, detector: str) -> set[str] | None:
        """The rules a detector has switched on now; None when it is not running or has no rules."""
        det = self._detector(protocol, detector)
        if det is None or not hasattr(det, "enabled_rules"):
            return None
        return set(det.enabled_rules)

    # --- site profiles (issue 16): accept an alert as normal, the learning period left ---------
    def accept(self, alert: Alert) -> bool:
        """Treat what a novelty alert showed as normal from now on (applied by the worker thread at
        its next batch); False when the alert has nothing to accept or no such detector runs."""
        det = self._detector(alert.protocol, "novelty")
        if det is None or not alert.accept or not hasattr(det, "accept_later"):
            return False
        import json

        det.accept_later(json.loads(alert.accept))
        return True

    def learning(self) -> Learning:
        """The learning period of detectors that started without a site: {"left": capture seconds left
        (None: not learning), "learned": one line per protocol of what its novelty rules learned}."""
        from spear_tui.site.learning import learned_lines, seconds_left

        return Learning(left=seconds_left(self.detectors, None), learned=learned_lines(self.detectors))

    def messages_for(self, alert: Alert) -> pl.DataFrame | None:
        """The retained messages of an alert's window, for drill-down (None if evicted)."""
        return self.retainer.messages_for(alert)

    # --- the worker --------------------------------------------------------------------------
    def work(self, out: Outbox) -> None:
        """Batches through the detectors until the source ends or the engine stops; then flush them."""
        last_summary = time.monotonic()
        try:
            for batch in self._pacer:
                if not self._gate.hold(out, self._stop):
                    break
                out.extend(self._ingest(batch))
                now = time.monotonic()
                if now - last_summary >= self.summary_interval:
                    out.extend(self._snapshots())
                    last_summary = now
            for dets in self.detectors.values():
                for det in dets:
                    out.extend(self._merge(self._started(det, det.flush())))
            out.extend(self._snapshots())
            out.add(self._progress(done=True))
        finally:
            self._reader.close()

    def _ingest(self, batch: Any) -> list[Event]:
        out: list[Event] = []
        self.summary.update(batch)
        for protocol, table in batch.tables.items():
            if table.height == 0:
                continue
            self.messages[protocol] = self.messages.get(protocol, 0) + table.height
            self.retainer.add(protocol, table)
            out.append(
                MessagesSeen(protocol, table.height, float(table["time"].min()), float(table["time"].max()))
            )
            for det in self.detectors.get(protocol, ()):
                out.extend(self._merge(self._started(det, det.feed(table))))
        # Let time-windowed detectors close what is over, even when a live network has gone quiet
        # (live sources send empty batches as a heartbeat).
        for dets in self.detectors.values():
            for det in dets:
                advance = getattr(det, "advance", None)
                if advance is not None:
                    out.extend(self._merge(advance(batch.position)))
        for protocol, count in batch.skipped.items():
            if count:
                out.append(PacketsSkipped(protocol, count, "malformed or undecodable"))
        if batch.other_frames:
            out.append(OtherTraffic(batch.other_frames))
        out.append(self._progress(position=batch.position))
        return out

    def _started(self, det: PacketDetector, events: list[Event]) -> list[Event]:
        """A chunk-scoring detector's decision rule goes before its first chunk, so sinks re-flag its
        scores as it would (sent then, not at start: only detectors that saw traffic show up)."""
        key = (det.protocol, det.name)
        rule = getattr(det, "rule", None)
        if key in self._started_keys or rule is None or not any(isinstance(e, ChunkScored) for e in events):
            return events
        self._started_keys.add(key)
        return [DetectorStarted(det.protocol, det.name, rule.to_dict(), float(det.sensitivity)), *events]

    def _merge(self, events: list[Event]) -> list[Event]:
        """Name alerts' captures, pin their windows for drill-down, and group them into incidents (each
        alert is followed by the incident it joined: the one place incidents are built)."""
        named = [
            dataclasses.replace(ev, source=ev.source or self._file(ev)) if isinstance(ev, Alert) else ev
            for ev in events
        ]
        out = self.incidents(named)
        for ev in out:
            if isinstance(ev, Alert):
                self.retainer.pin(ev)
        return out

    def source_path(self, alert: Alert) -> Path:
        """The alert's capture: the path it names, else this engine's file of its frames."""
        if alert.source and Path(alert.source).is_file():
            return Path(alert.source)
        files = getattr(self.source, "files", None) or []
        if 0 <= alert.file < len(files) and Path(files[alert.file]).is_file():
            return Path(files[alert.file])
        return super().source_path(alert)

    def _file(self, alert: Alert) -> str:
        files = getattr(self.source, "files", None) or []
        return files[alert.file] if 0 <= alert.file < len(files) else getattr(self.source, "name", "")

    def _snapshots(self) -> list[Event]:
        return [
            SummaryUpdated(p, s.to_json()) for p, s in self.summary.protocols.items() if p in self.messages
        ]

    def _progress(self, position: float | None = None, done: bool = False) -> SourceProgress:
        start = getattr(self.source, "start_time", None)
        end = getattr(self.source, "end_time", None)
        if position is None:
            position = end if (done and end is not None) else (start or 0.0)
        elapsed = position - start if start is not None else 0.0
        total = end - start if (start is not None and end is not None) else None
        return SourceProgress(self.source.name, elapsed, total, done=done, paused=self.paused)
