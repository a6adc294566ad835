"""A block of tshark frame rows -> per-protocol message tables (the fast, vectorised path).

Frames whose optional fields cannot be aligned by deduction come back separately ("bad" frames) so the
caller can resolve them exactly (a PDML pass over just those frames, for files) or with the fallback
(live: header fields kept, optional fields left null, counted as unaligned).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from spear_tui.protocols import bacnet, modbus, mqtt
from spear_tui.scalars import num


@dataclass
class Decoded:
    tables: dict[str, pl.DataFrame]
    skipped: dict[str, int]
    other_frames: int
    position: float | None  # latest frame time in the block
    bad: dict[str, pl.DataFrame] = field(default_factory=dict)  # raw rows needing the exact path


def decode_block(raw: pl.DataFrame, file_index: int, server_ports: Sequence[int] = (502,)) -> Decoded:
    if raw.height == 0:
        return Decoded({}, {}, 0, None)
    times = raw["time"].cast(pl.Float64, strict=False)
    # A row whose frame number or time is not a number (output cut or garbled) cannot be placed: drop it
    # and count it with the frames we could not use, instead of failing the whole block.
    placed = raw["frame"].cast(pl.Int64, strict=False).is_not_null() & times.is_finite().fill_null(False)
    garbled = raw.height - int(placed.sum())
    if garbled:
        raw, times = raw.filter(placed), times.filter(placed)
        if raw.height == 0:
            return Decoded({}, {}, garbled, None)
    position = None if times.is_empty() else num(times.max())
    known = (
        pl.col(mqtt.KEY).is_not_null() | pl.col(modbus.KEY).is_not_null() | pl.col(bacnet.KEY).is_not_null()
    )
    other = raw.height - int(raw.select(known.sum()).item()) + garbled
    mq, mq_bad = mqtt.decode(raw, file_index)
    mb, mb_bad = modbus.decode(raw, file_index, server_ports)
    bv, bv_skipped = bacnet.decode(raw, file_index)
    tables = {name: t for name, t in (("mqtt", mq), ("modbus", mb), ("bacnet", bv)) if t.height}
    skipped = {"bacnet": bv_skipped} if bv_skipped else {}
    bad = {name: b for name, b in (("mqtt", mq_bad), ("modbus", mb_bad)) if b.height}
    return Decoded(tables, skipped, other, position, bad)


def fallback(
    protocol: str, bad: pl.DataFrame, file_index: int, server_ports: Sequence[int] = (502,)
) -> tuple[pl.DataFrame, int, int]:
    """-> (table, skipped, unaligned) for frames that no exact path resolved."""
    if protocol == "mqtt":
        return mqtt.fallback(bad, file_index)
    return modbus.fallback(bad, file_index, server_ports)
