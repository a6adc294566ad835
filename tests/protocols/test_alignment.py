"""Per-message alignment on multi-message frames, against tshark's per-message JSON (independent parser).

The fast path deduces which message carries each optional field; these tests compare every message of
captures with many multi-message TCP segments to tshark -T json --no-duplicate-keys, where each message is
its own layer object.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import polars as pl
import pytest
from capture.collect import collect
from capture.reference import modbus_reference, mqtt_reference
from conftest import REAL

from spear_tui.capture.source import open_capture_files

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

BURST = Path(__file__).parents[1] / "capture" / "data" / "mqtt_burst.pcapng"
BURST_RULE = "tcp.port==43253,mqtt"


@functools.cache
def burst():
    return collect(open_capture_files([BURST], decode_as=[BURST_RULE]))


def test_burst_capture_really_has_misaligning_frames() -> None:
    ref = pl.DataFrame(mqtt_reference(BURST, (BURST_RULE,)))
    per_frame = ref.group_by("frame").agg(
        n=pl.len(),
        with_msgid=pl.col("msgid").is_not_null().sum(),
        subs=pl.col("msgtype").is_in([8, 10]).sum(),
    )
    multi = per_frame.filter(pl.col("n") > 1)
    # The test below is only meaningful if naive zipping would misalign: frames with several messages of
    # which only some carry a msgid.
    assert multi.height >= 20
    assert multi.filter((pl.col("with_msgid") > 0) & (pl.col("with_msgid") < pl.col("n"))).height >= 5
    assert per_frame["n"].max() >= 50


def test_every_mqtt_message_matches_tsharks_per_message_json() -> None:
    ref = mqtt_reference(BURST, (BURST_RULE,))
    got = burst().tables["mqtt"].sort(["frame"], maintain_order=True)
    assert burst().skipped == {} and burst().unaligned == {}
    assert got.height == len(ref) > 9000
    for row, exp in zip(got.iter_rows(named=True), ref, strict=True):
        assert row["frame"] == exp["frame"]
        assert (row["msgtype"], row["length"], row["msgid"]) == (
            exp["msgtype"],
            exp["length"],
            exp["msgid"],
        ), exp
        if exp["msgtype"] == 1:
            assert row["clientid"] == exp["clientid"]
        if exp["msgtype"] in (3, 8, 10):
            assert row["topic"] == "\n".join(exp["topics"])
        else:
            assert row["topic"] is None


def test_publish_qos_matches_header_flags_and_msgid_presence() -> None:
    pub = burst().tables["mqtt"].filter(pl.col("msgtype") == 3)
    assert set(pub["qos"].unique().to_list()) == {0, 1, 2}
    # QoS 0 publishes have no packet identifier, QoS 1/2 always do (MQTT 3.1.1 section 2.3.1).
    assert pub.filter((pl.col("qos") == 0) & pl.col("msgid").is_not_null()).height == 0
    assert pub.filter((pl.col("qos") > 0) & pl.col("msgid").is_null()).height == 0


def test_multi_topic_subscribe_keeps_all_topics() -> None:
    subs = burst().tables["mqtt"].filter(pl.col("msgtype") == 8)
    assert subs.height == 4
    for topic, qos in zip(subs["topic"].to_list(), subs["qos"].to_list(), strict=True):
        parts = topic.split("\n")
        assert len(parts) == 3 and all("/cmd/" in p for p in parts)
        assert qos == 0  # first requested QoS (loadgen asks 0, 1, 2)


def test_modbus_multi_pdu_frames_match_tsharks_per_message_json() -> None:
    path = REAL / "modbus/iti_ModbusTCP.pcap"
    ref = modbus_reference(path)
    got = collect(open_capture_files([path])).tables["modbus"]
    by_frame = got.partition_by("frame", as_dict=True, maintain_order=True)
    multi = [f for f, rows in ref.items() if len(rows) > 1]
    assert len(multi) > 1000
    checked = 0
    for frame in multi:
        rows = by_frame[(frame,)]
        assert rows.height == len(ref[frame])
        for r, e in zip(rows.iter_rows(named=True), ref[frame], strict=True):
            assert (r["trans_id"], r["func_code"], r["reference"]) == (
                e["trans_id"],
                e["func_code"],
                e["reference"],
            )
            if e["data"] is not None and r["data"] is not None:
                assert r["data"] == e["data"]
            checked += 1
    assert checked > 3000
