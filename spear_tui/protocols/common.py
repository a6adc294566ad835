"""Alignment helpers shared by the per-protocol decoders (vectorised polars, no per-message Python).

Messages are exploded from their frames in frame order (`explode_lists`), so a frame's messages are
contiguous rows starting at `pos` 0. The helpers lean on that: ranks within a frame are running sums
minus their value at the frame's first row, and frame-level values reach their messages by gathering
at a row index, not by a join on the frame id (the joins were a quarter of MQTT's decoding time:
BENCHMARKS.md "End-to-end scan").
"""

from __future__ import annotations

import numpy as np
import polars as pl

from spear_tui.protocols.fields import AGGREGATOR


def explode_lists(frames: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """One row per occurrence of equally long repeated fields; adds `pos` (message index in its frame)."""
    out = frames.select(["fid", *[pl.col(c).str.split(AGGREGATOR) for c in cols]])
    out = out.with_columns(pos=pl.int_ranges(0, pl.col(cols[0]).list.len()))
    return out.explode([*cols, "pos"])


def in_frame(expr: pl.Expr) -> pl.Expr:
    """`expr`'s value at the first message of each message's frame (rows grouped by frame, `pos` 0 first)."""
    return pl.when(pl.col("pos") == 0).then(expr).forward_fill()


def rank_within_frame(flag: pl.Expr) -> pl.Expr:
    """0-based index among the flagged messages of the same frame (null where not flagged)."""
    seen = flag.cast(pl.Int64).cum_sum()  # flagged messages up to and including this one
    return pl.when(flag).then(seen - in_frame(seen - flag.cast(pl.Int64)) - 1)


def running_start(counts: str) -> pl.Expr:
    """Sum of `counts` over the earlier messages of the same frame (where a message's share starts)."""
    before = pl.col(counts).cum_sum() - pl.col(counts)
    return before - in_frame(before)


def frame_rows(msgs: pl.DataFrame, frames: pl.DataFrame) -> np.ndarray:
    """For each message, the row of `frames` holding its frame (-1 where `frames` lacks it)."""
    fid = frames["fid"].to_numpy()
    lookup = np.full(int(max(fid.max(initial=0), msgs["fid"].max() or 0)) + 1, -1, np.int64)
    lookup[fid] = np.arange(len(fid))
    return lookup[msgs["fid"].to_numpy()]


def gather_rows(frames: pl.DataFrame, rows: np.ndarray, cols: list[str]) -> pl.DataFrame:
    """`frames`' columns `cols` at `rows`, null where a row is -1: a left join on fid, as a gather."""
    picked = frames.select([pl.col(c).gather(pl.Series(np.where(rows >= 0, rows, 0))) for c in cols])
    missing = pl.Series(rows < 0)
    if not missing.any():
        return picked
    return picked.with_columns([pl.when(missing).then(None).otherwise(pl.col(c)).alias(c) for c in cols])


def attach(
    msgs: pl.DataFrame,
    frames: pl.DataFrame,
    col: str,
    rank: str,
    name: str,
    rows: np.ndarray | None = None,
) -> pl.DataFrame:
    """Give each message the occurrence of `col` at its rank in the frame (null when rank is null or the
    frame has fewer occurrences): a left join on (fid, rank), as a gather of just the ranked messages.
    `rows`: `frame_rows(msgs, frames)`, when the caller has it already."""
    ranked = np.flatnonzero(msgs[rank].is_not_null().to_numpy())
    out = pl.repeat(None, msgs.height, dtype=pl.Utf8, eager=True).alias(name)
    if len(ranked):
        if rows is None:
            rows = frame_rows(msgs, frames)
        lists = frames[col].str.split(AGGREGATOR)
        lens = lists.list.len().fill_null(0).to_numpy().astype(np.int64)
        starts = np.cumsum(lens) - lens
        row, r = rows[ranked], msgs[rank].gather(ranked).cast(pl.Int64).to_numpy()
        safe = np.where(row >= 0, row, 0)
        ok = (row >= 0) & (r >= 0) & (r < lens[safe])
        if ok.any():
            values = lists.drop_nulls().explode()  # sum(lens) values, frame by frame
            out = out.scatter(ranked[ok], values.gather(starts[safe[ok]] + r[ok]))
    return msgs.with_columns(out)


def finish(table: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select and cast to exactly the contract's columns, in order."""
    return table.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
