"""Alignment helpers shared by the per-protocol decoders (vectorised polars, no per-message Python)."""

from __future__ import annotations

import polars as pl

from spear_tui.protocols.fields import AGGREGATOR


def explode_lists(frames: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """One row per occurrence of equally long repeated fields; adds `pos` (message index in its frame)."""
    out = frames.select(["fid", *[pl.col(c).str.split(AGGREGATOR) for c in cols]])
    out = out.with_columns(pos=pl.int_ranges(0, pl.col(cols[0]).list.len()))
    return out.explode([*cols, "pos"])


def long_values(frames: pl.DataFrame, col: str) -> pl.DataFrame:
    """(fid, idx, value) for every occurrence of one field; frames where it is absent give no rows."""
    out = frames.filter(pl.col(col).is_not_null()).select(
        "fid", pl.col(col).str.split(AGGREGATOR).alias("value")
    )
    out = out.with_columns(idx=pl.int_ranges(0, pl.col("value").list.len()))
    return out.explode(["value", "idx"]).with_columns(pl.col("idx").cast(pl.Int64))


def rank_within_frame(flag: pl.Expr) -> pl.Expr:
    """0-based index among the flagged messages of the same frame (null where not flagged)."""
    return pl.when(flag).then(flag.cast(pl.Int64).cum_sum().over("fid") - 1)


def attach(msgs: pl.DataFrame, frames: pl.DataFrame, col: str, rank: str, name: str) -> pl.DataFrame:
    """Give each message the occurrence of `col` at its rank in the frame (null when rank is null)."""
    vals = long_values(frames, col).rename({"value": name, "idx": rank})
    return msgs.join(vals, on=["fid", rank], how="left", maintain_order="left")


def finish(table: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select and cast to exactly the contract's columns, in order."""
    return table.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
