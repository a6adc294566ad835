"""ChunkBatch: its batch-wide answers equal the per-chunk functions, first and partial chunks included."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from spear_tui.detect.lstm.chunk_batch import ChunkBatch
from spear_tui.detect.lstm.features import chunk_order, chunk_stats, chunk_talkers, prepare


@pytest.mark.parametrize("mode", ["flow", "direction", "paper"])
def test_every_chunk_gets_what_the_per_chunk_functions_give(mqtt_normal: pl.DataFrame, mode):
    table = mqtt_normal.slice(0, 5 * 500 + 137)  # five full chunks and a partial one
    prep = prepare(table, "mqtt")
    batch = ChunkBatch(prep, 500, mode)
    for lo in range(0, table.height, 500):
        hi = min(lo + 500, table.height)
        assert batch.order(lo, hi).tolist() == chunk_order(prep, lo, hi, mode).tolist()
        assert batch.talkers(lo, hi) == chunk_talkers(prep, lo, hi)
        want = [v[0] for v in chunk_stats(prep.raw[lo:hi][None])]
        for got, w in zip(batch.chunk_stats(lo, hi), want, strict=True):
            assert np.array_equal(got, w)
        assert batch.span(lo, hi) == (float(prep.time[lo:hi].min()), float(prep.time[lo:hi].max()))
