"""How every engine hands its events on: one batching outbox, one pause, one error line.

The packet, meter and review engines all work the same way here, so a sink sees the same thing
whichever engine feeds it:
- durable sinks (the alert store) get each batch before the display sink, so anything shown has
  already been written; a durable sink that fails is dropped, the batch gains one `EngineError`
  line, and the engine is told to stop rather than run on unrecorded;
- batches go out at most once per `interval` (the console drains at 10 Hz), and `coalesce` keeps
  only the latest event of its kind (progress bars), so pacing and training never flood a sink;
- `Gate` is the one pause: the worker holds at `Gate.hold` while paused, still delivering.
No Textual here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from spear_tui.errors import UserError
from spear_tui.events import EngineError, Event

log = logging.getLogger(__name__)

Sink = Callable[[list[Event]], None]
POLL = 0.05  # seconds a paused worker sleeps between looks at its gate and its outbox


def one_line(exc: BaseException) -> str:
    """What the user reads about a failed worker: a UserError's own words, else the error's first line."""
    if isinstance(exc, UserError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]


class Outbox:
    """Batches one worker's events for its sinks (see the module docstring). Worker thread only."""

    def __init__(
        self,
        display: Sink | None,
        durable: Iterable[Sink] = (),
        *,
        interval: float = 0.1,
        on_failure: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.display = display
        self.durable = list(durable)
        self.interval = interval
        self.on_failure = on_failure
        self.clock = clock
        self.failed = False  # a durable sink failed: what follows is not recorded
        self.pending: list[Event] = []
        self.latest: dict[type, Event] = {}
        self.last = clock()

    def add(self, ev: Event, *, coalesce: bool = False) -> None:
        """Queue `ev`; with `coalesce`, only the latest event of its type is kept until delivery."""
        if coalesce:
            self.latest[type(ev)] = ev
        else:
            self.latest.pop(type(ev), None)  # an older coalesced event must not land after this one
            self.pending.append(ev)
        self.tick()

    def extend(self, events: Iterable[Event]) -> None:
        self.pending.extend(events)
        self.tick()

    def tick(self) -> None:
        """Deliver what is queued if the last delivery is `interval` old."""
        if self.clock() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        """Deliver what is queued now: durable sinks first, then the display."""
        batch = self.pending + list(self.latest.values())
        self.pending, self.latest = [], {}
        self.last = self.clock()
        if not batch:
            return
        for sink in list(self.durable):
            try:
                sink(batch)
            except Exception as exc:  # e.g. disk full: say so, and stop rather than go on unrecorded
                log.exception("durable sink failed")
                self.durable.remove(sink)
                batch.append(EngineError(one_line(exc)))
                self.failed = True
                if self.on_failure is not None:
                    self.on_failure()
        if self.display is not None:
            self.display(batch)


class Gate:
    """The one pause of every engine: `pause`/`resume` from any thread (the console); the worker calls
    `hold` between units of work and waits there while paused, its outbox still delivering."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()

    @property
    def paused(self) -> bool:
        return not self._open.is_set()

    def pause(self) -> None:
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    def hold(self, outbox: Outbox | None, stop: threading.Event) -> bool:
        """Wait while paused (delivering queued events meanwhile); False once `stop` is set."""
        while not self._open.is_set() and not stop.is_set():
            if outbox is not None:
                outbox.tick()
            self._open.wait(POLL)
        return not stop.is_set()
