"""Replay pacing: hand batches on as fast as possible, or at the recorded timing x speed, pausable.

The console drives it from its own thread (pause/resume/set_speed) while a worker iterates it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator

from spear_tui.capture.batch import Batch, split_by_time

TICK = 0.1  # wall seconds of capture a paced batch should cover, so a replay looks live


class ReplayPacer:
    """Wraps a batch iterator. speed None = as fast as possible; otherwise capture time runs `speed` times
    faster than wall time. Paced batches are split so none spans much more than TICK x speed of capture.
    `max_idle` (wall seconds) shortens longer idle gaps in the capture, e.g. between captures of several
    sites taken minutes apart, so a replay never sits silent for long; None keeps recorded gaps."""

    def __init__(self, batches: Iterable[Batch], speed: float | None, max_idle: float | None = None):
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive (or None for as fast as possible)")
        self._it = iter(batches)
        self._speed = speed
        self._cond = threading.Condition()
        self._anchor: tuple[float, float] | None = None  # (capture time, wall time)
        self._stopped = False
        self._last_t: float | None = None  # capture time of the last batch handed on
        self.max_idle = max_idle
        self.paused = False

    @property
    def speed(self) -> float | None:
        return self._speed

    def pause(self) -> None:
        with self._cond:
            self.paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self.paused = False
            self._anchor = None  # re-anchor: no catch-up burst for the time spent paused
            self._cond.notify_all()

    def set_speed(self, speed: float | None) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive (or None for as fast as possible)")
        with self._cond:
            self._speed = speed
            self._anchor = None
            self._cond.notify_all()

    def stop(self) -> None:
        """End the iteration early (wakes a paused or waiting iterator)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def __iter__(self) -> Iterator[Batch]:
        for batch in self._it:
            speed = self._speed
            pieces = [batch] if speed is None else split_by_time(batch, TICK * speed)
            for piece in pieces:
                if not self._wait_for(piece):
                    return
                yield piece

    def _wait_for(self, batch: Batch) -> bool:
        """Block until `batch` is due (or we are stopped); False when stopped."""
        capture_t = batch.position
        with self._cond:
            while True:
                if self._stopped:
                    return False
                if self.paused:
                    self._cond.wait()
                    continue
                if self._speed is None:
                    return True
                now = time.monotonic()
                if self._anchor is None:
                    self._anchor = (capture_t, now)
                self._compress_gap(capture_t)
                due = self._anchor[1] + (capture_t - self._anchor[0]) / self._speed
                if due <= now:
                    self._last_t = capture_t
                    return True
                self._cond.wait(min(due - now, TICK))

    def _compress_gap(self, capture_t: float) -> None:
        """Move the anchor so the gap since the last batch costs at most `max_idle` wall seconds."""
        if self.max_idle is None or self._last_t is None or self._anchor is None or self._speed is None:
            return
        allowed = self.max_idle * self._speed  # capture seconds
        gap = capture_t - self._last_t
        if gap > allowed:
            self._anchor = (self._anchor[0] + (gap - allowed), self._anchor[1])
            self._last_t = capture_t - allowed
