"""Message counts of the pipeline equal tshark's own counts on real public captures."""

from __future__ import annotations

import functools
import shutil

import pytest
from conftest import REAL

from capture.collect import collect
from capture.reference import io_stat_counts, total_frames
from spear_tui.capture.source import open_capture_files
from spear_tui.protocols.schema import schema

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

KEYS = {
    "mqtt": "COUNT(mqtt.msgtype)mqtt.msgtype",
    "modbus": "COUNT(mbtcp.trans_id)mbtcp.trans_id",
    "bacnet": "bvlc",
}  # BACnet/IP: one BVLC message per datagram, so frames with bvlc
FILES = sorted(p.relative_to(REAL).as_posix() for p in REAL.glob("*/*.pcap"))
FRAMES_WITH_MESSAGES = "mqtt.msgtype or mbtcp.trans_id or bvlc.function"


@functools.cache
def pipeline(name: str, decode_as: tuple[str, ...] = ()):
    return collect(open_capture_files([REAL / name], decode_as=decode_as))


@functools.cache
def tshark_counts(name: str) -> dict[str, int]:
    exprs = [*KEYS.values(), FRAMES_WITH_MESSAGES, "_ws.malformed"]
    values = io_stat_counts(REAL / name, exprs)
    return dict(zip([*KEYS, "frames_with_messages", "malformed"], values, strict=True))


@pytest.mark.parametrize("name", FILES)
def test_messages_plus_skipped_equal_tsharks_count(name: str) -> None:
    got = pipeline(name)
    expected = tshark_counts(name)
    assert sum(expected[p] for p in KEYS) > 0 or name.endswith("port17501.pcap")
    for proto in KEYS:
        assert got.messages(proto) + got.skipped.get(proto, 0) == expected[proto], proto
    # Frames with no message of ours are counted, not dropped: they add up to the file's frame count.
    assert got.other_frames == total_frames(REAL / name) - expected["frames_with_messages"]
    for proto, table in got.tables.items():
        assert table.schema == schema(proto)
        assert table["time"].is_sorted()


def test_modbus_capture_counts_documented_pdu_total() -> None:
    # SOURCES.md states 15,976 Modbus PDUs for this capture (an independent figure).
    got = pipeline("modbus/iti_ModbusTCP.pcap")
    assert got.messages("modbus") + got.skipped.get("modbus", 0) == 15976
    assert got.unaligned == {}  # files take the exact path where deduction fails


def test_non_standard_port_needs_decode_as() -> None:
    name = "mqtt/ndpi_coap_mqtt_port17501.pcap"
    path = REAL / name
    assert pipeline(name).messages("mqtt") == 0
    rule = "tcp.port==17501,mqtt"
    decoded = pipeline(name, (rule,))
    frames, count = io_stat_counts(path, ["mqtt", "COUNT(mqtt.msgtype)mqtt.msgtype"], decode_as=(rule,))
    assert frames == 153  # the figure given with the capture (SOURCES.md)
    table = decoded.tables["mqtt"]
    assert table["frame"].n_unique() == frames
    assert table.height + decoded.skipped.get("mqtt", 0) == count
    assert set(table["dport"].to_list()) | set(table["sport"].to_list()) >= {17501}


@pytest.mark.parametrize("name", [f for f in FILES if "suricata" in f])
def test_malformed_mqtt_is_counted_and_skipped(name: str) -> None:
    got = pipeline(name)
    malformed = tshark_counts(name)["malformed"]
    assert got.skipped.get("mqtt", 0) >= malformed  # every malformed message skipped, never fatal
    assert got.messages("mqtt") > 0


def test_excessive_property_length_connect_is_skipped_not_fatal() -> None:
    got = pipeline("mqtt/suricata_mqtt5-excessiveproplen.pcap")
    assert got.skipped == {"mqtt": 1}
    assert 1 not in got.tables["mqtt"]["msgtype"].to_list()  # the broken CONNECT is not a row
