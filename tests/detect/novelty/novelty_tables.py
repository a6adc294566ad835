"""Message tables and independent tshark ground truth for the novelty tests, from real captures.

Uses the project's capture pipeline (`spear_tui.capture.source.open_capture_files`) when it is
there; until it lands, a small `tshark -T fields` reader with the same columns (one row per frame's
first PDU — enough for the rules, which look at who talks to whom with which function).
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from spear_tui.protocols.schema import schema

_FIELDS = {
    "mqtt": {
        "msgtype": "mqtt.msgtype",
        "length": "mqtt.len",
        "hdrflags": "mqtt.hdrflags",
        "conflags": "mqtt.conflags",
        "clientid": "mqtt.clientid",
        "topic": "mqtt.topic",
        "qos": "mqtt.qos",
        "msgid": "mqtt.msgid",
    },
    "modbus": {
        "msgtype": "modbus.func_code",
        "length": "mbtcp.len",
        "trans_id": "mbtcp.trans_id",
        "unit_id": "mbtcp.unit_id",
        "func_code": "modbus.func_code",
        "exception_code": "modbus.exception_code",
        "reference": "modbus.reference_num",
        "data": "modbus.data",
    },
    "bacnet": {
        "msgtype": "bvlc.function",
        "length": "bvlc.length",
        "bvlc_function": "bvlc.function",
        "apdu_type": "bacapp.type",
        "confirmed_service": "bacapp.confirmed_service",
        "unconfirmed_service": "bacapp.unconfirmed_service",
        "invoke_id": "bacapp.invoke_id",
        "object_type": "bacapp.objectType",
        "object_instance": "bacapp.instance_number",
    },
}
_FILTER = {"mqtt": "mqtt", "modbus": "mbtcp", "bacnet": "bvlc"}


@functools.cache
def _pipeline_tables(path: Path, decode_as: tuple[str, ...]) -> dict[str, pl.DataFrame] | None:
    """Every protocol's table from one pass of the project's pipeline (None until it exists)."""
    try:
        from spear_tui.capture.source import open_capture_files
    except ImportError:
        return None
    src = open_capture_files([path], decode_as=decode_as)
    parts: dict[str, list[pl.DataFrame]] = {}
    try:
        for batch in src.batches():
            for protocol, table in batch.tables.items():
                parts.setdefault(protocol, []).append(table)
    finally:
        close = getattr(src, "close", None)
        if close:
            close()
    return {p: pl.concat(v) for p, v in parts.items()}


def _first(col: str) -> pl.Expr:
    return pl.col(col).str.split(",").list.first()


def _tshark_table(path: Path, protocol: str, decode_as: tuple[str, ...]) -> pl.DataFrame:
    common = {
        "frame": "frame.number",
        "time": "frame.time_epoch",
        "src": "ip.src",
        "dst": "ip.dst",
        "sport": "tcp.srcport" if protocol != "bacnet" else "udp.srcport",
        "dport": "tcp.dstport" if protocol != "bacnet" else "udp.dstport",
    }
    fields = {**common, **_FIELDS[protocol]}
    cmd = [
        "tshark",
        "-n",
        "-r",
        str(path),
        "-Y",
        _FILTER[protocol],
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
        "-E",
        "quote=n",
    ]
    for d in decode_as:
        cmd += ["-d", d]
    for f in fields.values():
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    sch = schema(protocol)
    raw = pl.read_csv(
        io.BytesIO(out),
        separator="\t",
        has_header=False,
        new_columns=list(fields),
        infer_schema=False,
        quote_char=None,
    )
    exprs = []
    for name, dtype in sch.items():
        if name == "file":
            exprs.append(pl.lit(0, pl.Int32).alias("file"))
        elif name == "is_response":
            exprs.append((pl.col("sport").cast(pl.Int32) == 502).alias("is_response"))
        elif name in ("src", "dst", "clientid", "topic", "data"):
            exprs.append(_first(name).alias(name))
        elif name in ("bvlc_function", "msgtype") and protocol == "bacnet":
            exprs.append(
                _first(name)
                .str.strip_prefix("0x")
                .str.to_integer(base=16, strict=False)
                .cast(pl.Int32)
                .alias(name)
            )
        elif name in ("hdrflags", "conflags"):
            exprs.append(
                _first(name)
                .str.strip_prefix("0x")
                .str.to_integer(base=16, strict=False)
                .cast(pl.Int32)
                .alias(name)
            )
        else:
            exprs.append(_first(name).cast(dtype, strict=False).alias(name))
    return raw.select(exprs)


@functools.cache
def capture_table(path: Path, protocol: str, decode_as: tuple[str, ...] = ()) -> pl.DataFrame:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    tables = _pipeline_tables(path, decode_as)
    if tables is None:
        return _tshark_table(path, protocol, decode_as)
    return tables.get(protocol, pl.DataFrame(schema=schema(protocol)))


@functools.cache
def _tshark_text(path: Path, display_filter: str, fields: tuple[str, ...], decode_as: tuple[str, ...]) -> str:
    cmd = [
        "tshark",
        "-n",
        "-r",
        str(path),
        "-Y",
        display_filter,
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]
    for d in decode_as:
        cmd += ["-d", d]
    for f in fields:
        cmd += ["-e", f]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def tshark_rows(
    path: Path, display_filter: str, fields: list[str], decode_as: tuple[str, ...] = ()
) -> list[list[list[str]]]:
    """Independent ground truth: each matching frame's fields, every occurrence (list per field)."""
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    out = _tshark_text(path, display_filter, tuple(fields), decode_as)
    return [[v.split(",") if v else [] for v in line.split("\t")] for line in out.splitlines()]


def learn_cut(rows: list[list[list[str]]], seconds: float) -> float:
    """Epoch time where a learning period of `seconds` from the first row ends (field 0 = time)."""
    return float(rows[0][0][0]) + seconds


def feed_all(det, table: pl.DataFrame, batch: int = 500) -> list:
    out = []
    for i in range(0, table.height, batch):
        out += det.feed(table.slice(i, batch))
    return out + det.flush()
