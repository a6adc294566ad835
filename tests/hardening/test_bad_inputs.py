"""Bad input through the real CLI: one `spear-tui: error:` line and exit 2, or packets counted and skipped.

Every file here is either a real capture (recorded sample, public capture from tests/data/real) or the
simplest possible non-capture (empty, random bytes, text, a directory, a missing path).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from .cli import REAL, SAMPLES, assert_no_traceback, assert_one_line_error, need_tshark, run, tshark_count

HOSTILE = SAMPLES / "hostile_strings.pcapng"


@pytest.fixture(autouse=True)
def _tshark() -> None:
    need_tshark()


def _scan_json(path: Path, *extra: str) -> dict:
    proc = run(["scan", "--no-lstm", "--json", *extra, str(path)])
    assert_no_traceback(proc)
    return json.loads(proc.stdout)


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.pcap"
    f.write_bytes(b"")
    assert_one_line_error(run(["scan", "--no-lstm", str(f)]), "empty.pcap", "empty")


def random_bytes(n: int) -> bytes:
    """Fixed "random" bytes. Truly random ones are not a fixed test: about 1 in 130 random 4 KiB files
    is a valid capture to tshark (ASN.1 BER, Ixia .vwr; measured 3 of 400), which `scan` then reads
    (0-1 packets, a warning) and `replay` opens in the console - the one "hang" seen in CI."""
    import numpy as np

    return np.random.default_rng(0).bytes(n)


def test_random_bytes(tmp_path: Path) -> None:
    f = tmp_path / "random.pcap"
    f.write_bytes(random_bytes(8192))
    assert_one_line_error(run(["scan", "--no-lstm", str(f)]), "random.pcap", "not a capture")


def test_text_file(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("time,value\n1,2\nthis is not a capture\n")
    assert_one_line_error(run(["scan", "--no-lstm", str(f)]), "notes.txt", "not a capture")


def test_directory(tmp_path: Path) -> None:
    assert_one_line_error(run(["scan", "--no-lstm", str(tmp_path)]), "directory")


def test_missing_path(tmp_path: Path) -> None:
    assert_one_line_error(run(["scan", "--no-lstm", str(tmp_path / "nope.pcap")]), "nope.pcap", "no such")


def test_one_bad_file_among_good_ones(tmp_path: Path) -> None:
    f = tmp_path / "empty.pcap"
    f.write_bytes(b"")
    assert_one_line_error(run(["scan", "--no-lstm", str(REAL / "mqtt" / "ndpi_mqtt.pcap"), str(f)]), "empty")


def test_truncated_mid_packet(tmp_path: Path) -> None:
    """A real capture cut inside a packet record: what was read is counted, a warning names the cut."""
    whole = REAL / "modbus" / "iti_bro_modbusSmall.pcap"
    data = whole.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) // 2 + 7])  # +7: certainly not on a record boundary of this file
    expected = tshark_count(cut, "mbtcp")  # tshark's own reading of the same cut file
    assert expected > 0
    proc = run(["scan", "--no-lstm", "--json", str(cut)])
    assert_no_traceback(proc)
    doc = json.loads(proc.stdout)
    assert doc["warnings"] and any("cut short" in w or "middle of a packet" in w for w in doc["warnings"])
    stats = doc["protocols"]["modbus"]
    assert expected < tshark_count(whole, "mbtcp")
    assert stats["messages"] + stats["skipped"] >= expected > 0  # frames can hold several PDUs
    # text mode says it too, on stdout, and does not fail
    text = run(["scan", "--no-lstm", str(cut)])
    assert_no_traceback(text)
    assert "cut short" in text.stdout + text.stderr


def _with_unknown_blocks(src: Path, dst: Path) -> None:
    """Copy a real pcapng with a block of unassigned type 0x00000BAD (valid lengths) inserted right after
    the section header block and another appended at the end."""
    data = src.read_bytes()
    body = b"spear-tui unknown block test"  # 28 bytes: already 32-bit aligned
    total = 12 + len(body)
    block = struct.pack("<II", 0x00000BAD, total) + body + struct.pack("<I", total)
    assert data[:4] == b"\x0a\x0d\x0d\x0a" and data[8:12] == b"\x4d\x3c\x2b\x1a"  # little-endian SHB
    shb = struct.unpack("<I", data[4:8])[0]
    dst.write_bytes(data[:shb] + block + data[shb:] + block)


def test_pcapng_with_unknown_blocks(tmp_path: Path) -> None:
    """tshark skips block types it does not know; so must we: same messages as the untouched file."""
    f = tmp_path / "unknown_block.pcapng"
    _with_unknown_blocks(HOSTILE, f)
    assert tshark_count(f, "mqtt") == tshark_count(HOSTILE, "mqtt") > 0
    got, ref = _scan_json(f), _scan_json(HOSTILE)
    for proto in ("mqtt", "modbus", "bacnet"):
        assert got["protocols"][proto]["messages"] == ref["protocols"][proto]["messages"]
        assert got["protocols"][proto]["types"] == ref["protocols"][proto]["types"]
    assert got["protocols"]["mqtt"]["messages"] > 0


def test_unrelated_traffic() -> None:
    """A real capture with MQTT on a non-standard port and CoAP: without decode-as nothing is ours."""
    path = REAL / "mqtt" / "ndpi_coap_mqtt_port17501.pcap"
    assert tshark_count(path, "mqtt || mbtcp || bacapp || bacnet") == 0
    doc = _scan_json(path)
    assert all(p["messages"] == 0 for p in doc["protocols"].values())
    assert doc["other_frames"] == tshark_count(path, "frame")
    assert doc["alerts"] == [] and doc["chunks"] == []


@pytest.mark.parametrize(
    "rel, proto, tshark_proto",
    [
        ("mqtt/suricata_mqtt5-excessiveproplen.pcap", "mqtt", "mqtt"),
        ("mqtt/suricata_mqtt-frames-truncated.pcap", "mqtt", "mqtt"),
        ("mqtt/suricata_mqtt-events-invalid-qos.pcap", "mqtt", "mqtt"),
        ("modbus/iti_bro_fuzz-72.pcap", "modbus", "mbtcp"),
        ("bacnet/bacnet_error_reject_abort.pcap", "bacnet", "bacnet"),
    ],
)
def test_malformed_protocol_messages(rel: str, proto: str, tshark_proto: str) -> None:
    """Malformed messages (per tshark's own `_ws.malformed`) are counted as skipped; the rest decoded."""
    path = REAL / rel
    doc = _scan_json(path)
    stats = doc["protocols"][proto]
    malformed = tshark_count(path, f"{tshark_proto} && _ws.malformed")
    assert stats["skipped"] == malformed
    assert stats["messages"] > 0
    assert stats["messages"] + stats["skipped"] >= tshark_count(path, tshark_proto)


def test_malformed_with_all_detectors() -> None:
    """The fuzzed Modbus capture through every detector (LSTM included): no crash, normal exit code."""
    proc = run(["scan", "--json", str(REAL / "modbus" / "iti_bro_fuzz-72.pcap")], timeout=240)
    assert_no_traceback(proc)
    doc = json.loads(proc.stdout)
    assert "lstm" in " ".join(doc["detectors"]["modbus"]).lower() or len(doc["detectors"]["modbus"]) == 2


def _bad_file(tmp_path: Path, bad: str, suffix: str) -> Path:
    """One bad input: "empty", "random" (fixed bytes), "missing", or a real "capture" (not a meter file)."""
    if bad == "capture":
        return REAL / "mqtt" / "ndpi_mqtt.pcap"
    path = tmp_path / f"{bad}{suffix}"
    if bad == "empty":
        path.write_bytes(b"")
    elif bad == "random":
        path.write_bytes(random_bytes(4096))
    return path


@pytest.mark.parametrize("bad", ["random", "missing"])  # scan covers the rest of the same checks
def test_replay_bad_input(tmp_path: Path, bad: str) -> None:
    """`replay` checks its files before opening the console: one line, exit 2, no terminal needed."""
    assert_one_line_error(run(["replay", str(_bad_file(tmp_path, bad, ".pcap"))], timeout=60))


@pytest.mark.parametrize("bad", ["empty", "random", "capture"])
def test_meter_scan_bad_input(tmp_path: Path, bad: str) -> None:
    assert_one_line_error(run(["meter", "scan", str(_bad_file(tmp_path, bad, ".csv"))], timeout=60))


def test_bad_decode_as() -> None:
    assert_one_line_error(
        run(["scan", "--decode-as", "tcp.port==99999,mqtt", str(REAL / "mqtt" / "ndpi_mqtt.pcap")]),
        "decode-as",
    )


def test_capture_without_packets_is_read_and_says_so(tmp_path: Path) -> None:
    """A valid pcapng holding no packets (editcap keeping none of the sample's frames)."""
    import subprocess

    f = tmp_path / "none.pcapng"
    sample = SAMPLES / "hostile_strings.pcapng"
    subprocess.run(["editcap", "-r", str(sample), str(f), "999999999"], check=True)
    proc = run(["scan", "--no-lstm", str(f)])
    assert_no_traceback(proc)
    assert proc.returncode == 0
    assert "warning: " in proc.stdout and "none.pcapng: contains no packets" in proc.stdout


@pytest.mark.parametrize("eol", ["\n", "\r", "\u2028"])
def test_meter_scan_header_with_a_line_break_is_one_error_line(tmp_path: Path, eol: str) -> None:
    """A quoted header cell holding a line break (found by hypothesis) is quoted back escaped, not split."""
    path = tmp_path / "header.csv"
    path.write_text(f'time,"b{eol}c"\n2025-01-01 00:00,x\n', newline="")
    line = assert_one_line_error(run(["meter", "scan", str(path)], timeout=60), "numeric")
    assert "b\\x0" in line or "b\\u2028c" in line, line
