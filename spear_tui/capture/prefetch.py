"""Read-ahead: a source's batches are read and decoded in a thread of their own.

Why: the engine's thread runs the detectors; before this, decoding tshark's output (polars) and the
detectors took turns on one thread, so neither overlapped the other. With a bounded queue between
them, batch i+1 is decoded while the detectors work on batch i, and the order of batches (and so of
every event) is unchanged. Memory stays bounded by `depth` batches; a live source passes straight
through (the queue is empty whenever the engine keeps up).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()
_POLL = 0.1  # seconds between checks of the stop flag while the queue is full


class ReadAhead(Generic[T]):
    """Iterate `items` in a daemon thread, `depth` items ahead of the consumer.

    An exception raised by `items` is re-raised in the consumer at the point it occurred; `close()`
    (any thread) ends the producer, which closes the underlying generator in its own thread."""

    def __init__(self, items: Iterable[T], depth: int = 4, name: str = "read-ahead"):
        self._items = items
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._started = False

    def _put(self, item: object) -> bool:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        it = iter(self._items)
        try:
            for item in it:
                if not self._put(item):
                    break
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_Raised(exc))
            return
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
        self._put(_END)

    def start(self) -> ReadAhead[T]:
        """Start reading now (iterating starts it too)."""
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def __iter__(self) -> Iterator[T]:
        self.start()
        while True:
            try:
                item = self._queue.get(timeout=_POLL)
            except queue.Empty:
                if self._closed.is_set() or not self._thread.is_alive() and self._queue.empty():
                    return
                continue
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item

    def close(self) -> None:
        self._closed.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the producer (after close(): for the source's own clean-up) to end."""
        if self._started:
            self._thread.join(timeout)


class _Raised:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException):
        self.exc = exc
