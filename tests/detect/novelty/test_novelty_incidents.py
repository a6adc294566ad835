"""Labelled incident samples: each write-from-unexpected-host, unknown-client and wildcard incident
raises exactly the expected alert, with its reason, inside the label window; nothing outside them.

The detectors start from a baseline learned on the whole normal day (saved and reloaded, as shipped
models are). Frames and counts are checked against tshark's own reading of the capture.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from novelty_tables import capture_table, feed_all, tshark_rows

from spear_tui.detect.novelty import NoveltyDetector

SAMPLES = Path(__file__).resolve().parents[3] / "sample_captures"


def _normal_capture() -> Path:
    """The normal day named by its labels file (the recorder may store it gzip-compressed)."""
    lab = SAMPLES / "normal.labels.json"
    return SAMPLES / json.loads(lab.read_text())["capture"] if lab.exists() else SAMPLES / "normal.pcapng"


NORMAL = _normal_capture()
SLACK = 0.5  # seconds: the label marks are taken by the recorder around its first/last action


def _samples(name: str) -> tuple[Path, dict]:
    lab = SAMPLES / f"{name}.labels.json"
    if not NORMAL.exists() or not lab.exists():
        pytest.skip(f"sample_captures/{name} not recorded yet")
    meta = json.loads(lab.read_text())
    return SAMPLES / meta["capture"], meta


@cache
def _baseline(protocol: str, tmp: Path) -> Path:
    det = NoveltyDetector(protocol, learn_messages=10**12)
    det.feed(capture_table(NORMAL, protocol))
    path = tmp / f"{protocol}_novelty.ckpt"
    det.save_baseline(path)
    return path


@pytest.fixture(scope="module")
def baseline_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("baselines")


@cache
def _run(name: str, protocol: str, base: Path):
    cap, meta = _samples(name)
    det = NoveltyDetector(protocol, baseline=_baseline(protocol, base))
    return feed_all(det, capture_table(cap, protocol), batch=500), meta, cap


def _incident(meta: dict, kind: str) -> dict:
    (inc,) = [i for i in meta["incidents"] if i["kind"] == kind]
    return inc


def _inside(alert, inc) -> bool:
    return inc["start"] - SLACK <= alert.start and alert.end <= inc["end"] + SLACK


def _overlaps(alert, inc) -> bool:
    return alert.start <= inc["end"] + SLACK and alert.end >= inc["start"] - SLACK


def _no_hidden_characters(alerts) -> None:
    for a in alerts:
        assert not [c for c in a.reason if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")], a.reason


@pytest.mark.parametrize(
    ("name", "protocol"),
    [("modbus_incidents", "modbus"), ("mqtt_incidents", "mqtt"), ("bacnet_incidents", "bacnet")],
)
def test_every_alert_belongs_to_a_labelled_incident(name: str, protocol: str, baseline_dir: Path) -> None:
    alerts, meta, _ = _run(name, protocol, baseline_dir)
    mine = [i for i in meta["incidents"] if i["protocol"] == protocol]
    assert alerts
    for a in alerts:
        assert any(_overlaps(a, i) for i in mine), a.reason
    _no_hidden_characters(alerts)


def test_unexpected_write_raises_one_new_master_alert_at_its_first_write(baseline_dir: Path) -> None:
    alerts, meta, cap = _run("modbus_incidents", "modbus", baseline_dir)
    inc = _incident(meta, "unexpected_write")
    (host,) = inc["actors"]
    writes = tshark_rows(
        cap,
        f"ip.src == {host} && modbus.func_code in {{5,6,15,16,22,23}} && tcp.dstport == 502",
        ["frame.number", "ip.dst", "mbtcp.unit_id", "modbus.func_code"],
    )
    assert writes
    hits = [a for a in alerts if _overlaps(a, inc) and a.reason.startswith(f"{host} ")]
    assert len(hits) == 1, [a.reason for a in hits]
    a = hits[0]
    frame, dst, unit, fc = (v[0] for v in writes[0])
    assert a.reason.startswith(f"{host} sent Modbus ")
    assert f"({fc}) to {dst} unit {unit} — never seen acting as a master" in a.reason
    assert a.severity == "high" and _inside(a, inc)
    assert a.first_frame == int(frame)
    assert f"{len(writes)} request(s)" in a.reason


def test_unit_id_scan_is_reported_as_a_scan_by_a_new_master(baseline_dir: Path) -> None:
    alerts, meta, cap = _run("modbus_incidents", "modbus", baseline_dir)
    inc = _incident(meta, "unit_id_scan")
    (host,) = inc["actors"]
    hits = [a for a in alerts if _overlaps(a, inc) and a.reason.startswith(f"{host} sent Modbus")]
    assert len(hits) == 1
    assert "never seen acting as a master" in hits[0].reason and "unit-id scan" in hits[0].reason
    assert hits[0].severity == "high" and _inside(hits[0], inc)


def test_exception_storm_raises_an_exception_burst(baseline_dir: Path) -> None:
    alerts, meta, _ = _run("modbus_incidents", "modbus", baseline_dir)
    inc = _incident(meta, "exception_storm")
    assert [a for a in alerts if _overlaps(a, inc) and "Modbus exception responses" in a.reason]


def test_connect_flood_raises_one_unknown_client_alert_counting_every_new_id(baseline_dir: Path) -> None:
    alerts, meta, cap = _run("mqtt_incidents", "mqtt", baseline_dir)
    inc = _incident(meta, "connect_flood")
    hosts = [x for x in inc["actors"] if x.startswith("127.")]
    src = " || ".join(f"ip.src == {h}" for h in hosts)
    rows = tshark_rows(cap, f"mqtt.msgtype == 1 && ({src})", ["frame.number", "mqtt.clientid"])
    ids = {c[0] for _, c in rows if c}
    assert ids <= set(inc["actors"])
    hits = [a for a in alerts if _overlaps(a, inc) and "connected from" in a.reason]
    assert len(hits) == 1, [a.reason for a in hits]
    assert hits[0].reason.startswith(f"{len(ids)} MQTT client ids never seen before connected from ")
    assert all(h in hits[0].reason for h in hosts) and _inside(hits[0], inc)
    assert [a for a in alerts if _overlaps(a, inc) and "CONNECT messages" in a.reason]


def test_wildcard_subscription_raises_one_wildcard_and_one_unknown_client_alert(baseline_dir: Path) -> None:
    alerts, meta, cap = _run("mqtt_incidents", "mqtt", baseline_dir)
    inc = _incident(meta, "wildcard_subscribe")
    host, cid = inc["actors"]
    wild = [a for a in alerts if _overlaps(a, inc) and "never used wildcard subscriptions before" in a.reason]
    assert len(wild) == 1, [a.reason for a in alerts if _overlaps(a, inc)]
    assert wild[0].reason.startswith(f"MQTT client '{cid}' ({host}) subscribed to '#'")
    assert wild[0].severity == "high" and _inside(wild[0], inc)
    sub = tshark_rows(cap, f'ip.src == {host} && mqtt.topic == "#"', ["frame.number"])
    assert wild[0].first_frame == int(sub[0][0][0])
    unknown = [a for a in alerts if _overlaps(a, inc) and "client id never seen before" in a.reason]
    assert len(unknown) == 1
    assert unknown[0].reason.startswith(f"MQTT client id '{cid}' connected from {host}")


def test_whois_storm_raises_a_storm_alert_naming_the_scanner(baseline_dir: Path) -> None:
    alerts, meta, _ = _run("bacnet_incidents", "bacnet", baseline_dir)
    inc = _incident(meta, "whois_storm")
    (host,) = inc["actors"]
    hits = [a for a in alerts if _overlaps(a, inc) and "Who-Is/I-Am" in a.reason]
    assert hits and host in hits[0].reason


def test_dcc_and_reinitialize_from_an_unknown_host_raise_one_high_alert(baseline_dir: Path) -> None:
    alerts, meta, cap = _run("bacnet_incidents", "bacnet", baseline_dir)
    inc = _incident(meta, "dcc_reinit")
    (host,) = inc["actors"]
    reqs = tshark_rows(
        cap,
        f"ip.src == {host} && bacapp.type == 0 && bacapp.confirmed_service in {{17,20}}",
        ["frame.number", "ip.dst", "bacapp.confirmed_service"],
    )
    hits = [a for a in alerts if _overlaps(a, inc) and a.reason.startswith(f"{host} sent BACnet")]
    assert len(hits) == 1
    assert "DeviceCommunicationControl (17)" in hits[0].reason and "ReinitializeDevice (20)" in hits[0].reason
    assert hits[0].severity == "high" and _inside(hits[0], inc)
    assert hits[0].first_frame == int(reqs[0][0][0])
    assert f"{len(reqs)} request(s)" in hits[0].reason


def test_hostile_client_ids_and_filters_are_quoted_inert(baseline_dir: Path) -> None:
    alerts, meta, _ = _run("hostile_strings", "mqtt", baseline_dir)
    assert alerts
    _no_hidden_characters(alerts)
    text = " ".join(a.reason for a in alerts)
    assert "[bold red]x[/]" in text  # markup kept literal: the console renders reasons as plain text
    assert "\\x1b" in text  # escapes shown, not dropped
