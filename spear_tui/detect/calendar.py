"""Calendar channels for the day autoencoder: day of week and a holiday flag.

Why: an autoencoder that only sees one day's shape cannot tell a holiday Thursday from a Sunday.
Giving it the calendar as extra input channels (it still reconstructs only the measurement) lets a
day that does not look like its weekday stand out. Holiday rules are built in for a few countries
(no extra dependency): fixed dates, nth-weekday rules, US "observed" shifts and Orthodox Easter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import numpy as np

from spear_tui.errors import UserError

N_DOW = 7


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """n-th (1-based) `weekday` (Mon=0) of a month; n=-1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(d: date) -> date:
    """US federal rule: a Saturday holiday is observed on Friday, a Sunday one on Monday."""
    if d.weekday() == 5:
        return d - timedelta(days=1)
    if d.weekday() == 6:
        return d + timedelta(days=1)
    return d


def orthodox_easter(year: int) -> date:
    """Orthodox Easter (Meeus' Julian algorithm, converted to Gregorian; valid 1900-2099)."""
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30
    e = (2 * a + 4 * b - d + 34) % 7
    month, day = divmod(d + e + 114, 31)
    return date(year, month, day + 1) + timedelta(days=13)


def _us(year: int) -> set[date]:
    days = {
        date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25),
    }
    if year >= 2021:
        days.add(date(year, 6, 19))
    out = {_observed(d) for d in days} | days
    out |= {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
    }
    # New Year's Day on a Saturday is observed on Dec 31 of the year before.
    if date(year + 1, 1, 1).weekday() == 5:
        out.add(date(year, 12, 31))
    return out


def _gr(year: int) -> set[date]:
    easter = orthodox_easter(year)
    return {
        date(year, 1, 1), date(year, 1, 6), date(year, 3, 25), date(year, 5, 1), date(year, 8, 15),
        date(year, 10, 28), date(year, 12, 25), date(year, 12, 26),
        easter - timedelta(days=48),  # Clean Monday
        easter - timedelta(days=2),  # Good Friday
        easter + timedelta(days=1),  # Easter Monday
        easter + timedelta(days=50),  # Whit Monday (Orthodox Pentecost + 1)
    }


_RULES = {"US": _us, "GR": _gr}
COUNTRIES: tuple[str, ...] = tuple(_RULES)


def holiday_dates(country: str, years: Iterable[int]) -> set[date]:
    """Public holidays of `country` ("US" federal, "GR") in the given years."""
    rule = _RULES.get(country.upper())
    if rule is None:
        raise UserError(f"unknown holiday calendar {country!r}; known: {', '.join(COUNTRIES)}")
    out: set[date] = set()
    for y in years:
        out |= rule(y)
    return out


def holiday_mask(
    dates: Sequence[date], country: str | None = None, extra: Iterable[date] = ()
) -> np.ndarray:
    """Bool (n_days,): which dates are holidays (built-in calendar and/or user-listed dates)."""
    hol = set(extra)
    if country:
        hol |= holiday_dates(country, {d.year for d in dates})
    return np.fromiter((d in hol for d in dates), dtype=bool, count=len(dates))


def calendar_channels(
    dates: Sequence[date],
    *,
    holidays: str | None = None,
    extra_holidays: Iterable[date] = (),
    holiday_channel: bool = True,
) -> np.ndarray:
    """float32 (n_days, 8) or (n_days, 7): day-of-week one-hot (Mon..Sun) + holiday flag.

    A holiday's weekday is encoded as a Sunday (the usual load-forecasting convention), so the model
    expects a Sunday-like day even when no holiday occurred in its training days. With no calendar
    (`holidays=None`, no extra dates), the flag column is all zero and weekdays are the real ones.
    """
    hol = holiday_mask(dates, holidays, extra_holidays)
    dow = np.fromiter((d.weekday() for d in dates), dtype=np.int64, count=len(dates))
    dow = np.where(hol, 6, dow)
    out = np.zeros((len(dates), N_DOW + int(holiday_channel)), dtype=np.float32)
    out[np.arange(len(dates)), dow] = 1.0
    if holiday_channel:
        out[:, N_DOW] = hol
    return out
