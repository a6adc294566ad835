"""The benches' MQTT load from real clients: paced clients leave about one message per TCP segment."""

from __future__ import annotations

import shutil

import pytest

from capture.collect import collect
from spear_tui.capture.loadgen import mqtt_paced
from spear_tui.capture.record import Recorder
from spear_tui.capture.source import open_capture_files
from spear_tui.errors import UserError

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def test_paced_clients_wait_for_each_acknowledgement(mosquitto_broker, tmp_path) -> None:
    """Each QoS 1 publish waits for its PUBACK: every message has a frame of its own (where mqtt_burst's
    clients coalesce many per segment), the kind of capture bench/scan_e2e.py calls "paced"."""
    port = mosquitto_broker.port
    path = tmp_path / "paced.pcapng"
    try:
        with Recorder("lo", f"tcp port {port}", path):
            acked = mqtt_paced("127.0.0.1", port, clients=2, messages=150)
    except UserError as exc:
        pytest.skip(f"cannot record on lo here: {exc}")
    assert acked == 300
    table = collect(open_capture_files([path], decode_as=[f"tcp.port=={port},mqtt"])).tables["mqtt"]
    assert (table["msgtype"] == 3).sum() == 300 and (table["msgtype"] == 4).sum() == 300  # PUBLISH, PUBACK
    assert table["frame"].n_unique() >= 0.95 * table.height
