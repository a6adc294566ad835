"""Helpers shared by the per-protocol decoders over the tshark field columns (`field_names.py` lists
the fields and the aggregator that joins a frame's repeated ones).
"""

from __future__ import annotations

import polars as pl

from spear_tui.protocols.field_names import (  # noqa: F401 (re-exported: the decoders import them from here)
    AGGREGATOR,
    ALL_FIELDS,
    BACNET_FIELDS,
    COLUMNS,
    COMMON_FIELDS,
    MODBUS_FIELDS,
    MQTT_FIELDS,
    tshark_field_args,
)


def split(col: str) -> pl.Expr:
    """The occurrences of a repeated field as a list (null field -> empty list)."""
    return pl.col(col).fill_null("").str.split(AGGREGATOR).list.eval(pl.element()).alias(col)


def occurrences(col: str) -> pl.Expr:
    """How many occurrences a field has in the frame (0 when absent)."""
    return (
        pl.when(pl.col(col).is_null())
        .then(0)
        .otherwise(pl.col(col).str.count_matches(AGGREGATOR, literal=True) + 1)
    )


def first(col: str) -> pl.Expr:
    """First occurrence of a field (tunnels/ICMP quotes repeat addresses; take the outer one)."""
    return pl.col(col).str.split(AGGREGATOR).list.first()


def to_int(expr: pl.Expr) -> pl.Expr:
    """Decimal or 0x-hex text -> Int64, null when empty or unparsable.

    tshark writes its numeric fields without spaces, so a value with any is unparsable like any other
    garbled one (null). Not stripping them first halved this, a tenth of MQTT's decoding time."""
    return (
        pl.when(expr.str.starts_with("0x"))
        .then(expr.str.slice(2).str.to_integer(base=16, strict=False))
        .otherwise(expr.str.to_integer(base=10, strict=False))
    )


def common_columns(file_index: int, sport: str, dport: str) -> list[pl.Expr]:
    """frame/file/time/src/dst/sport/dport expressions on the raw frame table."""
    return [
        pl.col("frame").cast(pl.Int64),
        pl.lit(file_index, dtype=pl.Int32).alias("file"),
        pl.col("time").cast(pl.Float64),
        pl.coalesce(first("ip_src"), first("ip6_src")).alias("src"),
        pl.coalesce(first("ip_dst"), first("ip6_dst")).alias("dst"),
        to_int(first(sport)).cast(pl.Int32).alias("sport"),
        to_int(first(dport)).cast(pl.Int32).alias("dport"),
    ]


def malformed_in(names: tuple[str, ...]) -> pl.Expr:
    """True where tshark marked the frame malformed in one of these dissectors ("Malformed Packet: MQTT")."""
    pattern = "|".join(f"Malformed Packet: {n}\\]" for n in names)
    return pl.col("malformed").fill_null("").str.contains(pattern)
