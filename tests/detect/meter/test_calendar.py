"""Calendar channels and the holidays-package calendars, checked against published holiday dates."""

from datetime import date, timedelta

import numpy as np
import pytest

from spear_tui.detect.meter.calendar import (
    calendar_channels,
    calendar_default,
    holiday_dates,
    holiday_mask,
    holiday_names,
    parse_holidays,
)
from spear_tui.errors import UserError


def test_us_federal_holidays_2014_match_opm_list():
    # OPM's published 2014 federal holiday schedule (the nyc_taxi period).
    opm_2014 = {
        date(2014, 1, 1), date(2014, 1, 20), date(2014, 2, 17), date(2014, 5, 26), date(2014, 7, 4),
        date(2014, 9, 1), date(2014, 10, 13), date(2014, 11, 11), date(2014, 11, 27), date(2014, 12, 25),
    }
    assert holiday_dates("US", [2014]) == opm_2014


def test_us_observed_days_shift_off_weekends():
    h2021 = holiday_dates("US", [2021])
    assert date(2021, 7, 5) in h2021  # July 4th 2021 was a Sunday
    assert date(2021, 12, 31) in h2021  # New Year 2022 fell on a Saturday
    assert date(2021, 6, 18) in h2021  # Juneteenth (Saturday) observed Friday


def test_greek_holidays_2025():
    gr = holiday_dates("gr", [2025])
    expected = {
        date(2025, 1, 1), date(2025, 1, 6), date(2025, 3, 3), date(2025, 3, 25), date(2025, 4, 18),
        date(2025, 4, 21), date(2025, 5, 1), date(2025, 6, 9), date(2025, 8, 15), date(2025, 10, 28),
        date(2025, 12, 25), date(2025, 12, 26),
    }
    assert gr == expected


def test_unknown_country_is_a_user_error():
    with pytest.raises(UserError, match="unknown holiday calendar"):
        holiday_dates("XX", [2025])
    with pytest.raises(UserError, match="unknown subdivision 'ZZ' of US"):
        parse_holidays("US-ZZ")


def test_dutch_holidays_1997_match_the_published_list():
    # Dutch public holidays of 1997 (the Keogh power-demand year): Easter 30 March.
    nl_1997 = {
        date(1997, 1, 1), date(1997, 3, 28), date(1997, 3, 30), date(1997, 3, 31), date(1997, 4, 30),
        date(1997, 5, 8), date(1997, 5, 18), date(1997, 5, 19), date(1997, 12, 25), date(1997, 12, 26),
    }
    assert holiday_dates("nl", [1997]) == nl_1997
    names = holiday_names([date(1997, 4, 30), date(1997, 4, 29)], "NL")
    assert names == {date(1997, 4, 30): "Queen's Day"}


def test_subdivisions_add_their_own_days():
    assert parse_holidays("us:ca") == ("US", "CA") and parse_holidays(" NL ") == ("NL", None)
    chavez = date(2025, 3, 31)  # Cesar Chavez Day: California, not federal
    assert chavez in holiday_dates("US-CA", [2025])
    assert chavez not in holiday_dates("US", [2025])


def test_calendar_on_by_default_only_with_two_of_each_weekday():
    start = date(2025, 1, 6)  # a Monday
    two_weeks = [start + timedelta(days=i) for i in range(14)]
    assert calendar_default(two_weeks)
    assert not calendar_default(two_weeks[:13])  # one Sunday only
    weekdays_only = [d for d in two_weeks * 3 if d.weekday() < 5]
    assert not calendar_default(weekdays_only)
    assert not calendar_default([])


def test_channels_one_hot_weekday_and_holiday_as_sunday():
    start = date(2014, 11, 24)  # a Monday; Thanksgiving is Thursday the 27th
    dates = [start + timedelta(days=i) for i in range(7)]
    plain = calendar_channels(dates)
    assert plain.shape == (7, 8) and plain.dtype == np.float32
    assert np.array_equal(plain[:, :7], np.eye(7, dtype=np.float32))
    assert not plain[:, 7].any()
    us = calendar_channels(dates, holidays="US")
    assert us[3, 6] == 1 and us[3, 3] == 0 and us[3, 7] == 1  # Thanksgiving encoded as a Sunday + flag
    assert np.array_equal(np.delete(us, 3, axis=0), np.delete(plain, 3, axis=0))
    assert np.all(us[:, :7].sum(axis=1) == 1)


def test_extra_holidays_and_no_flag_channel():
    dates = [date(2025, 7, 9), date(2025, 7, 10)]
    assert holiday_mask(dates, None, [date(2025, 7, 10)]).tolist() == [False, True]
    ch = calendar_channels(dates, extra_holidays=[date(2025, 7, 10)], holiday_channel=False)
    assert ch.shape == (2, 7) and ch[1, 6] == 1
