"""Bad input is one clear UserError line, never a traceback; damaged captures are read as far as possible."""

from __future__ import annotations

import os
import random
import shutil

import pytest
from conftest import REAL

from capture.collect import collect
from spear_tui.capture.source import open_capture_files
from spear_tui.errors import UserError

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def test_missing_file(tmp_path) -> None:
    with pytest.raises(UserError, match="no such file"):
        open_capture_files([tmp_path / "nope.pcap"])


def test_directory(tmp_path) -> None:
    with pytest.raises(UserError, match="is a directory"):
        open_capture_files([tmp_path])


def test_empty_file(tmp_path) -> None:
    (tmp_path / "empty.pcap").write_bytes(b"")
    with pytest.raises(UserError, match="empty file"):
        open_capture_files([tmp_path / "empty.pcap"])


@pytest.mark.parametrize("content", [b"hello, this is a text file\n" * 20, random.Random(7).randbytes(4096)],
                         ids=["text", "random-bytes"])
def test_not_a_capture(tmp_path, content: bytes) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(content)
    with pytest.raises(UserError, match="not a capture file"):
        open_capture_files([path])


def test_permission_denied(tmp_path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not apply")
    path = tmp_path / "secret.pcap"
    shutil.copy(REAL / "mqtt/ndpi_mqtt.pcap", path)
    path.chmod(0)
    with pytest.raises(UserError, match="permission denied"):
        open_capture_files([path])


def test_truncated_capture_is_read_as_far_as_possible(tmp_path) -> None:
    whole = REAL / "modbus/iti_modbus_test.pcap"
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole.read_bytes()[:100_000])  # ends in the middle of a packet record
    source = open_capture_files([cut])
    got = collect(source)
    full = collect(open_capture_files([whole]))
    assert 0 < got.messages("modbus") < full.messages("modbus")
    assert any("cut short" in w for w in source.warnings)


def test_bad_decode_as_rule(tmp_path) -> None:
    with pytest.raises(UserError, match="bad --decode-as"):
        open_capture_files([REAL / "mqtt/ndpi_mqtt.pcap"], decode_as=["17501=mqtt"])
