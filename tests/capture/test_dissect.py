"""Drill-down of one frame through pyshark, including from a worker thread."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from spear_tui.capture.dissect import dissect_frame
from spear_tui.errors import UserError

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
CAP = Path(__file__).parent / "data" / "mqtt_multi_subscribe.pcapng"
RULE = "tcp.port==40357,mqtt"


def test_frame_with_six_mqtt_messages_from_a_worker_thread() -> None:
    result: dict = {}

    def work() -> None:
        result["lines"] = dissect_frame(CAP, 8, [RULE])

    t = threading.Thread(target=work)
    t.start()
    t.join(timeout=60)
    lines = result["lines"]
    assert [text for depth, text in lines if depth == 0].count("MQTT") == 6
    texts = [text for _, text in lines]
    for topic in ("a/b", "c d/#", "x/1", "x/2", "x/3", "c d/e"):
        assert f"Topic: {topic}" in texts
    assert any(text.startswith("Message Identifier: 7") for text in texts)


def test_without_decode_as_the_port_is_not_mqtt() -> None:
    lines = dissect_frame(CAP, 8)
    assert "MQTT" not in [text for depth, text in lines if depth == 0]


def test_missing_frame_is_a_user_error() -> None:
    with pytest.raises(UserError, match="no frame 99999"):
        dissect_frame(CAP, 99999)


def test_a_frame_in_a_later_segment_is_dissected_from_its_segment(monkeypatch) -> None:
    """Big captures are read in segments; drill-down cuts the frame's segment, not the whole file."""
    whole = dissect_frame(CAP, 8, [RULE])
    monkeypatch.setenv("SPEAR_TUI_SEGMENT_FRAMES", "5")  # frame 8 = frame 3 of frames 6-10
    part = dissect_frame(CAP, 8, [RULE])

    def mqtt_lines(lines):  # the MQTT layers; TCP's view differs (the segment lacks the handshake)
        first = next(i for i, (depth, text) in enumerate(lines) if depth == 0 and text == "MQTT")
        return lines[first:]

    # Without the connection's CONNECT in the segment tshark adds an expert note per message, and
    # otherwise dissects the same fields (MQTT 3.1.1; see capture/segments.py for what v5 loses).
    note = ["Unknown version (missing the CONNECT packet?)", "Message: Unknown version (missing the CONNECT "
            "packet?)", "Severity level: Note", "Group: Protocol"]
    assert [line for line in mqtt_lines(part) if line[1] not in note] == mqtt_lines(whole)
    assert [text for depth, text in part if depth == 0].count("MQTT") == 6
    with pytest.raises(UserError, match="no frame 99999"):
        dissect_frame(CAP, 99999)
