"""Per-chunk facts of one batch of messages for the online LSTM detector, vectorised over the batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spear_tui.detect.lstm.features import (
    Prepared,
    batch_order,
    batch_talkers,
    chunk_order,
    chunk_stats,
    chunk_talkers,
)


@dataclass
class ChunkTensors:
    """One chunk as the net takes it."""

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray | None  # None: a full chunk; else 1 for the messages, 0 for the padding
    stats: tuple  # the chunk's raw-feature statistics (what the running statistics learn from)
    last: np.ndarray  # raw features of the last message fed to the net


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

    def tensors(self, lo: int, hi: int, norm: Any, prev: np.ndarray, cfg: Any, stats: tuple) -> ChunkTensors:
        """Order, normalise (with `norm`, the statistics of everything before the chunk) and shape
        messages lo..hi-1 after `prev` (the raw features of the message fed before them)."""
        raw = self.prep.raw[lo:hi]
        # The previous chunk's last message and this chunk, normalised together (row-wise, the same
        # values as two calls): inputs are rows 0..n-1, targets rows 1..n (`chunk_tensors`' pairs).
        rows = np.empty((hi - lo + 1, raw.shape[1]))
        rows[0] = prev
        np.take(raw, self.order(lo, hi), axis=0, out=rows[1:])
        seq = norm.apply(rows)
        mask = None
        m = hi - lo
        if m < cfg.chunk:
            seq = np.concatenate([seq, np.zeros((cfg.chunk - m, cfg.features), np.float32)])
            mask = (np.arange(cfg.chunk) < m).astype(np.float32).reshape(cfg.batch, cfg.seq_len)
        shape = (cfg.batch, cfg.seq_len, cfg.features)
        return ChunkTensors(seq[:-1].reshape(shape), seq[1:].reshape(shape), mask, stats, rows[-1].copy())
