"""Fuzzing the capture pipeline's field-row decoder: garbled tshark `-T fields` rows (hostile strings,
wrong counts of aggregated occurrences, non-numbers where numbers belong) come back as valid typed
message tables with the contract's exact columns, or as dropped/counted frames; never an exception."""

from __future__ import annotations

import polars as pl
from fuzzing import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spear_tui.capture.decode import Decoded, decode_block, fallback
from spear_tui.capture.stream import parse_lines
from spear_tui.protocols import schema
from spear_tui.protocols.fields import AGGREGATOR, COLUMNS

SETTINGS = settings(
    max_examples=examples(50),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Numbers within 16 bits: what tshark prints for most of these fields. (Wider integers are not fuzzed:
# the decoders cast to Int32 strictly, and derived codes such as BACnet's apdu*256+service overflow for
# values tshark never prints for those fields.)
atoms = st.one_of(
    st.integers(-5, 65535).map(str),
    st.integers(0, 300).map(str),
    st.integers(0, 255).map(lambda i: f"0x{i:02x}"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "127.0.0.1", "::1", "1883", "502", "47808", "1795329253.977912611", "nan", "-"]),
    st.sampled_from(["1e400", "0x", "0xzz", "--1", " 7 "]),
    # anything, incl. escapes, markup, bidi controls (prefixed: a bare 10-digit text would be an integer
    # wider than tshark prints for any of these fields)
    st.text(max_size=12).map(lambda t: "~" + t),
)
# one field of one frame: absent, one value, or several occurrences joined like tshark joins them
cell = st.one_of(
    st.none(),
    atoms,
    st.lists(atoms, min_size=2, max_size=6).map(AGGREGATOR.join),
)
# bias some rows toward each protocol so the decoders' deeper paths run, not just "no key, other frame"
KEYS = {
    "mqtt_msgtype": st.lists(st.integers(0, 16).map(str), min_size=1, max_size=5).map(AGGREGATOR.join),
    "mb_func": st.lists(st.integers(0, 130).map(str), min_size=1, max_size=4).map(AGGREGATOR.join),
    "bv_function": st.sampled_from(["0x0a", "0x0b", "0x04", "10", "x"]),
}


@st.composite
def frame_rows(draw) -> pl.DataFrame:
    n = draw(st.integers(1, 12))
    rows = []
    for _ in range(n):
        row = {c: draw(cell) for c in COLUMNS}
        key = draw(st.sampled_from([None, *KEYS]))
        if key:
            row[key] = draw(KEYS[key])
        if draw(st.booleans()):
            row["frame"] = str(draw(st.integers(1, 10**6)))
            row["time"] = str(draw(st.floats(0, 2e9)))
        rows.append(row)
    return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.Utf8))


def _check_table(proto: str, table: pl.DataFrame) -> None:
    assert dict(table.schema) == dict(schema.schema(proto)), (proto, table.schema)


@SETTINGS
@given(raw=frame_rows(), file_index=st.integers(0, 3))
def test_decode_block_never_raises(raw: pl.DataFrame, file_index: int) -> None:
    d = decode_block(raw, file_index, (502, 5020))
    assert isinstance(d, Decoded)
    assert 0 <= d.other_frames <= raw.height
    for proto, table in d.tables.items():
        _check_table(proto, table)
        assert table.height > 0
    assert all(isinstance(v, int) and v >= 0 for v in d.skipped.values())
    for proto, bad in d.bad.items():  # frames the fast path could not align: the live fallback
        table, skipped, unaligned = fallback(proto, bad, file_index, (502, 5020))
        _check_table(proto, table)
        assert skipped >= 0 and unaligned >= 0


line_bytes = st.lists(
    st.one_of(st.binary(max_size=40), st.sampled_from([b"\t", b"\x1e", b"\\t", b"\xff\xfe", b"0x1e", b"3"])),
    max_size=40,
).map(b"".join)


@SETTINGS
@given(chunks=st.lists(line_bytes, min_size=1, max_size=6))
def test_parse_lines_then_decode_never_raises(chunks: list[bytes]) -> None:
    """Raw bytes as tshark might print them (ragged rows, invalid UTF-8): a frame table or nothing."""
    block = b"\n".join(chunks) + b"\n"
    raw = parse_lines(block)
    assert list(raw.columns) == COLUMNS
    decode_block(raw, 0)
