"""Calendar channels for the day autoencoder: day of week and a holiday flag.

Why: an autoencoder that only sees one day's shape cannot tell a holiday Thursday from a Sunday.
Giving it the calendar as extra input channels (it still reconstructs only the measurement) lets a
day that does not look like its weekday stand out. Holidays come from the maintained `holidays`
package (any country and subdivision it knows: "NL", "GR", "US-CA", "GB-SCT"), not from tables of
our own: rules for 200+ countries with their history (moved days, observed shifts, one-off days)
are not something to hand-maintain.
Conditioning is on by default when the training days can teach it (`calendar_default`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np

from spear_tui.errors import UserError

N_DOW = 7
MIN_PER_WEEKDAY = 2  # training days of each weekday needed before conditioning is on by default


def parse_holidays(spec: str) -> tuple[str, str | None]:
    """"NL" -> ("NL", None); "US-CA" / "us:ca" -> ("US", "CA"). Checked against the package."""
    import holidays

    text = spec.strip()
    country, sep, part = text.replace(":", "-").partition("-")
    country = country.upper()
    subdiv: str | None = (part.upper() or None) if sep else None
    if country not in holidays.list_supported_countries():
        raise UserError(
            f"unknown holiday calendar {spec!r}: give an ISO country code the holidays package knows "
            "(e.g. NL, GR, US), optionally with a subdivision (US-CA)"
        )
    if subdiv is not None:
        known = holidays.list_supported_countries()[country]
        if subdiv not in {s.upper() for s in known}:
            shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            raise UserError(f"unknown subdivision {subdiv!r} of {country} (known: {shown or 'none'})")
    return country, subdiv


def _calendar(spec: str, years: Iterable[int]) -> dict[date, str]:
    import holidays

    country, subdiv = parse_holidays(spec)
    try:
        return dict(holidays.country_holidays(country, subdiv=subdiv, years=sorted(set(years))))
    except NotImplementedError as exc:  # defensive: parse_holidays checked both already
        raise UserError(f"holiday calendar {spec!r}: {exc}") from None


def holiday_dates(spec: str, years: Iterable[int]) -> set[date]:
    """Public holidays of `spec` ("NL", "US-CA", ...) in the given years."""
    return set(_calendar(spec, years))


def holiday_names(dates: Sequence[date], spec: str | None) -> dict[date, str]:
    """Name of each date in `dates` that is a holiday of `spec` (for explaining a flagged day)."""
    if not spec or not dates:
        return {}
    cal = _calendar(spec, {d.year for d in dates})
    return {d: cal[d] for d in dates if d in cal}


def holiday_mask(
    dates: Sequence[date], country: str | None = None, extra: Iterable[date] = ()
) -> np.ndarray:
    """Bool (n_days,): which dates are holidays (the package's calendar and/or user-listed dates)."""
    hol = set(extra)
    if country:
        hol |= holiday_dates(country, {d.year for d in dates})
    return np.fromiter((d in hol for d in dates), dtype=bool, count=len(dates))


def calendar_default(train_dates: Sequence[date]) -> bool:
    """Calendar conditioning by default: on when the training days hold at least MIN_PER_WEEKDAY of
    every weekday (fewer and the model cannot learn what a Tuesday looks like)."""
    counts = np.bincount([d.weekday() for d in train_dates], minlength=N_DOW)
    return bool((counts >= MIN_PER_WEEKDAY).all())


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


def resolve_calendar(flag: bool | None, holidays: str | None, train_dates: Sequence[date]) -> bool:
    """The conditioning actually used: an explicit --calendar/--no-calendar wins; a holiday calendar
    needs conditioning; otherwise `calendar_default` of the training days decides."""
    if holidays and flag is False:
        raise UserError("--holidays needs calendar conditioning; drop --no-calendar")
    if flag is not None:
        return flag
    return bool(holidays) or calendar_default(train_dates)
