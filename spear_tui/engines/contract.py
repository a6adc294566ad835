"""The one contract between the console and any engine (packet, meter, review): `Engine`.

Every engine subclasses `Engine`; what an engine cannot do has a default here that says so (no
messages, no day series, no rules, nothing to accept), so the console calls methods instead of
probing for them and a type checker sees every call. Intents (pause, speed, sensitivity, rules,
accept) may come from any thread; `run` blocks in the engine's worker and never raises.
No Textual here: the console imports this module, never the other way round.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from spear_tui.engines.outbox import Gate, Outbox, Sink, one_line
from spear_tui.errors import UserError
from spear_tui.events import Alert, EngineError

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

log = logging.getLogger(__name__)

Emit = Sink


class Learning(TypedDict):
    """The learning period of detectors that started without a site."""

    left: float | None  # capture seconds left; None: not learning (any more)
    learned: list[str]  # one line per protocol of what its novelty rules learned


class Engine(ABC):
    """Base of every engine: pause/resume/speed/stop done once here, optional capabilities defaulted."""

    keeps_messages: bool = False  # `messages_for` can answer (drill-down)
    keeps_days: bool = False  # `day_series` can answer (the meter plot)
    accepts_alerts: bool = False  # `accept` reaches a running detector

    def __init__(
        self, *, speed: float | None = None, sinks: Iterable[Sink] = (), emit_interval: float = 0.1
    ) -> None:
        self.decode_as: tuple[str, ...] = ()  # tshark decode-as options; drill-down dissects with them
        self.sinks = list(sinks)  # durable (the alert store): each batch is written before it is shown
        self.emit_interval = emit_interval
        self.finished = threading.Event()  # set when `run` returned
        self._speed = speed
        self._gate = Gate()
        self._stop = threading.Event()

    # --- the worker ------------------------------------------------------------------------------
    def run(self, emit: Emit | None = None) -> None:
        """Blocking (a worker thread): hand events to `emit` (after the durable sinks) until done or
        stopped. Never raises: problems become one EngineError line; a failing durable sink stops it."""
        out = Outbox(emit, self.sinks, interval=self.emit_interval, on_failure=self._stop.set)
        try:
            self.work(out)
        except Exception as exc:  # a worker must report, not vanish with a traceback on the console
            if not isinstance(exc, UserError):
                log.exception("%s failed", type(self).__name__)
            out.add(EngineError(one_line(exc)))
        finally:
            try:
                out.flush()
            finally:
                self.finished.set()

    @abstractmethod
    def work(self, out: Outbox) -> None:
        """The engine's own loop: events into `out`, `self._gate.hold(out, self._stop)` between units
        of work (pause and stop). May raise; `run` turns it into one line."""

    # --- intents (any thread) --------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self._gate.paused

    @property
    def speed(self) -> float | None:
        """Replay speed (capture seconds or meter days per wall second); None: as fast as possible."""
        return self._speed

    def pause(self) -> None:
        self._gate.pause()

    def resume(self) -> None:
        self._gate.resume()

    def set_speed(self, speed: float | None) -> None:
        self._speed = speed

    def stop(self) -> None:
        self._stop.set()

    def set_sensitivity(self, protocol: str, detector: str, k: float) -> None:
        """Move a detector's threshold (k for the LSTM and novelty rates, an MSE for seq2seq)."""
        return None

    def get_sensitivity(self, protocol: str, detector: str) -> float | None:
        """The value a detector uses now; None when it does not run here."""
        return None

    def set_rules(self, protocol: str, detector: str, rules: Iterable[str]) -> None:
        """Switch a rule-based detector's rules (only `rules` alert from now on); no-op without one."""
        return None

    def get_rules(self, protocol: str, detector: str) -> set[str] | None:
        """The rules a detector has on now; None when it does not run here or has no rules."""
        return None

    def accept(self, alert: Alert) -> bool:
        """Treat what `alert` showed as normal from now on; False when nothing here can."""
        return False

    def learning(self) -> Learning | None:
        """The learning period; None when this engine's detectors do not learn first."""
        return None

    # --- queries (any thread) --------------------------------------------------------------------
    def messages_for(self, alert: Alert) -> pl.DataFrame | None:
        """The messages of an alert's window for drill-down; None when not (or no longer) kept.
        May raise UserError with the reason (e.g. a stored session's capture is gone)."""
        return None

    def day_series(self, measurement: str, date: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Measured and reconstructed samples of a scored meter day; None when not kept."""
        return None

    def source_path(self, alert: Alert) -> Path:
        """The capture file that holds the alert's frames (evidence export); UserError when none."""
        if alert.source and Path(alert.source).is_file():
            return Path(alert.source)
        where = alert.source or "live interface"
        raise UserError(f"no capture file for this alert ({where}): nothing to cut")


EngineFactory = Callable[[], Engine]
