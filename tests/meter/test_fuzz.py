"""Fuzzing the reader: whatever the bytes, a valid MeterSeries or a UserError, never another exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from fuzzing import examples
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spear_tui.errors import UserError
from spear_tui.meter.days import to_days
from spear_tui.meter.files import MeterSeries, read_meter_file

SETTINGS = settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(
    st.sampled_from(
        [
            "2025-01-01 00:00",
            "2025-03-30T03:15",
            "01.02.2025 13:45",
            "1735689600",
            "1735689600000",
            "2025-10-26T03:30+03:00",
            "2025-01-01T00:00Z",
            "31/12/2024",
            "23:45",
            "",
            "NaN",
            "inf",
            "-0",
            "1e308",
            "1e999",
            "1.234,5",
            "12,5",
            "abc",
            '"q;u,o"',
            "\u00e4\u00f6",
            "P [kW]",
            "time",
            "-",
            "0x10",
            "9" * 30,
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.text(max_size=12),
)
separators = st.sampled_from([",", ";", "\t", "|"])


def check(data: bytes, suffix: str = ".csv", **kwargs) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            s = read_meter_file(path, **kwargs)
        except UserError as exc:
            assert "\n" not in str(exc)
            return
    assert isinstance(s, MeterSeries)
    assert s.frame.columns == ["time", *s.measurements]
    assert s.frame.schema["time"] == pl.Datetime("us", "UTC")
    assert all(s.frame.schema[m] == pl.Float64 for m in s.measurements)
    assert s.frame["time"].is_sorted() and s.frame["time"].n_unique() == s.frame.height
    assert s.frame["time"].null_count() == 0 and s.bad_rows >= 0
    try:
        days = to_days(s)
    except UserError:
        return
    assert days.values.shape[1:] == (96, len(s.measurements))


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check(data)


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_named_parquet(data: bytes) -> None:
    check(b"PAR1" + data, suffix=".parquet")


@SETTINGS
@given(separators, st.lists(st.lists(cells, min_size=1, max_size=5), min_size=1, max_size=12))
@example(",", [["time", '"b\nc"'], ["2025-01-01 00:00", "x"]])  # a quoted header with a newline: one line
def test_random_rows(sep: str, rows: list[list[str]]) -> None:
    check("\n".join(sep.join(r) for r in rows).encode())


@SETTINGS
@given(
    separators,
    st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=12),
    st.sampled_from([None, "Europe/Athens", "UTC"]),
)
def test_random_rows_under_a_real_header(sep: str, rows: list[tuple[str, str, str]], tz: str | None) -> None:
    text = sep.join(["time", "P [kW]", "current_l1_a"]) + "\n" + "\n".join(sep.join(r) for r in rows)
    check(text.encode(), tz=tz)
