"""The engine: source → decoder → features → detectors → events → sinks, in one worker thread.

`scan` and the console are two sinks of the same `PacketEngine`, so what the console shows and what
`scan --json` prints cannot disagree. The engine imports nothing from Textual. Events reach sinks in
batches (at most `1 / emit_interval` per second); durable sinks (the alert store) are called before
the display sink, so anything shown has already been written.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import polars as pl

from spear_tui.errors import UserError
from spear_tui.events import (
    Alert,
    EngineError,
    Event,
    MessagesSeen,
    OtherTraffic,
    PacketsSkipped,
    SourceProgress,
    SummaryUpdated,
)
from spear_tui.retain import MessageRetainer

log = logging.getLogger(__name__)

Sink = Callable[[list[Event]], None]
READ_AHEAD = 16  # batches decoded ahead of the detectors


class PacketDetector(Protocol):
    """What the engine needs of a detector (the online LSTM, the novelty rules)."""

    name: str
    protocol: str
    sensitivity: float

    def feed(self, table: pl.DataFrame) -> list[Event]: ...

    def flush(self) -> list[Event]: ...


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, UserError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]


class PacketEngine:
    def __init__(
        self,
        source: Any,
        detectors: dict[str, Sequence[PacketDetector]] | None = None,
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

        self.source = source
        self.decode_as = tuple(decode_as)  # the console's drill-down dissects with the same options
        self.detectors: dict[str, list[PacketDetector]] = {p: list(d) for p, d in (detectors or {}).items()}
        self.sinks = list(sinks)
        self.emit_interval = emit_interval
        self.summary_interval = summary_interval
        self.retainer = retainer or MessageRetainer()
        # Decoding runs ahead in its own thread, overlapping the detectors' work here; deep enough
        # (16 batches of <= 20k messages) that tshark keeps going while the LSTMs' JAX start-up runs.
        self._reader = ReadAhead(source.batches(), depth=READ_AHEAD, name="packet-source")
        self._pacer = ReplayPacer(self._reader, speed, max_idle=max_idle)
        self._speed = speed
        self._stop = threading.Event()
        self.summary = CaptureSummary()  # what scan prints and the protocol views show
        self._recent_alerts: dict[str, list[Alert]] = {}
        self.messages: dict[str, int] = {}
        self.finished = threading.Event()

    # --- intents from the console (any thread) ---------------------------------------------
    @property
    def paused(self) -> bool:
        return self._pacer.paused

    @property
    def speed(self) -> float | None:
        return self._speed

    def pause(self) -> None:
        self._pacer.pause()

    def resume(self) -> None:
        self._pacer.resume()

    def set_speed(self, speed: float | None) -> None:
        self._speed = speed
        self._pacer.set_speed(speed)

    def stop(self) -> None:
        self._stop.set()
        self._reader.close()
        self._pacer.resume()
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
            det.enabled_rules = set(rules)  # type: ignore[attr-defined]

    def get_rules(self, protocol: str, detector: str) -> set[str] | None:
        """The rules a detector has switched on now; None when it is not running or has no rules."""
        det = self._detector(protocol, detector)
        if det is None or not hasattr(det, "enabled_rules"):
            return None
        return set(det.enabled_rules)  # type: ignore[attr-defined]

    # --- site profiles (issue 16): accept an alert as normal, the learning period left ---------
    def accept(self, alert: Alert) -> bool:
        """Treat what a novelty alert showed as normal from now on (applied by the worker thread at
        its next batch); False when the alert has nothing to accept or no such detector runs."""
        det = self._detector(alert.protocol, "novelty")
        if det is None or not alert.accept or not hasattr(det, "accept_later"):
            return False
        import json

        det.accept_later(json.loads(alert.accept))  # type: ignore[attr-defined]
        return True

    def learning(self) -> dict[str, Any]:
        """The learning period of detectors that started without a site: {"left": capture seconds left
        (None: not learning), "learned": one line per protocol of what its novelty rules learned}."""
        from spear_tui.site.learning import learned_lines, seconds_left

        return {"left": seconds_left(self.detectors, None), "learned": learned_lines(self.detectors)}

    def messages_for(self, alert: Alert) -> pl.DataFrame | None:
        """The retained messages of an alert's window, for drill-down (None if evicted)."""
        return self.retainer.messages_for(alert)

    # --- the worker --------------------------------------------------------------------------
    def run(self, emit: Sink | None = None) -> None:
        """Blocking; call from a worker thread. Never raises: problems become EngineError events."""
        durable = list(self.sinks)
        pending: list[Event] = []
        last_emit = last_summary = time.monotonic()

        def deliver() -> None:
            nonlocal pending, last_emit
            if pending:
                batch, pending = pending, []
                for sink in list(durable):
                    try:
                        sink(batch)
                    except Exception as exc:  # e.g. disk full: say so, and stop rather than go on unrecorded
                        log.exception("durable sink failed")
                        durable.remove(sink)
                        batch.append(EngineError(_one_line(exc)))
                        self._stop.set()
                if emit is not None:
                    emit(batch)
            last_emit = time.monotonic()

        try:
            for batch in self._pacer:
                if self._stop.is_set():
                    break
                pending.extend(self._ingest(batch))
                now = time.monotonic()
                if now - last_summary >= self.summary_interval:
                    pending.extend(self._snapshots())
                    last_summary = now
                if now - last_emit >= self.emit_interval:
                    deliver()
            for dets in self.detectors.values():
                for det in dets:
                    pending.extend(self._merge(det.flush()))
            pending.extend(self._snapshots())
            pending.append(self._progress(done=True))
        except Exception as exc:  # a worker must report, not vanish with a traceback on the console
            if not isinstance(exc, UserError):
                log.exception("engine worker failed")
            pending.append(EngineError(_one_line(exc)))
        finally:
            self._reader.close()
            try:
                deliver()
            finally:
                self.finished.set()

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
                out.extend(self._merge(det.feed(table)))
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

    def _merge(self, events: list[Event]) -> list[Event]:
        """Pin alert windows for drill-down and name every detector that agrees on overlapping alerts."""
        out: list[Event] = []
        for ev in events:
            if isinstance(ev, Alert):
                recent = self._recent_alerts.setdefault(ev.protocol, [])
                agree = {ev.detector, *ev.detectors}
                for other in recent:
                    if other.start <= ev.end and ev.start <= other.end:
                        agree.add(other.detector)
                ev = dataclasses.replace(
                    ev, detectors=tuple(sorted(agree)), source=ev.source or self._file(ev)
                )
                recent.append(ev)
                del recent[:-200]
                self.retainer.pin(ev)
            out.append(ev)
        return out

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
