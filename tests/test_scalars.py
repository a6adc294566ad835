"""spear_tui.scalars: polars aggregates as numbers, loudly refusing what is not one."""

from __future__ import annotations

import polars as pl
import pytest

from spear_tui.scalars import num, whole


def test_numeric_aggregates_come_back_as_python_numbers() -> None:
    s = pl.Series("time", [3.5, 1.25, 2.0])
    assert num(s.min()) == 1.25 and type(num(s.max())) is float
    frames = pl.Series("frame", [7, 3, 9])
    assert whole(frames.min()) == 3 and type(whole(frames.max())) is int


@pytest.mark.parametrize("value", [None, "12", [1.0]])
def test_what_is_not_a_number_is_refused(value: object) -> None:
    with pytest.raises(TypeError, match="expected a number"):
        num(value)
    with pytest.raises(TypeError, match="expected a number"):
        whole(value)


def test_an_empty_column_has_no_minimum_to_read() -> None:
    with pytest.raises(TypeError, match="NoneType"):
        num(pl.Series("time", [], dtype=pl.Float64).min())
