"""tshark's numeric text -> integers: decimal, 0x-hex, and anything else null (never an error)."""

from __future__ import annotations

import polars as pl

from spear_tui.protocols.fields import to_int


def test_to_int_reads_decimal_and_hex_and_nulls_the_rest():
    values = ["12", "0x1f", "0X1f", "-3", "", None, "zz", "0x", "0xzz", " 4", "5 ", "1e3"]
    got = pl.DataFrame({"v": values}).select(to_int(pl.col("v")))["v"].to_list()
    assert got == [12, 31, None, -3, None, None, None, None, None, None, None, None]
