"""MQTT novelty rules: a real public capture, and a capture recorded here from mosquitto + paho clients."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from novelty_tables import capture_table, feed_all, learn_cut, tshark_rows

from spear_tui.detect.novelty import NoveltyDetector

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
# two sessions: one known client publishing, a new client id 340 s later
NDPI = REAL / "mqtt" / "ndpi_mqtt.pcap"
FIELDS = ["frame.number", "frame.time_epoch", "ip.src", "mqtt.clientid", "mqtt.topic"]


def _prefix(topic: str) -> str:
    levels = topic.split("/")
    return "/".join(levels[: min(2, max(1, len(levels) - 1))])


def test_public_capture_unknown_client_and_new_prefix_match_tshark() -> None:
    cut = learn_cut(tshark_rows(NDPI, "mqtt", ["frame.time_epoch"]), 0.5)
    connects = [
        (int(f[0]), float(t[0]), s[0], c[0] if c else "")
        for f, t, s, c, _ in tshark_rows(NDPI, "mqtt.msgtype == 1", FIELDS)
    ]
    known = {c for _, t, _, c in connects if t < cut}
    unknown = [c for c in connects if c[1] >= cut and c[3] not in known]
    pubs = [
        (int(f[0]), float(t[0]), s[0], tp[0])
        for f, t, s, _, tp in tshark_rows(NDPI, "mqtt.msgtype == 3 && tcp.dstport == 1883", FIELDS)
    ]
    learned = {_prefix(tp) for _, t, _, tp in pubs if t < cut}
    new_pubs = [p for p in pubs if p[1] >= cut and _prefix(p[3]) not in learned]
    assert unknown and new_pubs

    alerts = feed_all(NoveltyDetector("mqtt", learn_seconds=0.5), capture_table(NDPI, "mqtt"), batch=3)
    clients = [a for a in alerts if "client id never seen before" in a.reason]
    assert len(clients) == len(unknown) == 1
    frame, _, src, cid = unknown[0]
    assert clients[0].reason.startswith(f"MQTT client id '{cid}' connected from {src}")
    assert clients[0].first_frame == frame
    topics = [a for a in alerts if "topic prefix(es) never seen" in a.reason]
    assert len(topics) == 1
    assert f"'{_prefix(new_pubs[0][3])}'" in topics[0].reason
    assert topics[0].first_frame == new_pubs[0][0]
    assert len(alerts) == 2, [a.reason for a in alerts]


# --- recorded here: mosquitto + paho on loopback, each client on its own 127.x address ---------------
def _client(cid: str, addr: str, port: int):
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid)
    c.connect("127.0.0.1", port, keepalive=30, bind_address=addr)
    c.loop_start()
    return c


def _done(*clients) -> None:
    for c in clients:
        c.disconnect()
        c.loop_stop()


@pytest.fixture
def recorded(mosquitto_broker, tmp_path: Path) -> tuple[Path, float, int]:
    """Phase 1 (learning): sensor-1 uses a wildcard and publishes; dash-1 subscribes without one.
    Phase 2: dash-1 subscribes to '#', sensor-1 to '#' (not new for it) and to a new topic prefix,
    an unknown client 'intruder' connects and publishes to a known topic."""
    if shutil.which("dumpcap") is None:
        pytest.skip("dumpcap is not installed")
    port = mosquitto_broker.port
    pcap = tmp_path / "mqtt.pcapng"
    cap = subprocess.Popen(
        ["dumpcap", "-q", "-i", "lo", "-f", f"tcp port {port}", "-w", str(pcap)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not pcap.exists() and time.monotonic() < deadline and cap.poll() is None:
            time.sleep(0.05)
        if cap.poll() is not None or not pcap.exists():
            pytest.skip(f"cannot capture on lo: {cap.stderr.read().decode(errors='replace').strip()}")
        time.sleep(0.3)
        sensor = _client("sensor-1", "127.0.9.1", port)
        dash = _client("dash-1", "127.0.9.2", port)
        sensor.subscribe("home/+/setpoint")
        dash.subscribe("home/kitchen/temp")
        for i in range(5):
            sensor.publish("home/kitchen/temp", f"{20 + i}".encode())
            time.sleep(0.1)
        time.sleep(0.5)
        mark = time.time()
        time.sleep(0.5)
        dash.subscribe("#")
        sensor.subscribe("#")
        sensor.publish("garage/door/state", b"open")
        intruder = _client("intruder", "127.0.9.66", port)
        intruder.publish("home/kitchen/temp", b"99")
        time.sleep(0.5)
        _done(sensor, dash, intruder)
        time.sleep(0.5)
    finally:
        cap.terminate()
        cap.wait(timeout=10)
    return pcap, mark, port


def test_recorded_wildcard_unknown_client_and_new_prefix_raise_exactly_one_alert_each(recorded) -> None:
    pcap, mark, port = recorded
    decode = (f"tcp.port=={port},mqtt",)
    table = capture_table(pcap, "mqtt", decode)
    first = float(table["time"].min())
    # ground truth from tshark for the frames each alert must start at
    subs = tshark_rows(pcap, 'mqtt.topic == "#"', ["frame.number", "ip.src"], decode)
    dash_sub = min(int(f[0]) for f, s in subs if s[0] == "127.0.9.2")
    conn = tshark_rows(pcap, 'mqtt.clientid == "intruder"', ["frame.number"], decode)
    garage = tshark_rows(pcap, 'mqtt.topic == "garage/door/state"', ["frame.number"], decode)

    alerts = feed_all(NoveltyDetector("mqtt", learn_seconds=mark - first), table, batch=7)
    reasons = [a.reason for a in alerts]
    assert len(alerts) == 3, reasons
    wild = [a for a in alerts if "never used wildcard subscriptions before" in a.reason]
    assert len(wild) == 1
    assert wild[0].reason.startswith("MQTT client 'dash-1' (127.0.9.2) subscribed to '#'")
    assert wild[0].severity == "high" and wild[0].first_frame == dash_sub
    unknown = [a for a in alerts if "client id never seen before" in a.reason]
    assert len(unknown) == 1
    assert unknown[0].reason.startswith(
        "MQTT client id 'intruder' connected from 127.0.9.66 to broker 127.0.0.1"
    )
    assert unknown[0].first_frame == int(conn[0][0][0])
    new = [a for a in alerts if "topic prefix(es) never seen" in a.reason]
    assert len(new) == 1 and "'garage/door'" in new[0].reason and "'sensor-1'" in new[0].reason
    assert new[0].first_frame == int(garage[0][0][0])
    for a in alerts:
        assert a.start >= mark and a.detector == "novelty"


@pytest.mark.parametrize(
    "name",
    [
        "suricata_mqtt-events-invalid-qos.pcap",
        "suricata_mqtt-frames-truncated.pcap",
        "suricata_mqtt5-excessiveproplen.pcap",
    ],
)
def test_broken_captures_with_missing_addresses_and_fields_do_not_break_the_rules(name: str) -> None:
    """These captures have no IP layer or truncated frames: nulls everywhere, still one clean pass."""
    table = capture_table(REAL / "mqtt" / name, "mqtt")
    assert table.height
    det = NoveltyDetector("mqtt", learn_messages=1)
    alerts = feed_all(det, table, batch=1)
    connects = tshark_rows(REAL / "mqtt" / name, "mqtt.msgtype == 1", ["frame.number", "mqtt.clientid"])
    # the learning message is the first CONNECT; any later CONNECT with another id is an unknown client
    later = {c[0] if c else "" for f, c in connects[1:]} - {connects[0][1][0] if connects[0][1] else ""}
    assert len([a for a in alerts if "client id never seen before" in a.reason]) == (1 if later else 0)
