"""Per-chunk facts of one batch of messages for the online LSTM detector, vectorised over the batch."""

from __future__ import annotations

import numpy as np

from spear_tui.detect.lstm.features import (
    Prepared,
    batch_order,
    batch_talkers,
    chunk_order,
    chunk_stats,
    chunk_talkers,
)


class ChunkBatch:
    """Per-chunk facts for a batch's full chunks (statistics, sequence order, talkers), each computed
    for all of them at once, vectorised. The first chunk takes the per-chunk functions (the same
    results, tested) so that nothing delays its dispatch; the batch arrays are computed when the
    second chunk needs them, while XLA works on the first."""

    def __init__(self, prep: Prepared, n: int, mode: str):
        self.prep, self.n, self.mode = prep, n, mode
        self._stats: tuple | None = None
        self._orders: np.ndarray | None = None
        self._talkers: list[tuple[str, ...]] | None = None
        self._spans: tuple[list[float], list[float]] | None = None

    def _batched(self, lo: int, hi: int) -> bool:
        return lo > 0 and hi - lo == self.n

    def chunk_stats(self, lo: int, hi: int) -> tuple:
        if not self._batched(lo, hi):
            return tuple(v[0] for v in chunk_stats(self.prep.raw[lo:hi][None]))
        if self._stats is None:
            k, f = len(self.prep.raw) // self.n, self.prep.raw.shape[1]
            self._stats = chunk_stats(self.prep.raw[: k * self.n].reshape(k, self.n, f))
        return tuple(v[lo // self.n] for v in self._stats)

    def order(self, lo: int, hi: int) -> np.ndarray:
        if not self._batched(lo, hi):
            return chunk_order(self.prep, lo, hi, self.mode)
        if self._orders is None:
            self._orders = batch_order(self.prep, self.n, self.mode)
        return self._orders[lo // self.n]

    def talkers(self, lo: int, hi: int) -> tuple[str, ...]:
        if hi - lo != self.n:
            return chunk_talkers(self.prep, lo, hi)
        if self._talkers is None:
            self._talkers = batch_talkers(self.prep, self.n)
        return self._talkers[lo // self.n]

    def span(self, lo: int, hi: int) -> tuple[float, float]:
        """(first, last) capture time of messages lo..hi-1."""
        if hi - lo != self.n:
            t = self.prep.time[lo:hi]
            return float(t.min()), float(t.max())
        if self._spans is None:
            k = len(self.prep.time) // self.n
            t = self.prep.time[: k * self.n].reshape(k, self.n)
            self._spans = (t.min(axis=1).tolist(), t.max(axis=1).tolist())
        return self._spans[0][lo // self.n], self._spans[1][lo // self.n]
