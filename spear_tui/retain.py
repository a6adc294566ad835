"""Bounded memory of recent messages, so an alert can be drilled into without re-reading the capture.

The ring keeps the last `ring_messages` messages per protocol; when an alert is raised its window is
copied out and pinned (up to `max_pinned` alerts, oldest dropped first). Everything is bounded, so a
long live run cannot grow without limit. Thread-safe: the engine writes from its worker, the console
reads from the UI thread.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict, deque

import polars as pl

from spear_tui.events import Alert


def _compact(table: pl.DataFrame) -> pl.DataFrame:
    """A copy that owns only its own bytes. A filtered table's string columns are views into the whole
    ring's buffers, so a few pinned rows could keep megabytes alive; pins are rare, the copy is cheap."""
    buf = io.BytesIO()
    table.write_ipc(buf)
    buf.seek(0)
    return pl.read_ipc(buf)


class MessageRetainer:
    def __init__(self, ring_messages: int = 50_000, max_pinned: int = 500) -> None:
        self.ring_messages = ring_messages
        self.max_pinned = max_pinned
        self._ring: dict[str, deque[pl.DataFrame]] = {}
        self._ring_rows: dict[str, int] = {}
        self._pinned: OrderedDict[tuple, pl.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, protocol: str, table: pl.DataFrame) -> None:
        with self._lock:
            ring = self._ring.setdefault(protocol, deque())
            ring.append(table)
            rows = self._ring_rows.get(protocol, 0) + table.height
            while ring and rows - ring[0].height >= self.ring_messages:
                rows -= ring.popleft().height
            self._ring_rows[protocol] = rows

    @staticmethod
    def key(alert: Alert) -> tuple:
        return (alert.protocol, alert.file, alert.first_frame, alert.last_frame, alert.detector, alert.start)

    def window(self, protocol: str, file: int, first_frame: int, last_frame: int) -> pl.DataFrame | None:
        """Messages of one file's frame range still in the ring, or None if they have been evicted."""
        with self._lock:
            tables = list(self._ring.get(protocol, ()))
        if not tables:
            return None
        recent = pl.concat(tables, how="vertical_relaxed")
        sel = recent.filter((pl.col("file") == file) & pl.col("frame").is_between(first_frame, last_frame))
        return sel if sel.height else None

    def pin(self, alert: Alert) -> None:
        window = self.window(alert.protocol, alert.file, alert.first_frame, alert.last_frame)
        if window is None:
            return
        window = _compact(window)
        with self._lock:
            self._pinned[self.key(alert)] = window
            while len(self._pinned) > self.max_pinned:
                self._pinned.popitem(last=False)

    def messages_for(self, alert: Alert) -> pl.DataFrame | None:
        with self._lock:
            pinned = self._pinned.get(self.key(alert))
        if pinned is not None:
            return pinned
        return self.window(alert.protocol, alert.file, alert.first_frame, alert.last_frame)
