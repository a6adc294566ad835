"""The messages of an evidence cut, decoded by the capture pipeline, as CSV or Parquet.

We decode the cut (not the whole source) and shift frame numbers back, so a million-frame source
costs nothing extra; frame k of the cut is frame first_frame+k-1 of the source (editcap keeps order).
A message whose TCP segments started before the window is not in the cut and so not listed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from spear_tui.errors import UserError
from spear_tui.report.text import cell


def _pipeline():  # noqa: ANN202 - the capture package's own function
    """The capture pipeline's file opener (imported late: it pulls in polars/tshark plumbing)."""
    try:
        from spear_tui.capture.source import open_capture_files
    except ImportError:
        raise UserError("message export needs spear_tui.capture.source.open_capture_files") from None
    return open_capture_files


def decode_cut(cut: Path, first_frame: int, file_index: int, decode_as: Sequence[str] = ()) -> pl.DataFrame:
    """All protocol messages of `cut`, one table (a `protocol` column first; columns of the other
    protocols null), frame numbers and `file` mapped back to the source capture."""
    open_capture_files = _pipeline()
    source = open_capture_files([str(cut)], decode_as=tuple(decode_as))
    parts: list[pl.DataFrame] = []
    try:
        for batch in source.batches():
            for proto, table in batch.tables.items():
                if table.height:
                    parts.append(table.with_columns(pl.lit(proto).alias("protocol")))
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    if not parts:
        return pl.DataFrame(schema={"protocol": pl.Utf8(), "frame": pl.Int64(), "file": pl.Int32()})
    table = pl.concat(parts, how="diagonal_relaxed")
    table = table.with_columns(
        (pl.col("frame") + (first_frame - 1)).alias("frame"),
        pl.lit(file_index, dtype=pl.Int32()).alias("file"),
    )
    first = ["protocol", "frame", "file"]
    return table.select(first + [c for c in table.columns if c not in first]).sort(
        "frame", maintain_order=True
    )


def _inert_text(table: pl.DataFrame) -> pl.DataFrame:
    """CSV is read by people and spreadsheets: text columns (hostile client ids, topics) made inert."""
    cols = [c for c, t in table.schema.items() if t == pl.Utf8()]
    return table.with_columns(pl.col(c).map_elements(cell, return_dtype=pl.Utf8()) for c in cols)


def _named_types(table: pl.DataFrame) -> pl.DataFrame:
    """CSV readers get the message type's name next to its code ('message type': 'PUBLISH (3)')."""
    if "msgtype" not in table.columns or "protocol" not in table.columns:
        return table
    from spear_tui.protocols.names import label_column

    at = table.columns.index("msgtype") + 1
    return table.clone().insert_column(at, label_column(table))  # insert_column works in place


def write_messages(table: pl.DataFrame, out_csv: Path | None, out_parquet: Path | None) -> None:
    """CSV (text made inert and formula-guarded, message types named) and/or Parquet (values exactly
    as decoded)."""
    for out, kind in ((out_csv, "csv"), (out_parquet, "parquet")):
        if out is None:
            continue
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        os.close(fd)
        try:
            if kind == "csv":
                _inert_text(_named_types(table)).write_csv(tmp)
            else:
                table.write_parquet(tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, out)
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
        finally:
            Path(tmp).unlink(missing_ok=True)
