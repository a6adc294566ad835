"""Reading odd meter files: every expected value below is worked out by hand from the file text."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from spear_tui.errors import UserError
from spear_tui.meter.files import read_meter_file

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
UTC = dt.UTC


def write(tmp_path: Path, text: str, name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def times(series) -> list[dt.datetime]:
    return series.frame["time"].to_list()


def test_semicolons_decimal_commas_german_dates_units_in_headers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Datum/Zeit;P [kW];Q [kvar];U L1 [V]\n"
        "01.03.2025 00:00;1,5;0,25;230,1\n"
        "01.03.2025 00:15;1.234,5;-0,5;229\n",
    )
    s = read_meter_file(path)
    assert s.measurements == ["active_power", "reactive_power", "voltage_l1"]
    assert s.units == {"active_power": "kW", "reactive_power": "kvar", "voltage_l1": "V"}
    assert times(s) == [dt.datetime(2025, 3, 1, 0, 0, tzinfo=UTC), dt.datetime(2025, 3, 1, 0, 15, tzinfo=UTC)]
    assert s.frame["active_power"].to_list() == [1.5, 1234.5]
    assert s.frame["reactive_power"].to_list() == [0.25, -0.5]
    assert s.frame["voltage_l1"].to_list() == [230.1, 229.0]
    assert s.bad_rows == 0 and s.duplicates == 0
    assert s.frame.schema["time"] == pl.Datetime("us", "UTC")


def test_watts_are_converted_to_kilowatts(tmp_path: Path) -> None:
    path = write(
        tmp_path, "timestamp,power_w,reactive_power (var),current_l2_mA\n2025-01-01T00:00:00Z,1500,250,900\n"
    )
    s = read_meter_file(path)
    assert s.measurements == ["active_power", "reactive_power", "current_l2"]
    assert s.units == {"active_power": "kW", "reactive_power": "kvar", "current_l2": "A"}
    row = s.frame.row(0, named=True)
    assert row["active_power"] == pytest.approx(1.5)
    assert row["reactive_power"] == pytest.approx(0.25)
    assert row["current_l2"] == pytest.approx(0.9)


def test_unsorted_and_duplicated_timestamps(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "time,P\n"
        "2025-01-01 00:30,3\n"
        "2025-01-01 00:00,1\n"
        "2025-01-01 00:15,2\n"
        "2025-01-01 00:00,99\n"  # duplicate of 00:00: the first one seen is kept
        "2025-01-01 00:15,2\n",
    )
    s = read_meter_file(path)
    assert [t.minute for t in times(s)] == [0, 15, 30]
    assert s.frame["active_power"].to_list() == [1.0, 2.0, 3.0]
    assert s.duplicates == 2
    assert s.bad_rows == 0


def test_bad_rows_are_counted_not_fatal(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "time,P,Q\n"
        "2025-01-01 00:00,1,2\n"
        "not a time,5,5\n"
        "2025-01-01 00:15,,\n"  # no values at all
        "2025-01-01 00:30,x,7\n"  # one unreadable value: row kept, that value missing
        "2025-01-01 00:45,4,4\n",
    )
    s = read_meter_file(path)
    assert s.bad_rows == 2
    assert [t.minute for t in times(s)] == [0, 30, 45]
    assert s.frame["active_power"].to_list() == [1.0, None, 4.0]
    assert s.frame["reactive_power"].to_list() == [2.0, 7.0, 4.0]


def test_epoch_seconds_and_milliseconds(tmp_path: Path) -> None:
    # 1735689600 = 2025-01-01T00:00:00Z
    s = read_meter_file(write(tmp_path, "ts,kw\n1735689600,1\n1735690500,2\n"))
    assert times(s) == [dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, 0, 15, tzinfo=UTC)]
    ms = read_meter_file(write(tmp_path, "ts,kw\n1735689600000,1\n1735690500000,2\n", "ms.csv"))
    assert times(ms) == times(s)
    assert s.measurements == ["active_power"] and s.units == {"active_power": "kW"}


def test_offsets_are_absolute_and_naive_times_follow_tz(tmp_path: Path) -> None:
    # Athens is UTC+2 in winter, UTC+3 in summer.
    path = write(tmp_path, "time,P\n2025-01-15T12:00:00+02:00,1\n2025-07-15T12:00:00+03:00,2\n")
    assert times(read_meter_file(path)) == [
        dt.datetime(2025, 1, 15, 10, tzinfo=UTC),
        dt.datetime(2025, 7, 15, 9, tzinfo=UTC),
    ]
    naive = write(tmp_path, "time,P\n2025-01-15 12:00,1\n2025-07-15 12:00,2\n", "naive.csv")
    assert times(read_meter_file(naive)) == [
        dt.datetime(2025, 1, 15, 12, tzinfo=UTC),
        dt.datetime(2025, 7, 15, 12, tzinfo=UTC),
    ]
    assert times(read_meter_file(naive, tz="Europe/Athens")) == [
        dt.datetime(2025, 1, 15, 10, tzinfo=UTC),
        dt.datetime(2025, 7, 15, 9, tzinfo=UTC),
    ]


def test_dst_local_times(tmp_path: Path) -> None:
    # 2025-03-30 03:00 local does not exist in Athens (clocks jump 03:00 -> 04:00): that row is bad.
    # 2025-10-26 03:30 local happens twice: the earlier instant (UTC+3) is taken.
    path = write(
        tmp_path, "time,P\n2025-03-30 02:45,1\n2025-03-30 03:15,2\n2025-03-30 04:00,3\n2025-10-26 03:30,4\n"
    )
    s = read_meter_file(path, tz="Europe/Athens")
    assert s.bad_rows == 1
    assert times(s) == [
        dt.datetime(2025, 3, 30, 0, 45, tzinfo=UTC),
        dt.datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
        dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
    ]


def test_separate_date_and_time_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "Date;Time;Active power [W]\n31/12/2024;23:45;2000\n01/01/2025;00:00;3000\n")
    s = read_meter_file(path)
    assert times(s) == [dt.datetime(2024, 12, 31, 23, 45, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC)]
    assert s.frame["active_power"].to_list() == [2.0, 3.0]


def test_choose_timestamp_and_measurements(tmp_path: Path) -> None:
    path = write(tmp_path, "id,read_at,P,Q\n1,2025-01-01 00:00,1,2\n2,2025-01-01 00:15,3,4\n")
    s = read_meter_file(path, timestamp="read_at", measurements=["reactive_power"])
    assert s.measurements == ["reactive_power"]
    assert s.frame.columns == ["time", "reactive_power"]
    assert s.columns == {"reactive_power": "Q"}


def test_parquet_with_typed_columns(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "timestamp": pl.Series(
                [dt.datetime(2025, 6, 1, 12), dt.datetime(2025, 6, 1, 11)]
            ).dt.replace_time_zone("Europe/Athens"),
            "active_power_kw": [2, 1],
            "voltage_l1_v": [230.5, 231.5],
        }
    )
    path = tmp_path / "m.parquet"
    frame.write_parquet(path)
    s = read_meter_file(path)
    assert times(s) == [dt.datetime(2025, 6, 1, 8, tzinfo=UTC), dt.datetime(2025, 6, 1, 9, tzinfo=UTC)]
    assert s.frame["active_power"].to_list() == [1.0, 2.0]
    assert s.frame.schema["active_power"] == pl.Float64


def test_real_nyc_taxi_series() -> None:
    path = REAL / "nab_nyc_taxi.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    s = read_meter_file(path)
    assert s.measurements == ["value"]
    assert s.frame.height == len(rows) == 10320
    assert s.frame["value"][123] == float(rows[123]["value"])
    assert times(s)[123] == dt.datetime.fromisoformat(rows[123]["timestamp"]).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("", {}, "empty"),
        ("time,P\n", {}, "no rows"),
        ("a,b\nx,y\nz,w\n", {}, "no timestamp column"),
        ("time,P\n2025-01-01 00:00,abc\n2025-01-01 00:15,def\n", {}, "no numeric measurement"),
        ("time,P\n2025-01-01 00:00,1\n", {"measurements": ["voltage_l1"]}, "no measurement 'voltage_l1'"),
        ("time,P\n2025-01-01 00:00,1\n", {"timestamp": "when"}, "no timestamp column 'when'"),
        ("time,P\n2025-01-01 00:00,1\n", {"tz": "Mars/Olympus"}, "unknown time zone"),
        ("onlyonecolumn\n1\n2\n", {}, "need a timestamp column"),
        ("time,P\nnot a time,1\n", {}, "no timestamp column"),
    ],
)
def test_unusable_files_raise_one_line_user_errors(
    tmp_path: Path, text: str, kwargs: dict, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UserError, match=message) as info:
        read_meter_file(path, **kwargs)
    assert "\n" not in str(info.value)


def test_missing_directory_and_corrupt_parquet(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        read_meter_file(tmp_path / "nope.csv")
    with pytest.raises(UserError, match="not a file"):
        read_meter_file(tmp_path)
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1" + b"\x00" * 50)
    with pytest.raises(UserError, match="Parquet"):
        read_meter_file(bad)


def test_metadata_preamble_before_the_header_is_skipped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Meter: 0815-42\nExported: 02.01.2025\n\nZeitstempel;Wirkleistung (kW);Blindleistung (kvar)\n"
        "01.01.2025 00:00;1,25;0,5\n01.01.2025 00:15;1,5;0,75\n01.01.2025 00:30;2;1\n",
    )
    s = read_meter_file(path)
    assert s.measurements == ["active_power", "reactive_power"]
    assert s.frame["active_power"].to_list() == [1.25, 1.5, 2.0]
    assert s.frame["reactive_power"].to_list() == [0.5, 0.75, 1.0]
    assert s.bad_rows == 0


def test_trailing_separators_on_data_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "Zeit;P [kW];Q [kvar]\n01.01.2025 00:00;1,25;0,5;\n01.01.2025 00:15;1,5;0,75;\n")
    s = read_meter_file(path)
    assert s.measurements == ["active_power", "reactive_power"]
    assert s.frame["active_power"].to_list() == [1.25, 1.5]


def test_parquet_with_nested_and_binary_columns(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "t": [dt.date(2025, 1, 1), dt.date(2025, 1, 2)],
            "tags": [[1, 2], [3]],
            "blob": [b"x", b"y"],
            "kw": [1.0, 2.0],
        }
    )
    path = tmp_path / "odd.parquet"
    frame.write_parquet(path)
    s = read_meter_file(path)
    assert s.measurements == ["active_power"]
    assert times(s) == [dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2025, 1, 2, tzinfo=UTC)]
    only_nested = tmp_path / "nested.parquet"
    frame.select("t", "tags").write_parquet(only_nested)
    with pytest.raises(UserError, match="no numeric measurement"):
        read_meter_file(only_nested)
