"""`Batch`: what a packet source hands the engine, and the helpers to combine and split batches."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from spear_tui.scalars import num


@dataclass
class Batch:
    """Per-protocol message tables (exactly `schema.schema(protocol)` columns, time-ordered); protocols
    with no messages in this batch may be absent."""

    tables: dict[str, pl.DataFrame]
    skipped: dict[str, int]  # malformed/undecodable messages per protocol in this batch
    other_frames: int  # frames carrying no complete message of a known protocol
    position: float  # capture time (epoch s) reached
    # Messages kept with their header fields but optional fields (topic, msgid, ...) left null because
    # the frame could not be aligned exactly (live captures only; files use the exact path).
    unaligned: dict[str, int] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        return sum(t.height for t in self.tables.values())


def add_counts(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    out = dict(a)
    for k, v in b.items():
        if v:
            out[k] = out.get(k, 0) + v
    return out


def combine(batches: list[Batch]) -> Batch:
    """One batch from several (tables concatenated and time-sorted, counts summed)."""
    tables: dict[str, list[pl.DataFrame]] = {}
    skipped: dict[str, int] = {}
    unaligned: dict[str, int] = {}
    for b in batches:
        for name, t in b.tables.items():
            tables.setdefault(name, []).append(t)
        skipped = add_counts(skipped, b.skipped)
        unaligned = add_counts(unaligned, b.unaligned)
    merged = {name: sort_by_time(pl.concat(ts)) for name, ts in tables.items() if sum(t.height for t in ts)}
    return Batch(
        merged, skipped, sum(b.other_frames for b in batches), max(b.position for b in batches), unaligned
    )


def sort_by_time(table: pl.DataFrame) -> pl.DataFrame:
    """Stable time order (messages of one frame keep their order)."""
    if table.height < 2 or table["time"].is_sorted():
        return table
    return table.sort("time", maintain_order=True)


def split_by_time(batch: Batch, span: float) -> list[Batch]:
    """Split a batch into pieces covering at most `span` seconds of capture time each (for paced replay).
    Counts (skipped, other frames) ride on the first piece."""
    times = [t["time"] for t in batch.tables.values() if t.height]
    if not times or span <= 0:
        return [batch]
    lo = min(num(t.min()) for t in times)
    hi = max(num(t.max()) for t in times)
    if hi - lo <= span:
        return [batch]
    n = int((hi - lo) // span) + 1
    pieces: list[Batch] = []
    for i in range(n):
        start, end = lo + i * span, lo + (i + 1) * span
        last = i == n - 1
        tables = {}
        for name, t in batch.tables.items():
            sel = (t["time"] >= start) & ((t["time"] < end) if not last else (t["time"] <= hi))
            part = t.filter(sel)
            if part.height:
                tables[name] = part
        if not tables and i not in (0, n - 1):
            continue
        pieces.append(
            Batch(
                tables,
                batch.skipped if i == 0 else {},
                batch.other_frames if i == 0 else 0,
                min(end, hi) if not last else batch.position,
                batch.unaligned if i == 0 else {},
            )
        )
    return pieces


def split_by_count(batch: Batch, n: int) -> list[Batch]:
    """Split a batch into pieces of about `n` messages (never splitting one timestamp, so the messages of
    one frame stay together). Counts ride on the first piece; positions stay non-decreasing."""
    if batch.messages <= n or n <= 0:
        return [batch]
    times = pl.concat([t.select("time") for t in batch.tables.values()])["time"].sort()
    cuts = sorted({float(times[i]) for i in range(n, times.len(), n)})
    bounds = [float("-inf"), *cuts, float("inf")]
    pieces: list[Batch] = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        tables = {}
        for name, t in batch.tables.items():
            part = t.filter((pl.col("time") >= lo) & (pl.col("time") < hi))
            if part.height:
                tables[name] = part
        if not tables:
            continue
        last = hi == float("inf")
        first = not pieces
        pieces.append(
            Batch(
                tables,
                batch.skipped if first else {},
                batch.other_frames if first else 0,
                batch.position if last else max(num(t["time"].max()) for t in tables.values()),
                batch.unaligned if first else {},
            )
        )
    return pieces
