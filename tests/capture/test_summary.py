"""ProtocolSummary: incremental over batches equals one pass; counts agree with the table; bounded."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import polars as pl
import pytest

from spear_tui.capture import summary as summary_mod
from spear_tui.capture.source import open_capture_files
from spear_tui.capture.summary import CaptureSummary, ProtocolSummary

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
BURST = Path(__file__).parent / "data" / "mqtt_burst.pcapng"


@functools.cache
def batches():
    return list(open_capture_files([BURST], decode_as=["tcp.port==43253,mqtt"], batch_messages=500).batches())


def test_incremental_equals_single_pass_and_matches_the_table() -> None:
    assert len(batches()) > 3
    table = pl.concat([b.tables["mqtt"] for b in batches() if "mqtt" in b.tables])
    inc = CaptureSummary()
    for b in batches():
        inc.update(b)
    one = ProtocolSummary("mqtt")
    one.update(table)
    doc = inc.to_json()["protocols"]["mqtt"]
    assert doc == one.to_json()
    assert doc["messages"] == table.height
    expected = table.group_by("msgtype").len()
    assert doc["type_codes"] == {str(k): v for k, v in zip(expected["msgtype"], expected["len"], strict=True)}
    assert {c["id"] for c in doc["clients"]} == {f"spear-client-{i}" for i in range(4)}
    assert doc["distinct_topics"] == table["topic"].drop_nulls().n_unique()
    assert inc.to_json()["other_frames"] == sum(b.other_frames for b in batches())


def test_distinct_keys_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(summary_mod, "MAX_KEYS", 5)
    s = ProtocolSummary("mqtt")
    for b in batches():
        if "mqtt" in b.tables:
            s.update(b.tables["mqtt"])
    assert len(s.topics) <= 5 and s.to_json()["distinct_topics"] <= 5
    assert s.messages == sum(b.tables["mqtt"].height for b in batches() if "mqtt" in b.tables)


# --- activity tables (client_activity / unit_functions / services), checked against tshark's own counts ---
SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"


def _tshark(path: Path, display: str, *fields: str) -> list[list[str]]:
    import subprocess

    args = ["tshark", "-r", str(path), "-Y", display, "-T", "fields"]
    args += ["-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


@functools.cache
def _scan(name: str) -> dict:
    s = CaptureSummary()
    for b in open_capture_files([SAMPLES / name]).batches():
        s.update(b)
    return s.to_json()["protocols"]


@pytest.mark.skipif(not (SAMPLES / "mqtt_incidents.pcapng").exists(), reason="sample captures missing")
def test_mqtt_client_activity_matches_tshark_per_connection_counts() -> None:
    from collections import defaultdict

    doc = _scan("mqtt_incidents.pcapng")["mqtt"]
    assert doc["skipped"] == 0
    # tshark: the client id of each TCP stream's CONNECT, and every MQTT message (count, mqtt.len) in it
    stream_id: dict[str, str] = {}
    stream_msgs: dict[str, int] = defaultdict(int)
    stream_bytes: dict[str, int] = defaultdict(int)
    stream_types: dict[str, set[int]] = defaultdict(set)
    for stream, cid, types, lens in _tshark(
        SAMPLES / "mqtt_incidents.pcapng", "mqtt", "tcp.stream", "mqtt.clientid", "mqtt.msgtype", "mqtt.len"
    ):
        if cid:
            stream_id[stream] = cid
        stream_msgs[stream] += len(types.split(","))
        stream_bytes[stream] += sum(int(x) for x in lens.split(","))
        stream_types[stream] |= {int(x) for x in types.split(",")}
    msgs: dict[str, int] = defaultdict(int)
    nbytes: dict[str, int] = defaultdict(int)
    types: dict[str, set[int]] = defaultdict(set)
    for stream, cid in stream_id.items():
        msgs[cid] += stream_msgs[stream]
        nbytes[cid] += stream_bytes[stream]
        types[cid] |= stream_types[stream]
    rows = {r["id"]: r for r in doc["client_activity"]}
    assert len(rows) == min(len(msgs), summary_mod.TABLE_ROWS)
    top = sorted(msgs, key=lambda c: (-msgs[c], c))[:10]
    assert list(rows)[:10] == top  # busiest first
    from spear_tui.protocols.mqtt import type_name

    for cid in [c for c in rows if c in msgs]:  # every client shown (the flood reuses client ports)
        assert rows[cid]["messages"] == msgs[cid], cid
        assert rows[cid]["bytes"] == nbytes[cid], cid
        assert rows[cid]["types"] == [type_name(t) for t in sorted(types[cid])], cid


@pytest.mark.skipif(not (SAMPLES / "modbus_incidents.pcapng").exists(), reason="sample captures missing")
def test_modbus_unit_functions_match_tshark() -> None:
    from collections import Counter as C

    doc = _scan("modbus_incidents.pcapng")["modbus"]
    requests: C = C()
    exceptions: C = C()
    writes = 0
    for src, dst, dport, units, fcs, excs in _tshark(
        SAMPLES / "modbus_incidents.pcapng", "mbtcp", "ip.src", "ip.dst", "tcp.dstport",
        "mbtcp.unit_id", "modbus.func_code", "modbus.exception_code",
    ):
        if dport == "502":
            for u, f in zip(units.split(","), fcs.split(","), strict=True):
                requests[(src, dst, int(u), int(f))] += 1
                writes += int(f) in (5, 6, 15, 16, 22, 23)
        elif excs:
            exceptions[(dst, src)] += len(excs.split(","))
    assert doc["writes"] == writes > 0
    rows = doc["unit_functions"]
    assert len(rows) == summary_mod.TABLE_ROWS < len(requests)  # a unit-id scan: bounded
    for r in rows:
        assert r["requests"] == requests[(r["master"], r["server"], r["unit"], int(r["function"].split()[0]))]
        assert r["write"] == (int(r["function"].split()[0]) in (5, 6, 15, 16, 22, 23))
    shown = C()
    for r in rows:
        shown[(r["master"], r["server"])] += r["exceptions"]
    big = max(exceptions, key=exceptions.get)
    assert shown[big] <= exceptions[big] and sum(exceptions.values()) == doc["exceptions"]


@pytest.mark.skipif(not (SAMPLES / "bacnet_incidents.pcapng").exists(), reason="sample captures missing")
def test_bacnet_services_and_errors_match_tshark() -> None:
    from collections import Counter as C

    doc = _scan("bacnet_incidents.pcapng")["bacnet"]
    per_pair: C = C()
    reads: C = C()
    errors = 0
    for src, dst, apdu, cservice in _tshark(
        SAMPLES / "bacnet_incidents.pcapng", "bvlc", "ip.src", "ip.dst",
        "bacapp.type", "bacapp.confirmed_service",
    ):
        per_pair[(src, dst)] += 1
        errors += apdu in ("5", "6", "7")
        if apdu == "0" and cservice == "12":
            reads[(src, dst)] += 1
    rows = doc["services"]
    assert len(rows) < summary_mod.TABLE_ROWS  # all shown, so sums are complete
    got: C = C()
    for r in rows:
        got[(r["source"], r["destination"])] += r["messages"]
    assert got == per_pair
    assert doc["errors"] == errors == sum(r["errors"] for r in rows)
    got_reads = {
        (r["source"], r["destination"]): r["messages"]
        for r in rows
        if r["service"] == "Confirmed-REQ readProperty"
    }
    assert got_reads == dict(reads) and reads


@pytest.mark.skipif(not (SAMPLES / "modbus_incidents.pcapng").exists(), reason="sample captures missing")
def test_activity_tables_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(summary_mod, "MAX_KEYS", 5)
    s = ProtocolSummary("modbus")
    seen = 0
    for b in open_capture_files([SAMPLES / "modbus_incidents.pcapng"], batch_messages=500).batches():
        if "modbus" in b.tables:
            s.update(b.tables["modbus"])
            seen += b.tables["modbus"].height
    doc = s.to_json()
    assert len(doc["unit_functions"]) == 5  # the unit-id scan alone has more combinations
    assert doc["messages"] == seen and doc["writes"] == _scan("modbus_incidents.pcapng")["modbus"]["writes"]
