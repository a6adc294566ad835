"""Frames the fast path cannot align (several SUBSCRIBE/UNSUBSCRIBE in one segment) take the exact path."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from capture.collect import collect
from capture.reference import mqtt_reference
from spear_tui.capture.stream import parse_lines
from spear_tui.protocols import mqtt
from spear_tui.protocols.fields import tshark_field_args

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

CAP = Path(__file__).parent / "data" / "mqtt_multi_subscribe.pcapng"
RULE = "tcp.port==40357,mqtt"


def _raw():
    out = subprocess.run(["tshark", "-r", str(CAP), "-n", "-d", RULE, *tshark_field_args()],
                         capture_output=True, check=True).stdout
    return parse_lines(out)


def test_fast_path_hands_over_the_two_subscribe_frame_only() -> None:
    table, bad = mqtt.decode(_raw(), 0)
    assert bad["frame"].to_list() == ["8"]
    # Frame 23 has one SUBSCRIBE among PUBLISHes: resolved by deduction.
    f23 = table.filter(table["frame"] == 23)
    assert f23["msgtype"].to_list() == [3, 8, 3, 3]
    assert f23["topic"].to_list() == ["t/1", "only/one", "t/2", "t/3"]
    assert f23["msgid"].to_list() == [None, 4, 9, None]


def test_exact_path_matches_tsharks_per_message_json() -> None:
    from spear_tui.capture.source import open_capture_files

    got = collect(open_capture_files([CAP], decode_as=[RULE]))
    assert got.unaligned == {} and got.skipped == {}
    table = got.tables["mqtt"]
    ref = mqtt_reference(CAP, (RULE,))
    assert table.height == len(ref)
    for row, exp in zip(table.iter_rows(named=True), ref, strict=True):
        assert (row["frame"], row["msgtype"], row["length"], row["msgid"]) == (
            exp["frame"], exp["msgtype"], exp["length"], exp["msgid"])
        if exp["topics"]:
            assert row["topic"] == "\n".join(exp["topics"])
    f8 = table.filter(table["frame"] == 8)
    assert f8["topic"].to_list() == ["a/b\nc d/#", "a/b", "x/1\nx/2\nx/3", "c d/e", "a/b\nx/2", None]
    assert f8["qos"].to_list() == [0, 0, 2, 1, None, None]
    assert table.filter(table["msgtype"] == 1)["clientid"].to_list() == ["raw,client id [b]x"]


def test_fallback_keeps_header_fields_and_counts_unaligned() -> None:
    raw = _raw()
    _, bad = mqtt.decode(raw, 0)
    table, skipped, unaligned = mqtt.fallback(bad, 0)
    assert (skipped, unaligned) == (0, 6)
    assert table["msgtype"].to_list() == [8, 3, 8, 3, 10, 12]
    assert table["topic"].null_count() == 6 and table["msgid"].null_count() == 6
