"""Rate rules: counts per fixed window, per key, against what the learning period saw.

A window is flagged when its count reaches
    max(min_count, ratio × learned mean per window, margin × learned peak per window) / sensitivity
for keys the baseline knows, and `new_min / sensitivity` for keys it never saw (never, when a
first-seen rule already reports new keys). The global key "*" is always known. All counting is
polars group-bys over the whole batch; the last (still open) window of each key is carried to the
next batch so a burst split across batches is counted whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

_BIN_SCHEMA = {
    "key": pl.Utf8(),
    "bin": pl.Int64(),
    "sub": pl.Int64(),
    "detail": pl.Utf8(),
    "src": pl.Utf8(),
    "n": pl.Int64(),
    "t0": pl.Float64(),
    "t1": pl.Float64(),
    "f0": pl.Int64(),
    "f1": pl.Int64(),
    "file": pl.Int32(),
}


SUBS = 10  # sub-windows per window, to place a burst's start and end inside its window


def _merged() -> list[pl.Expr]:
    """How per-bin counts and their time/frame spans combine when bins are merged."""
    return [
        pl.col("n").sum(),
        pl.col("t0").min(),
        pl.col("t1").max(),
        pl.col("f0").min(),
        pl.col("f1").max(),
        pl.col("file").first(),
    ]


@dataclass(frozen=True)
class RateRule:
    name: str
    mask: pl.Expr  # which messages count
    key: pl.Expr  # Utf8 key per message ("*" for one global count)
    min_count: int  # never flag fewer messages per window than this
    ratio: float = 10.0  # × learned mean per window
    margin: float = 2.0  # × learned peak per window
    new_min: int | None = None  # threshold for keys the baseline never saw (None: only known keys count)
    detail: pl.Expr | None = None  # Utf8 label counted in flagged windows (e.g. "Who-Is")


class RateState:
    """Learning accumulators, learned statistics and the carried open windows of one rule."""

    def __init__(self, rule: RateRule, window: float) -> None:
        self.rule = rule
        self.window = window
        self._learn = pl.DataFrame(schema={"key": pl.Utf8(), "bin": pl.Int64(), "n": pl.Int64()})
        self.stats = pl.DataFrame(schema={"key": pl.Utf8(), "peak": pl.Float64(), "mean": pl.Float64()})
        self._carry = pl.DataFrame(schema=_BIN_SCHEMA)

    def _selected(self, table: pl.DataFrame) -> pl.DataFrame:
        cols = [
            self.rule.key.alias("key"),
            (pl.col("time") / self.window).floor().cast(pl.Int64).alias("bin"),
            (pl.col("time") * SUBS / self.window).floor().cast(pl.Int64).alias("sub"),
            pl.col("time"),
            pl.col("frame"),
            pl.col("file"),
            pl.col("src"),
        ]
        cols.append((self.rule.detail if self.rule.detail is not None else pl.lit("")).alias("detail"))
        return table.filter(self.rule.mask).select(cols)

    def learn(self, table: pl.DataFrame) -> None:
        sel = self._selected(table)
        if sel.height == 0:
            return
        counts = sel.group_by("key", "bin").agg(pl.len().cast(pl.Int64).alias("n"))
        self._learn = pl.concat([self._learn, counts]).group_by("key", "bin").agg(pl.col("n").sum())

    def finish(self, learn_start: float, learn_end: float) -> None:
        """Turn learning counts into per-key peak and mean per window."""
        windows = max(1, math.ceil((learn_end - learn_start) / self.window))
        self.stats = self._learn.group_by("key").agg(
            pl.col("n").max().cast(pl.Float64).alias("peak"),
            (pl.col("n").sum() / windows).cast(pl.Float64).alias("mean"),
        )
        self._learn = self._learn.clear()

    def thresholds(self, keys: pl.DataFrame, sensitivity: float) -> pl.DataFrame:
        r = self.rule
        new_min = float(r.new_min) if r.new_min is not None else float("inf")
        known = pl.max_horizontal(
            pl.lit(float(r.min_count)),
            r.ratio * pl.col("mean").fill_null(0.0),
            r.margin * pl.col("peak").fill_null(0.0),
        )
        unseen = pl.col("peak").is_null() & (pl.col("key") != "*")
        return keys.join(self.stats, on="key", how="left").with_columns(
            (pl.when(unseen).then(pl.lit(new_min)).otherwise(known) / sensitivity).alias("thr")
        )

    def detect(self, table: pl.DataFrame, now: float, sensitivity: float) -> list[dict[str, Any]]:
        """Flagged windows so far (cumulative with carried windows), as plain dicts, oldest first.

        Counts are kept per (key, window, detail label, sender) so a window split across batches
        reports the same totals, labels and top senders as if it had come in one batch.
        """
        sel = self._selected(table)
        if sel.height == 0 and self._carry.height == 0:
            return []
        fine = sel.group_by("key", "bin", "sub", "detail", "src").agg(
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("time").min().alias("t0"),
            pl.col("time").max().alias("t1"),
            pl.col("frame").min().cast(pl.Int64).alias("f0"),
            pl.col("frame").max().cast(pl.Int64).alias("f1"),
            pl.col("file").first().cast(pl.Int32).alias("file"),
        )
        fine = (
            pl.concat([self._carry, fine.select(list(_BIN_SCHEMA))])
            .group_by("key", "bin", "sub", "detail", "src")
            .agg(*_merged())
        )
        self._carry = fine.filter((pl.col("bin") + 1) * self.window > now)
        bins = fine.group_by("key", "bin").agg(*_merged())
        flagged = self.thresholds(bins, sensitivity).filter(pl.col("n") >= pl.col("thr"))
        if flagged.height == 0:
            return []
        parts = fine.join(flagged.select("key", "bin"), on=["key", "bin"], how="semi")
        out = []
        for row in flagged.sort("t0").iter_rows(named=True):
            part = parts.filter((pl.col("key") == row["key"]) & (pl.col("bin") == row["bin"]))
            senders = part.group_by("src").agg(pl.col("n").sum()).sort(["n", "src"], descending=[True, False])
            row["senders"] = senders.head(5)["src"].to_list()
            if self.rule.detail is not None:
                labels = part.group_by("detail").agg(pl.col("n").sum())
                row["details"] = dict(labels.iter_rows())
            # the burst inside the window: sub-windows running at the threshold's rate or above
            subs = part.group_by("sub").agg(
                pl.col("n").sum(),
                pl.col("t0").min(),
                pl.col("t1").max(),
                pl.col("f0").min(),
                pl.col("f1").max(),
            )
            # (and above anything a whole learned window held, so normal chatter just before is left out)
            hot = subs.filter((pl.col("n") >= row["thr"] / SUBS) & (pl.col("n") > (row["peak"] or 0)))
            if hot.height:
                row["t0"], row["t1"] = hot["t0"].min(), hot["t1"].max()
                row["f0"], row["f1"] = hot["f0"].min(), hot["f1"].max()
            out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.stats["key"].to_list(),
            "peak": self.stats["peak"].to_list(),
            "mean": self.stats["mean"].to_list(),
        }

    def load(self, data: dict[str, Any]) -> None:
        self.stats = pl.DataFrame(
            {"key": data["key"], "peak": data["peak"], "mean": data["mean"]},
            schema={"key": pl.Utf8(), "peak": pl.Float64(), "mean": pl.Float64()},
        )
