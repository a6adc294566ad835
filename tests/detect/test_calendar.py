"""Calendar channels and built-in holiday rules, checked against published holiday dates."""

from datetime import date, timedelta

import numpy as np
import pytest

from spear_tui.detect.calendar import calendar_channels, holiday_dates, holiday_mask, orthodox_easter
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


@pytest.mark.parametrize(
    "year,easter",
    [
        (2021, date(2021, 5, 2)), (2023, date(2023, 4, 16)), (2024, date(2024, 5, 5)),
        (2025, date(2025, 4, 20)),
    ],
)
def test_orthodox_easter_known_dates(year, easter):
    assert orthodox_easter(year) == easter


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
