"""Cut a meter series into local calendar days of fixed length (96 x 15 min by default).

The seq2seq model needs fixed shapes, so every local day has exactly `samples_per_day` slots of the local
wall clock: on the spring DST day the skipped hour's slots do not exist and are interpolated (not counted as a
gap); on the autumn day the repeated hour's samples fall into the same slots and are averaged. A sample at
wall-clock time t goes to slot floor(t / step) (timestamps mark the start of their interval); several samples
in a slot are averaged (resampling by mean). Short gaps are interpolated linearly; a day touched by a gap
longer than `max_gap` is marked incomplete so it is never silently scored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from spear_tui.errors import UserError
from spear_tui.meter.files import MeterSeries

DEFAULT_MAX_GAP = dt.timedelta(hours=1)
MAX_DAYS = 36_600  # a century of days; more means a misread timestamp column, not a meter
_US = 1_000_000


@dataclass
class MeterDays:
    """Day windows: `values[d, s, m]` is measurement m in slot s of local day `dates[d]`."""

    dates: list[dt.date]
    values: np.ndarray  # float32 (n_days, samples_per_day, n_measurements), gaps interpolated
    complete: np.ndarray  # bool (n_days,): False when touched by a gap longer than max_gap
    measurements: list[str]
    samples_per_day: int
    filled: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 0), bool)
    )  # bool (n_days, spd): interpolated
    gaps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # int (n_days,): missing slots
    tz: str = "UTC"
    units: dict[str, str] = field(default_factory=dict)  # measurement -> unit, from the series

    def measurement(self, name: str) -> np.ndarray:
        """(n_days, samples_per_day) array of one measurement."""
        try:
            return self.values[:, :, self.measurements.index(name)]
        except ValueError:
            raise UserError(f"no measurement {name!r} (have: {', '.join(self.measurements)})") from None


def _step_us(samples_per_day: int) -> int:
    if samples_per_day <= 0 or (86_400 * _US) % samples_per_day:
        raise UserError(f"samples per day must divide a day into whole microseconds, got {samples_per_day}")
    return 86_400 * _US // samples_per_day


def _check_tz(tz: str) -> None:
    try:
        pl.select(pl.datetime(2020, 1, 1).dt.replace_time_zone(tz))
    except (pl.exceptions.PolarsError, ValueError):
        raise UserError(f"unknown time zone {tz!r} (use an IANA name such as Europe/Athens)") from None


def nonexistent_slots(first: dt.date, n_days: int, samples_per_day: int, tz: str) -> np.ndarray:
    """bool (n_days * samples_per_day,): slots whose local wall-clock time does not exist (spring DST gap)."""
    if tz == "UTC" or n_days == 0:
        return np.zeros(n_days * samples_per_day, bool)
    step = _step_us(samples_per_day)
    start = dt.datetime.combine(first, dt.time())
    grid = pl.datetime_range(
        start,
        start + dt.timedelta(microseconds=step * (n_days * samples_per_day - 1)),
        interval=f"{step}us",
        eager=True,
        time_unit="us",
    )
    local = grid.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    return local.is_null().to_numpy()


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and lengths of runs of True."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return starts, ends - starts


def fill_grid(
    grid: np.ndarray, nonexistent: np.ndarray, max_gap_slots: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolate NaNs of a (n_slots, n_meas) grid along time.

    Returns (filled values, missing mask (n_slots,) of real missing slots, long mask (n_slots,) of slots in
    a run of missing existing slots longer than `max_gap_slots`). Nonexistent (DST) slots are filled but
    neither count as missing nor break or lengthen a run.
    """
    n, m = grid.shape
    out = np.empty_like(grid, dtype=np.float64)
    missing_any = np.zeros(n, bool)
    long_any = np.zeros(n, bool)
    exist_idx = np.flatnonzero(~nonexistent)
    x = np.arange(n)
    for j in range(m):
        col = grid[:, j]
        known = ~np.isnan(col)
        if known.any():
            out[:, j] = np.interp(x, x[known], col[known])
        else:
            out[:, j] = 0.0
        missing = ~known & ~nonexistent
        missing_any |= missing
        starts, lengths = _runs(missing[exist_idx])
        for s, length in zip(starts, lengths, strict=True):
            if length > max_gap_slots:
                long_any[exist_idx[s : s + length]] = True
    return out, missing_any, long_any


def to_days(
    series: MeterSeries,
    *,
    samples_per_day: int = 96,
    tz: str | None = None,
    max_gap: dt.timedelta = DEFAULT_MAX_GAP,
) -> MeterDays:
    """Resample to `samples_per_day` slots of the local (tz; default the series' tz, else UTC) day."""
    tz = tz or series.tz or "UTC"
    _check_tz(tz)
    step = _step_us(samples_per_day)
    meas = series.measurements
    if series.frame.height == 0 or not meas:
        raise UserError(f"no samples to cut into days in {series.source}")
    local = series.frame.select(
        pl.col("time")
        .dt.convert_time_zone(tz)
        .dt.replace_time_zone(None)
        .dt.cast_time_unit("us")
        .alias("local"),
        *[pl.col(m) for m in meas],
    )
    first_date: dt.date = local["local"].min().date()  # type: ignore[union-attr]
    last_date: dt.date = local["local"].max().date()  # type: ignore[union-attr]
    n_days = (last_date - first_date).days + 1
    if n_days > MAX_DAYS:
        raise UserError(
            f"{series.source} spans {n_days} days ({first_date} .. {last_date}); at most {MAX_DAYS} are cut "
            "into days (wrong timestamp column or format?)"
        )
    origin = dt.datetime.combine(first_date, dt.time())
    slots = (
        local.with_columns(((pl.col("local") - pl.lit(origin)).dt.total_microseconds() // step).alias("slot"))
        .group_by("slot")
        .agg([pl.col(m).mean() for m in meas])
    )
    grid = np.full((n_days * samples_per_day, len(meas)), np.nan)
    idx = slots["slot"].to_numpy()
    grid[idx] = slots.select(meas).to_numpy().astype(np.float64)
    nonexistent = nonexistent_slots(first_date, n_days, samples_per_day, tz)
    max_gap_slots = int(max_gap.total_seconds() * _US // step)
    values, missing, long = fill_grid(grid, nonexistent, max_gap_slots)
    shape = (n_days, samples_per_day)
    return MeterDays(
        dates=[first_date + dt.timedelta(days=d) for d in range(n_days)],
        values=values.reshape(n_days, samples_per_day, len(meas)).astype(np.float32),
        complete=np.asarray(~long.reshape(shape).any(axis=1)),
        measurements=list(meas),
        samples_per_day=samples_per_day,
        filled=(missing | nonexistent).reshape(shape),
        gaps=missing.reshape(shape).sum(axis=1).astype(np.int32),
        tz=tz,
        units=dict(series.units),
    )


@dataclass(frozen=True)
class CompletedDay:
    """One local day filled by live samples (see DayAccumulator)."""

    date: dt.date
    values: np.ndarray  # float32 (samples_per_day, n_measurements), gaps interpolated
    complete: bool
    filled: np.ndarray  # bool (samples_per_day,): slot interpolated or held
    gaps: int  # missing (existing) slots
    measurements: tuple[str, ...]


class DayAccumulator:
    """Live samples -> completed days, with the same slots, averaging and gap rules as `to_days`.

    Differences forced by being live: a gap at the end of a day is held at the last value (the future is
    unknown), a day is judged when the first sample of a later day arrives (or on `flush`), and an emitted
    day is never revised. Samples older than the day being filled are counted in `late` and ignored.
    """

    def __init__(
        self,
        measurements: list[str] | tuple[str, ...],
        *,
        samples_per_day: int = 96,
        tz: str | None = None,
        max_gap: dt.timedelta = DEFAULT_MAX_GAP,
    ) -> None:
        self.measurements = tuple(measurements)
        self.samples_per_day = samples_per_day
        self.tz = tz or "UTC"
        _check_tz(self.tz)
        self._zone = None if self.tz == "UTC" else _zoneinfo(self.tz)
        self._step = _step_us(samples_per_day)
        self._max_gap_slots = int(max_gap.total_seconds() * _US // self._step)
        self._date: dt.date | None = None
        self._floor: dt.date | None = None
        self._sums = np.zeros((samples_per_day, len(self.measurements)))
        self._counts = np.zeros((samples_per_day, len(self.measurements)))
        self._seen = np.zeros(len(self.measurements), bool)
        self._last_value: np.ndarray | None = None  # last known slot values (carried across days)
        self._carry_run = 0  # missing existing slots at the end of the previous day
        self.late = 0
        self.samples = 0

    @property
    def date(self) -> dt.date | None:
        """The local date being filled."""
        return self._date

    def current(self) -> np.ndarray:
        """(samples_per_day, n_measurements) means of the day being filled, NaN where nothing arrived yet."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self._sums / self._counts).astype(np.float32)

    def _local(self, time: dt.datetime) -> dt.datetime:
        if time.tzinfo is None:
            time = time.replace(tzinfo=dt.UTC)
        local = time.astimezone(self._zone) if self._zone else time.astimezone(dt.UTC)
        return local.replace(tzinfo=None)

    def add(self, time: dt.datetime, values: dict[str, float]) -> list[CompletedDay]:
        """Add one sample (aware datetime; naive means UTC). Returns the days this sample completed."""
        local = self._local(time)
        date = local.date()
        done: list[CompletedDay] = []
        if self._date is None and (self._floor is None or date >= self._floor):
            self._date = date
        elif self._date is None or date < self._date:
            self.late += 1
            return done
        while date > self._date:
            done.append(self._finish())
        midnight = dt.datetime.combine(date, dt.time())
        slot = int((local - midnight) // dt.timedelta(microseconds=self._step))
        row = np.array([values.get(m, np.nan) for m in self.measurements], dtype=np.float64)
        ok = np.isfinite(row)
        self._sums[slot, ok] += row[ok]
        self._counts[slot, ok] += 1
        self.samples += 1
        return done

    def flush(self) -> list[CompletedDay]:
        """Finish the day being filled (e.g. when polling stops); the accumulator starts empty again."""
        if self._date is None or not self._counts.any():
            return []
        day = self._finish()
        self._floor, self._date = self._date, None  # nothing older than the flushed day is accepted
        return [day]

    def _finish(self) -> CompletedDay:
        assert self._date is not None
        date = self._date
        spd = self.samples_per_day
        with np.errstate(invalid="ignore", divide="ignore"):
            grid = np.where(self._counts > 0, self._sums / np.maximum(self._counts, 1), np.nan)
        nonexistent = nonexistent_slots(date, 1, spd, self.tz)
        # A known point before the day (previous day's last value) anchors interpolation of a leading gap,
        # and its trailing run of missing slots lengthens this day's leading run.
        lead = self._carry_run
        prefix = np.full((lead, grid.shape[1]), np.nan)
        if self._last_value is not None:
            prefix = np.vstack([self._last_value[None, :], prefix])
        ext_grid = np.vstack([prefix, grid])
        ext_nonexistent = np.concatenate([np.zeros(len(prefix), bool), nonexistent])
        # Measurements the meter has never delivered (e.g. a map register the device leaves NaN) are filled
        # with 0 and do not make every day incomplete; once one has been seen, its gaps count.
        self._seen |= self._counts.any(axis=0)
        values, missing, long = fill_grid(ext_grid, ext_nonexistent, self._max_gap_slots)
        if not self._seen.all():
            if self._seen.any():
                _, missing, long = fill_grid(ext_grid[:, self._seen], ext_nonexistent, self._max_gap_slots)
            else:
                _, missing, long = fill_grid(ext_grid[:, :1], ext_nonexistent, self._max_gap_slots)
        values, missing, long = values[len(prefix) :], missing[len(prefix) :], long[len(prefix) :]
        known_rows = ~np.isnan(grid).all(axis=1)
        if known_rows.any() or self._last_value is not None:
            self._last_value = values[-1].copy()
        exist = ~nonexistent
        trailing = 0
        for is_missing in missing[exist][::-1]:
            if not is_missing:
                break
            trailing += 1
        self._carry_run = trailing + (lead if trailing == int(exist.sum()) else 0)
        day = CompletedDay(
            date=date,
            values=values.astype(np.float32),
            complete=not bool(long.any()),
            filled=missing | nonexistent,
            gaps=int(missing.sum()),
            measurements=self.measurements,
        )
        self._date = date + dt.timedelta(days=1)
        self._sums[:] = 0
        self._counts[:] = 0
        return day


def _zoneinfo(tz: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"unknown time zone {tz!r} (use an IANA name such as Europe/Athens)") from None
