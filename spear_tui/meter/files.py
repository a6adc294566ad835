"""Read a meter file (CSV or Parquet) into one clean, typed time series.

Everything downstream (day windows, the seq2seq model, the console) relies on what this module promises:
a `time` column in UTC, sorted and without duplicates, one Float64 column per measurement under a canonical
name, powers in kW/kvar/kVA. Bad rows are counted and dropped, never fatal; unusable files raise UserError.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from spear_tui.errors import UserError
from spear_tui.meter.names import canonical_names
from spear_tui.meter.timestamps import find_time_column

PARQUET_MAGIC = b"PAR1"
_SEPARATORS = (";", ",", "\t", "|")
_MAX_BYTES = 512 * 1024 * 1024
_FLOAT32_MAX = 3.4e38
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d[\d.]*,\d+\s*$")


@dataclass
class MeterSeries:
    """A meter series: `frame` has `time` (Datetime UTC, sorted, unique) + one Float64 per measurement."""

    frame: pl.DataFrame
    measurements: list[str]
    units: dict[str, str]
    bad_rows: int
    source: str
    duplicates: int = 0  # rows dropped because their timestamp was already seen (first one kept)
    tz: str | None = (
        None  # time zone the file was read with (naive times were local to it); days default to it
    )
    columns: dict[str, str] | None = None  # measurement -> column header in the file


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise UserError(f"meter file not found: {path}")
    if not path.is_file():
        raise UserError(f"not a file: {path}")
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise UserError(f"meter file too large ({size // 2**20} MiB > {_MAX_BYTES // 2**20} MiB): {path}")
        return path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # old Windows exports (e.g. "Zählerstand"); never fails


def _sniff(lines: list[str]) -> tuple[str, int]:
    """(separator, header line index): the separator that splits most of the first lines into the same,
    largest number of fields; the header is the first line with that many (skips a metadata preamble such
    as `Meter: 123` lines some portal exports put on top)."""
    best, best_score, best_fields = ",", -1, 0
    for sep in _SEPARATORS:
        counts = [_fields(line, sep) for line in lines if line.strip()]
        counts = [c for c in counts if c > 0]
        if not counts:
            continue
        mode = max(set(counts), key=lambda c: (counts.count(c), c))
        score = counts.count(mode) * 100 + mode
        if score > best_score:
            best, best_score, best_fields = sep, score, mode
    header = next(
        (i for i, line in enumerate(lines) if line.strip() and _fields(line, best) == best_fields), 0
    )
    return best, header


def _fields(line: str, sep: str) -> int:
    """Separators in a line, ignoring trailing ones (many exports end every data row with `;`)."""
    return line.rstrip().rstrip(sep).count(sep)


def _read_csv(path: Path, data: bytes) -> pl.DataFrame:
    text = _decode(data)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise UserError(f"meter file is empty: {path}")
    sep, first = _sniff(lines[:50])
    try:
        frame = pl.read_csv(
            io.StringIO("\n".join(lines[first:])),
            separator=sep,
            infer_schema=False,
            truncate_ragged_lines=True,
            quote_char='"',
        )
    except (pl.exceptions.PolarsError, ValueError, OverflowError) as exc:
        raise UserError(f"cannot parse {path} as CSV: {str(exc).splitlines()[0][:120]}") from None
    if frame.width < 2:
        raise UserError(
            f"{path}: need a timestamp column and at least one measurement column "
            f"(found {frame.width} column{'s' if frame.width != 1 else ''} with separator {sep!r})"
        )
    return frame


def _read_parquet(path: Path, data: bytes) -> pl.DataFrame:
    try:
        return pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError, ValueError, OverflowError) as exc:
        raise UserError(f"cannot read {path} as Parquet: {str(exc).splitlines()[0][:120]}") from None


def _to_float(col: pl.Series) -> pl.Series:
    """Numbers as Float64: strings may use decimal commas (`1.234,5`) or dots; junk becomes null."""
    if col.dtype.is_nested() or col.dtype in (pl.Binary, pl.Object, pl.Null):
        return pl.Series(col.name, [None] * col.len(), dtype=pl.Float64)
    if col.dtype.is_numeric():
        out = col.cast(pl.Float64, strict=False)
    elif col.dtype == pl.Boolean:
        out = col.cast(pl.Float64)
    else:
        s = col.cast(pl.String, strict=False).str.strip_chars().str.replace_all(r"[\s\u00a0\u202f']", "")
        sample = s.drop_nulls().head(500)
        comma = (
            sample.len() > 0
            and sample.str.contains(_DECIMAL_COMMA.pattern).sum() > 0
            and not (
                sample.str.contains(r"^[-+]?\d+\.\d+$").sum()
                > sample.str.contains(_DECIMAL_COMMA.pattern).sum()
            )
        )
        if comma:
            s = pl.select(
                pl.when(pl.lit(s).str.contains(","))
                .then(pl.lit(s).str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
                .otherwise(pl.lit(s))
            ).to_series()
        out = s.cast(pl.Float64, strict=False)
    usable = pl.lit(out).is_finite() & (pl.lit(out).abs() < _FLOAT32_MAX)  # models see float32
    return pl.select(pl.when(usable).then(pl.lit(out)).otherwise(None)).to_series()


def _numeric_share(col: pl.Series) -> float:
    present = col.len() - col.null_count()
    if present == 0 or col.dtype.is_nested() or col.dtype in (pl.Binary, pl.Object, pl.Null):
        return 0.0
    if col.dtype.is_numeric():
        return 1.0
    if col.dtype == pl.String:
        present -= int((col.str.strip_chars() == "").sum())
        if present <= 0:
            return 0.0
    vals = _to_float(col)
    return (vals.len() - vals.null_count()) / present


def read_meter_file(
    path: str | Path,
    *,
    timestamp: str | None = None,
    tz: str | None = None,
    measurements: Sequence[str] | None = None,
) -> MeterSeries:
    """CSV or Parquet -> MeterSeries. `tz`: zone of naive timestamps (default UTC); timestamps with an offset
    are absolute. `measurements`: canonical names or headers to keep (default: every numeric column)."""
    path = Path(path)
    _check_tz(tz)
    try:
        return _read(path, timestamp, tz, measurements)
    except (
        pl.exceptions.PolarsError
    ) as exc:  # a column shape we did not foresee: still one line, no traceback
        raise UserError(f"cannot interpret {path}: {str(exc).splitlines()[0][:120]}") from None


def _read(
    path: Path, timestamp: str | None, tz: str | None, measurements: Sequence[str] | None
) -> MeterSeries:
    data = _read_bytes(path)
    if path.suffix.lower() in (".parquet", ".pq") or data[:4] == PARQUET_MAGIC:
        raw = _read_parquet(path, data)
    else:
        raw = _read_csv(path, data)
    if raw.height == 0:
        raise UserError(f"meter file has a header but no rows: {path}")
    try:
        time_cols, times = find_time_column(raw, timestamp, tz)
    except pl.exceptions.PolarsError as exc:
        raise UserError(f"cannot read timestamps in {path}: {str(exc).splitlines()[0][:120]}") from None

    names = {c.raw: c for c in canonical_names([c for c in raw.columns if c not in time_cols])}
    chosen = _choose_columns(raw, names, measurements, path)
    series: dict[str, pl.Series] = {"time": times.alias("time")}
    units: dict[str, str] = {}
    columns: dict[str, str] = {}
    for raw_name in chosen:
        col = names[raw_name]
        values = _to_float(raw[raw_name])
        if col.factor != 1.0:
            values = values * col.factor
        series[col.name] = values.alias(col.name)
        columns[col.name] = raw_name
        if col.unit:
            units[col.name] = col.unit
    frame = pl.DataFrame(series)
    kept = list(columns)
    good = pl.col("time").is_not_null() & pl.any_horizontal([pl.col(m).is_not_null() for m in kept])
    clean = frame.filter(good)
    bad_rows = frame.height - clean.height
    clean = clean.sort("time", maintain_order=True)
    unique = clean.unique(subset="time", keep="first", maintain_order=True)
    if unique.height == 0:
        raise UserError(f"no usable rows in {path} ({bad_rows} bad rows: timestamps or values unreadable)")
    return MeterSeries(
        frame=unique,
        measurements=kept,
        units=units,
        bad_rows=bad_rows,
        source=str(path),
        duplicates=clean.height - unique.height,
        tz=tz,
        columns=columns,
    )


def _check_tz(tz: str | None) -> None:
    if tz is None:
        return
    try:
        pl.select(pl.datetime(2020, 1, 1).dt.replace_time_zone(tz))
    except (pl.exceptions.PolarsError, ValueError):
        raise UserError(f"unknown time zone {tz!r} (use an IANA name such as Europe/Athens)") from None


def _choose_columns(
    raw: pl.DataFrame, names: dict, measurements: Sequence[str] | None, path: Path
) -> list[str]:
    """Headers of the measurement columns to keep, in file order."""
    if measurements:
        chosen: list[str] = []
        by_canonical = {c.name: r for r, c in names.items()}
        for want in measurements:
            hit = by_canonical.get(want) or (want if want in names else None)
            if hit is None:
                lower = {r.lower(): r for r in names}
                hit = lower.get(want.lower())
            if hit is None:
                have = ", ".join(sorted(by_canonical)[:12])
                raise UserError(f"no measurement {want!r} in {path} (found: {have})")
            if hit not in chosen:
                chosen.append(hit)
        bad = [r for r in chosen if _numeric_share(raw[r]) < 0.5]
        if bad:
            raise UserError(f"column {bad[0]!r} in {path} is not numeric")
        return chosen
    chosen = [r for r in names if _numeric_share(raw[r]) >= 0.5]
    if not chosen:
        raise UserError(f"no numeric measurement columns in {path} (columns: {', '.join(raw.columns[:12])})")
    return chosen
