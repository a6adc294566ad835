"""Drain a PacketSource into whole tables and totals (test helper)."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from spear_tui.capture.source import PacketSource


@dataclass
class Collected:
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    unaligned: dict[str, int] = field(default_factory=dict)
    other_frames: int = 0
    batches: int = 0
    positions: list[float] = field(default_factory=list)

    def messages(self, protocol: str) -> int:
        t = self.tables.get(protocol)
        return 0 if t is None else t.height


def collect(source: PacketSource) -> Collected:
    out = Collected()
    parts: dict[str, list[pl.DataFrame]] = {}
    try:
        for b in source.batches():
            out.batches += 1
            out.other_frames += b.other_frames
            out.positions.append(b.position)
            for k, t in b.tables.items():
                parts.setdefault(k, []).append(t)
            for k, v in b.skipped.items():
                out.skipped[k] = out.skipped.get(k, 0) + v
            for k, v in b.unaligned.items():
                out.unaligned[k] = out.unaligned.get(k, 0) + v
    finally:
        source.close()
    out.tables = {k: pl.concat(v) for k, v in parts.items()}
    return out
