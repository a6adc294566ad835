"""Find the timestamp column of a meter file and parse it to UTC, vectorised in polars.

Exports disagree on everything: ISO 8601 with or without offsets, `dd.mm.yyyy HH:MM`, `dd/mm/yyyy`,
epoch seconds or milliseconds, date and time in two columns. We try a short list of formats on the whole
column and keep the one that parses the most values, so one odd row never decides the format.
"""

from __future__ import annotations

import polars as pl

from spear_tui.errors import UserError

# Header names that say "this is the time" (sanitised: lower case, non-alphanumerics removed).
TIME_NAMES = (
    "time",
    "timestamp",
    "datetime",
    "datumzeit",
    "zeitstempel",
    "ts",
    "date",
    "utc",
    "localtime",
    "timeutc",
    "datetimeutc",
    "readingtime",
    "intervalstart",
    "start",
    "period",
    "zeit",
    "datum",
)
DATE_ONLY_NAMES = ("date", "datum", "day", "tag")
TIME_ONLY_NAMES = ("time", "zeit", "hour", "uhrzeit")

# Formats tried on string columns; with %z the result is absolute (UTC), without it is wall-clock time.
_FORMATS_TZ = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M%z")
_FORMATS_NAIVE = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
)
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%m/%d/%Y")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%H:%M:%S%.f")

# Epoch values accepted as seconds (2000-01-01 .. 2100-01-01); ×1000 for milliseconds.
_EPOCH_S = (946_684_800, 4_102_444_800)

UTC = "UTC"


def _sanitise(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _localise(naive: pl.Expr, tz: str | None) -> pl.Expr:
    """Wall-clock times in `tz` -> UTC. Non-existent local times (spring gap) become null (a bad row);
    ambiguous ones (the repeated autumn hour) take the earlier instant — documented in docs/meter.md."""
    if tz is None or tz == UTC:
        return naive.dt.replace_time_zone(UTC)
    return naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null").dt.convert_time_zone(UTC)


def _best_format(col: pl.Series, formats: tuple[str, ...], kind: str) -> tuple[str | None, int]:
    """The format that parses most non-null values of a string column (ties: first listed)."""
    best, best_n = None, 0
    sample = col.drop_nulls()
    if sample.len() > 2000:  # decide on a spread sample, then parse the whole column once
        sample = sample.gather_every(max(1, sample.len() // 2000))
    for fmt in formats:
        try:
            if kind == "datetime":
                parsed = sample.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True)
            elif kind == "date":
                parsed = sample.str.strptime(pl.Date, fmt, strict=False, exact=True)
            else:
                parsed = sample.str.strptime(pl.Time, fmt, strict=False, exact=True)
        except pl.exceptions.PolarsError:
            continue
        n = parsed.len() - parsed.null_count()
        if n > best_n:
            best, best_n = fmt, n
    return best, best_n


def _parse_epoch(values: pl.Series) -> pl.Series | None:
    """Numbers in the epoch range (seconds or milliseconds) -> UTC datetimes; None if they are not epochs."""
    nums = values.cast(pl.Float64, strict=False)
    finite = nums.filter(nums.is_finite())
    if finite.len() == 0:
        return None
    median = float(finite.median())  # type: ignore[arg-type]
    if _EPOCH_S[0] <= median <= _EPOCH_S[1]:
        scale = 1_000_000
    elif _EPOCH_S[0] * 1000 <= median <= _EPOCH_S[1] * 1000:
        scale = 1_000
    else:
        return None
    ok = nums.is_finite() & (nums * scale >= _EPOCH_S[0] * 1e6) & (nums * scale <= _EPOCH_S[1] * 1e6)
    micro = pl.select(
        pl.when(ok).then((nums * scale).round(0)).otherwise(None).cast(pl.Int64).alias("t")
    ).to_series()
    return micro.cast(pl.Datetime("us")).dt.replace_time_zone(UTC)


def parse_time_column(col: pl.Series, tz: str | None) -> pl.Series:
    """One column -> Datetime(us, UTC); unparseable values become null (counted as bad rows by the caller)."""
    dtype = col.dtype
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return pl.select(_localise(pl.lit(col).cast(pl.Datetime("us")), tz)).to_series()
        return col.dt.convert_time_zone(UTC).cast(pl.Datetime("us", UTC))
    if dtype == pl.Date:
        return pl.select(_localise(pl.lit(col).cast(pl.Datetime("us")), tz)).to_series()
    if dtype.is_numeric():
        epoch = _parse_epoch(col)
        if epoch is None:
            raise UserError(
                f"timestamp column {col.name!r} holds numbers that are not epoch seconds/milliseconds"
            )
        return epoch
    strings = col.cast(pl.String, strict=False).str.strip_chars().str.replace(r"(?i)z$", "+00:00")
    fmt_tz, n_tz = _best_format(strings, _FORMATS_TZ, "datetime")
    fmt, n_naive = _best_format(strings, _FORMATS_NAIVE, "datetime")
    # epoch numbers stored as text
    if max(n_tz, n_naive) == 0:
        epoch = _parse_epoch(strings)
        if epoch is not None:
            return epoch
        raise UserError(f"cannot read timestamps in column {col.name!r} (e.g. {_example(strings)!r})")
    if n_tz >= n_naive and fmt_tz is not None:
        parsed = strings.str.strptime(pl.Datetime("us", UTC), fmt_tz, strict=False, exact=True)
        return parsed.dt.convert_time_zone(UTC)
    assert fmt is not None
    naive = strings.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True)
    return pl.select(_localise(pl.lit(naive), tz)).to_series()


def _example(col: pl.Series) -> str:
    vals = col.drop_nulls()
    return str(vals[0])[:40] if vals.len() else ""


def combine_date_time(date: pl.Series, time: pl.Series, tz: str | None) -> pl.Series | None:
    """Separate date and time-of-day columns -> one UTC datetime column (None if they do not parse)."""
    d_str = date.cast(pl.String, strict=False).str.strip_chars()
    t_str = time.cast(pl.String, strict=False).str.strip_chars()
    d_fmt, d_n = _best_format(d_str, _DATE_FORMATS, "date")
    t_fmt, t_n = _best_format(t_str, _TIME_FORMATS, "time")
    if not d_fmt or not t_fmt or d_n == 0 or t_n == 0:
        return None
    frame = pl.DataFrame(
        {
            "d": d_str.str.strptime(pl.Date, d_fmt, strict=False, exact=True),
            "t": t_str.str.strptime(pl.Time, t_fmt, strict=False, exact=True),
        }
    )
    naive = frame.select(pl.col("d").dt.combine(pl.col("t"), "us").alias(date.name)).to_series()
    return pl.select(_localise(pl.lit(naive), tz)).to_series()


def _parse_ratio(col: pl.Series, tz: str | None) -> float:
    try:
        parsed = parse_time_column(col, tz)
    except (UserError, pl.exceptions.PolarsError):
        return 0.0
    total = col.len() - col.null_count()
    return (parsed.len() - parsed.null_count()) / total if total else 0.0


def find_time_column(
    frame: pl.DataFrame, timestamp: str | None, tz: str | None
) -> tuple[list[str], pl.Series]:
    """Pick the timestamp column(s): the one named by `timestamp`, a date+time pair, a column with a
    time-like name, or else the first column that parses. Returns (columns used, UTC datetimes)."""
    columns = frame.columns
    if timestamp is not None:
        match = [c for c in columns if c == timestamp] or [
            c for c in columns if c.lower() == timestamp.lower()
        ]
        if not match:
            raise UserError(f"no timestamp column {timestamp!r} (columns: {', '.join(columns[:12])})")
        return [match[0]], parse_time_column(frame[match[0]], tz)
    by_name = {_sanitise(c): c for c in reversed(columns)}
    date_col = next((by_name[n] for n in DATE_ONLY_NAMES if n in by_name), None)
    time_col = next((by_name[n] for n in TIME_ONLY_NAMES if n in by_name), None)
    if date_col and time_col and date_col != time_col:
        combined = combine_date_time(frame[date_col], frame[time_col], tz)
        if combined is not None and combined.null_count() < combined.len() / 2:
            return [date_col, time_col], combined
    candidates = [by_name[n] for n in TIME_NAMES if n in by_name]
    candidates += [c for c in columns if c not in candidates]
    for name in candidates[:12]:
        if _parse_ratio(frame[name], tz) >= 0.5:
            return [name], parse_time_column(frame[name], tz)
    raise UserError(
        f"no timestamp column found (columns: {', '.join(columns[:12])}); name it with --timestamp"
    )
