"""One lookup for message-type names: the code a table holds -> the name a person reads.

Why one place: the decoder keeps `msgtype` as an integer (the LSTM's feature, the JSON contract), and
every view a human reads (console chunk and protocol views, `scan`'s text, the messages CSV) shows the
name next to the code, spelled alike. The names themselves live beside each protocol's decoder
(`mqtt.TYPE_NAMES`, `modbus.FUNC_NAMES`, `bacnet.APDU_TYPES` and its service tables).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from spear_tui.protocols import bacnet, modbus, mqtt

_NAMERS: dict[str, Callable[[int], str]] = {
    "mqtt": mqtt.type_name,
    "modbus": modbus.type_name,
    "bacnet": bacnet.type_name,
}


def message_type_name(protocol: str, code: int | None) -> str:
    """'PUBLISH', 'Read Holding Registers', 'Unconfirmed-REQ who-Is'; a code the protocol does not
    name says so ('function 99'); no code at all is '?'."""
    if code is None or code < 0:
        return "?"
    namer = _NAMERS.get(protocol)
    return namer(int(code)) if namer is not None else f"type {code}"


def message_type_label(protocol: str, code: int | None) -> str:
    """The name with its code, for anything a person reads: 'PUBLISH (3)', 'Read Holding Registers (3)'."""
    if code is None or code < 0:
        return "?"
    return f"{message_type_name(protocol, code)} ({code})"


def label_column(table: pl.DataFrame, protocol: str | None = None) -> pl.Series:
    """`message type` labels for every row of `table` (its `msgtype`, and its `protocol` column unless
    `protocol` is given): one lookup per distinct (protocol, code), not per row."""
    n = table.height
    codes = table["msgtype"] if "msgtype" in table.columns else pl.Series([None] * n, dtype=pl.Int32)
    protos = pl.Series([protocol] * n, dtype=pl.Utf8) if protocol else table["protocol"]
    pairs = pl.DataFrame({"p": protos, "c": codes.cast(pl.Int64)})
    distinct = pairs.unique()
    labels = [message_type_label(p or "", c) for p, c in distinct.iter_rows()]
    keys = distinct.with_columns(label=pl.Series(labels, dtype=pl.Utf8))
    joined = pairs.join(keys, on=["p", "c"], how="left", nulls_equal=True, maintain_order="left")
    return joined["label"].alias("message type")
