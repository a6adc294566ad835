"""Live capture on loopback: real mosquitto, real paho-mqtt client, tshark on `lo`."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from capture.collect import Collected
from spear_tui.capture.loadgen import mqtt_burst
from spear_tui.capture.source import open_interface
from spear_tui.errors import UserError

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def test_live_loopback_sees_every_published_message(mosquitto_broker) -> None:
    port = mosquitto_broker.port
    try:
        source = open_interface("lo", bpf=f"tcp port {port}", decode_as=[f"tcp.port=={port},mqtt"],
                                batch_messages=500)
    except UserError as exc:
        pytest.skip(f"live capture not possible here: {exc}")
    got = Collected()
    flushes: list[float] = []
    errors: list[Exception] = []

    def consume() -> None:
        try:
            for batch in source.batches():
                flushes.append(time.monotonic())
                got.other_frames += batch.other_frames
                for k, v in batch.skipped.items():
                    got.skipped[k] = got.skipped.get(k, 0) + v
                for k, v in batch.unaligned.items():
                    got.unaligned[k] = got.unaligned.get(k, 0) + v
                for name, table in batch.tables.items():
                    got.tables[name] = table if name not in got.tables else got.tables[name].vstack(table)
        except UserError as exc:
            errors.append(exc)

    worker = threading.Thread(target=consume)
    worker.start()
    try:
        if not source.wait_ready(20):
            pytest.skip("tshark did not start capturing on lo within 20 s")
        if errors:
            pytest.skip(f"live capture not permitted here: {errors[0]}")
        published = mqtt_burst("127.0.0.1", port, clients=2, messages=300)
        assert published == 600
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            table = got.tables.get("mqtt")
            if table is not None and (table["msgtype"] == 3).sum() >= 600:
                break
            time.sleep(0.1)
        idle_before = len(flushes)
        time.sleep(0.5)
        idle_flushes = len(flushes) - idle_before
    finally:
        source.close()
        worker.join(timeout=10)
    assert not worker.is_alive(), "close() from another thread must end the live iterator"
    if errors:
        pytest.skip(f"live capture not permitted here: {errors[0]}")
    table = got.tables["mqtt"]
    diag = f"skipped {got.skipped}, unaligned {got.unaligned}, warnings {source.warnings}"
    assert (table["msgtype"] == 3).sum() == 600, diag
    assert (table["msgtype"] == 1).sum() == 2
    clients = set(table.filter(table["msgtype"] == 1)["clientid"].to_list())
    assert clients == {"spear-client-0", "spear-client-1"}
    # Live batches are flushed about every 0.1 s even without traffic (so a console can tick).
    assert idle_flushes >= 2


def test_unknown_interface_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unknown interface 'nope0'"):
        open_interface("nope0")


def test_bad_capture_filter_is_a_user_error() -> None:
    with pytest.raises(UserError, match="bad capture filter 'tcp portx 1883'"):
        open_interface("lo", bpf="tcp portx 1883")
