"""Modbus/TCP: frames of tshark fields -> one row per Modbus PDU (request or response).

The MBAP header fields (trans_id, unit_id, len) occur once per PDU and zip. `func_code` must occur once
per PDU too (tshark already strips the exception bit; the exception code is its own field). Optional
fields are assigned by deduction in multi-PDU segments:
  - reference: requests of functions 1-6, 15, 16, 22 and responses of 5, 6, 15, 16
  - data: requests and responses of 5, 6 and requests of 15 (or every PDU, or none)
  - exception_code: when the segment holds one PDU, or all or none of its PDUs have one
Direction comes from the port: a PDU sent from a server port (502 or a decode-as'd port) is a response.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from spear_tui.protocols.common import attach, explode_lists, finish, rank_within_frame
from spear_tui.protocols.fields import common_columns, malformed_in, occurrences, to_int
from spear_tui.protocols.schema import schema

NAME = "modbus"
KEY = "mb_trans_id"
MALFORMED_NAMES = ("Modbus/TCP", "Modbus")
MANDATORY = ["mb_trans_id", "mb_unit_id", "mb_len"]
REF_REQUEST = [1, 2, 3, 4, 5, 6, 15, 16, 22]
REF_RESPONSE = [5, 6, 15, 16]
DATA_BOTH = [5, 6]
DATA_REQUEST = [15]  # tshark shows 16 (write registers) as register values, not modbus.data

FUNC_NAMES: dict[int, str] = {
    1: "Read Coils",
    2: "Read Discrete Inputs",
    3: "Read Holding Registers",
    4: "Read Input Registers",
    5: "Write Single Coil",
    6: "Write Single Register",
    7: "Read Exception Status",
    8: "Diagnostics",
    11: "Get Comm Event Counter",
    12: "Get Comm Event Log",
    15: "Write Multiple Coils",
    16: "Write Multiple Registers",
    17: "Report Server ID",
    20: "Read File Record",
    21: "Write File Record",
    22: "Mask Write Register",
    23: "Read/Write Multiple Registers",
    24: "Read FIFO Queue",
    43: "Encapsulated Interface Transport",
}


def type_name(func_code: int) -> str:
    return FUNC_NAMES.get(func_code, f"function {func_code}")


def _messages(frames: pl.DataFrame, server_ports: Sequence[int], file_index: int) -> pl.DataFrame:
    msgs = explode_lists(frames, [*MANDATORY, "mb_func"])
    msgs = msgs.join(
        frames.select("fid", *common_columns(file_index, "tcp_sport", "tcp_dport")),
        on="fid",
        maintain_order="left",
    )
    fc = to_int(pl.col("mb_func"))
    resp = pl.col("sport").is_in(list(server_ports))
    return msgs.with_columns(
        trans_id=to_int(pl.col("mb_trans_id")),
        unit_id=to_int(pl.col("mb_unit_id")),
        length=to_int(pl.col("mb_len")),
        func_code=fc,
        msgtype=fc,
        is_response=resp,
        need_ref=(~resp & fc.is_in(REF_REQUEST)) | (resp & fc.is_in(REF_RESPONSE)),
        need_data=fc.is_in(DATA_BOTH) | (~resp & fc.is_in(DATA_REQUEST)),
    )


def decode(
    raw: pl.DataFrame, file_index: int, server_ports: Sequence[int] = (502,)
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """-> (PDUs of frames whose fields reconcile, raw rows of frames that need the exact path)."""
    f = raw.filter(pl.col(KEY).is_not_null())
    if f.height == 0:
        return pl.DataFrame(schema=schema(NAME)), f
    n = occurrences(KEY)
    f = f.with_row_index("fid").with_columns(
        n=n,
        n_ref=occurrences("mb_ref"),
        n_exc=occurrences("mb_exc"),
        n_data=occurrences("mb_data"),
        ok=(occurrences("mb_unit_id") == n)
        & (occurrences("mb_len") == n)
        & (occurrences("mb_func") == n)
        & ~malformed_in(MALFORMED_NAMES),
    )
    f = f.with_columns(
        ok=pl.col("ok") & ((pl.col("n") == 1) | ((pl.col("n_exc") == 0) | (pl.col("n_exc") == pl.col("n"))))
    )
    msgs = _messages(f.filter("ok"), server_ports, file_index)
    exp = msgs.group_by("fid").agg(e_ref=pl.col("need_ref").sum(), e_data=pl.col("need_data").sum())
    f = f.join(exp, on="fid", how="left", maintain_order="left").with_columns(
        ok=pl.col("ok")
        & (
            (pl.col("n") == 1)
            | (
                (pl.col("n_ref") == pl.col("e_ref"))
                & (
                    (pl.col("n_data") == 0)
                    | (pl.col("n_data") == pl.col("e_data"))
                    | (pl.col("n_data") == pl.col("n"))
                )
            )
        )
    )
    good = f.filter("ok")
    bad = f.filter(~pl.col("ok")).select(raw.columns)
    msgs = msgs.join(good.select("fid", "n"), on="fid", how="inner", maintain_order="left")
    # Single-PDU frames take whatever occurrence is there; multi-PDU frames assign by deduced rank.
    msgs = msgs.with_columns(
        r_ref=pl.when(pl.col("n") == 1).then(0).otherwise(rank_within_frame(pl.col("need_ref")))
    )
    msgs = attach(msgs, good, "mb_ref", "r_ref", "ref_s")
    # exception_code and data: either every PDU of the segment has one or none has (else exact path).
    msgs = attach(msgs, good, "mb_exc", "pos", "exc_s")
    msgs = msgs.join(good.select("fid", "n_data", "e_data"), on="fid", how="left", maintain_order="left")
    msgs = msgs.with_columns(
        r_data=pl.when(pl.col("n_data") == pl.col("n"))
        .then(pl.col("pos"))
        .otherwise(rank_within_frame(pl.col("need_data")))
    )
    msgs = attach(msgs, good, "mb_data", "r_data", "data")
    table = msgs.with_columns(reference=to_int(pl.col("ref_s")), exception_code=to_int(pl.col("exc_s")))
    return finish(table, schema(NAME)), bad


def fallback(
    bad: pl.DataFrame, file_index: int, server_ports: Sequence[int] = (502,)
) -> tuple[pl.DataFrame, int, int]:
    """Frames without an exact path: PDUs whose header fields and func_code zip, optional fields null."""
    if bad.height == 0:
        return pl.DataFrame(schema=schema(NAME)), 0, 0
    f = bad.with_row_index("fid").with_columns(
        n=occurrences(KEY),
        mal=malformed_in(MALFORMED_NAMES),
        zip_ok=(occurrences("mb_unit_id") == occurrences(KEY))
        & (occurrences("mb_len") == occurrences(KEY))
        & (occurrences("mb_func") == occurrences(KEY)),
    )
    total = int(f["n"].sum())
    msgs = _messages(f.filter("zip_ok"), server_ports, file_index).join(
        f.select("fid", "mal"), on="fid", maintain_order="left"
    )
    n_in_frame = pl.col("pos").max().over("fid")
    msgs = msgs.filter(~(pl.col("mal") & (pl.col("pos") == n_in_frame)))
    msgs = msgs.with_columns(
        reference=pl.lit(None, pl.Int64), exception_code=pl.lit(None, pl.Int64), data=pl.lit(None, pl.Utf8)
    )
    table = finish(msgs, schema(NAME))
    return table, total - table.height, table.height
