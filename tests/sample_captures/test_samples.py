"""The bundled sample captures, read with tshark itself (no project code).

Checks what the labels promise: volumes, label windows inside the capture, and every incident's
traffic inside its window and nowhere else. Expected values come from the recorder's design
(addresses, counts in the issue) and from the normal capture, never from these files' own output.
"""

from __future__ import annotations

import csv
import functools
import json
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
LABEL_FILES = sorted(SAMPLES.glob("*.labels.json"))
KINDS = {
    "mqtt": {"shuffle_full", "shuffle_10pct", "connect_flood", "wildcard_subscribe", "hostile_strings"},
    "modbus": {"unit_id_scan", "unexpected_write", "exception_storm"},
    "bacnet": {"whois_storm", "dcc_reinit", "hostile_strings"},
}
BROKER, SCADA = "127.0.0.1", "127.0.4.1"
SEP = "\x1f"  # tshark aggregator: never inside our topics, ids or numbers

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def capture(name: str) -> Path:
    for path in (SAMPLES / f"{name}.pcapng", SAMPLES / f"{name}.pcapng.gz"):
        if path.exists():
            return path
    raise AssertionError(f"missing sample {name}")


def labels(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.labels.json").read_text())


def window(name: str, kind: str, protocol: str | None = None) -> tuple[float, float]:
    [inc] = [i for i in labels(name)["incidents"] if i["kind"] == kind and protocol in (None, i["protocol"])]
    return inc["start"], inc["end"]


FIELDS = (
    "mqtt.msgtype",
    "mqtt.clientid",
    "mqtt.topic",
    "modbus.func_code",
    "modbus.exception_code",
    "mbtcp.unit_id",
    "bacapp.type",
    "bacapp.confirmed_service",
    "bacapp.unconfirmed_service",
    "bacapp.object_name",
    "_ws.malformed",
    "_ws.expert.severity",
)
PI_ERROR = 0x00800000


@dataclass(frozen=True)
class Frame:
    t: float
    src: str
    dst: str
    f: dict[str, tuple[str, ...]]  # every occurrence of each field in this frame


@functools.cache
def frames(name: str) -> tuple[Frame, ...]:
    """All frames of a capture, one tshark pass (filters are applied in Python: fast and simple)."""
    cmd = [
        "tshark",
        "-n",
        "-r",
        str(capture(name)),
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        f"aggregator={SEP}",
        "-e",
        "frame.time_epoch",
        "-e",
        "ip.src",
        "-e",
        "ip.dst",
    ]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, errors="surrogateescape").stdout
    rows = []
    for line in out.splitlines():
        t, src, dst, *cols = line.split("\t")
        values = {k: tuple(c.split(SEP)) if c else () for k, c in zip(FIELDS, cols, strict=True)}
        rows.append(Frame(float(t), src, dst, values))
    return tuple(rows)


def having(name: str, field: str, *values: str) -> list[Frame]:
    """Frames carrying ``field`` (with one of ``values`` if given)."""
    return [fr for fr in frames(name) if fr.f[field] and (not values or set(values) & set(fr.f[field]))]


def span(name: str) -> tuple[float, float]:
    return frames(name)[0].t, frames(name)[-1].t


def mqtt_types(name: str) -> list[tuple[float, str, str]]:
    return [(fr.t, fr.src, m) for fr in frames(name) for m in fr.f["mqtt.msgtype"]]


def inside(t: float, w: tuple[float, float]) -> bool:
    return w[0] <= t <= w[1]


# --- every sample -----------------------------------------------------------------------------


def test_every_capture_has_a_labels_file_with_exact_kinds() -> None:
    captures = {p.name for p in SAMPLES.glob("*.pcapng*")}
    assert {
        "normal.pcapng.gz",
        "mqtt_shuffle.pcapng",
        "mqtt_incidents.pcapng",
        "modbus_incidents.pcapng",
        "bacnet_incidents.pcapng",
        "hostile_strings.pcapng",
    } <= captures
    assert {json.loads(p.read_text())["capture"] for p in LABEL_FILES} == captures
    for path in LABEL_FILES:
        for inc in json.loads(path.read_text())["incidents"]:
            assert inc["kind"] in KINDS[inc["protocol"]], (path.name, inc["kind"])
            assert inc["start"] < inc["end"] and inc["description"] and inc["actors"]


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.name.split(".")[0])
def test_label_windows_lie_inside_the_capture(path: Path) -> None:
    name = path.name.split(".")[0]
    first, last = span(name)
    for inc in labels(name)["incidents"]:
        assert first < inc["start"] < inc["end"] < last, inc["kind"]


@pytest.mark.parametrize(
    "name", ["mqtt_incidents", "modbus_incidents", "bacnet_incidents", "hostile_strings"]
)
def test_unknown_hosts_talk_only_inside_the_windows_that_name_them(name: str) -> None:
    incs = labels(name)["incidents"]
    for fr in frames(name):
        for host in {fr.src, fr.dst}:
            if host.startswith("127.66."):
                assert any(host in i["actors"] and inside(fr.t, (i["start"], i["end"])) for i in incs), (
                    host,
                    fr.t,
                )


def test_samples_fit_the_size_budget() -> None:
    ours = [p for p in SAMPLES.iterdir() if p.is_file() and p.suffix != ".py"]
    assert sum(p.stat().st_size for p in ours) <= 10_000_000


# --- normal -----------------------------------------------------------------------------------


def count(name: str, field: str) -> list[float]:
    """Time of every occurrence of ``field`` (one per protocol message, even when a frame holds several)."""
    return [fr.t for fr in frames(name) for _ in fr.f[field]]


def test_normal_day_has_the_volume_for_the_stacked_lstm() -> None:
    assert len(count("normal", "mqtt.msgtype")) >= 10_000
    assert len(count("normal", "modbus.func_code")) >= 5_000
    assert len(count("normal", "bacapp.type")) >= 2_000


def test_normal_day_is_clean_and_only_known_hosts_talk() -> None:
    msgs = Counter(m for _, _, m in mqtt_types("normal"))
    assert msgs["12"] > 0 and msgs["13"] > 0  # keepalive PINGREQ/PINGRESP
    assert msgs["1"] > 11  # reconnects after the initial CONNECTs of 11 clients
    assert msgs["4"] > 0 and msgs["3"] > msgs["4"]  # QoS 1 acks and plain QoS 0 publishes
    assert having("normal", "modbus.exception_code") == []
    writes = [fr for fr in having("normal", "modbus.func_code", "5", "6", "15", "16") if fr.dst != SCADA]
    assert writes and {fr.src for fr in writes} == {SCADA}  # occasional setpoint writes by the poller only
    assert len(having("normal", "bacapp.unconfirmed_service", "2")) > 100  # COV notifications
    talkers = {
        fr.src
        for fr in frames("normal")
        if fr.f["mqtt.msgtype"] or fr.f["modbus.func_code"] or fr.f["bacapp.type"]
    }
    assert not [t for t in talkers if t.startswith("127.66.")]
    assert len(talkers) >= 15  # every device has its own address
    assert having("normal", "_ws.malformed") == []
    assert [
        fr
        for fr in having("normal", "_ws.expert.severity")
        if any(int(x) >= PI_ERROR for x in fr.f["_ws.expert.severity"])
    ] == []


# --- incident files: normal first, incident, normal after ------------------------------------


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("mqtt_shuffle", "mqtt.msgtype"),
        ("mqtt_incidents", "mqtt.msgtype"),
        ("modbus_incidents", "modbus.func_code"),
        ("bacnet_incidents", "bacapp.type"),
    ],
)
def test_incident_files_start_and_end_with_normal_traffic(name: str, field: str) -> None:
    times = count(name, field)
    incs = labels(name)["incidents"]
    first, last = min(i["start"] for i in incs), max(i["end"] for i in incs)
    assert 2_000 <= sum(t < first for t in times) <= 3_500
    assert sum(t > last for t in times) >= 1_000


# --- MQTT -------------------------------------------------------------------------------------


@functools.cache
def known_client_ids() -> frozenset[str]:
    """Client ids of the normal day: anything else is an unknown client."""
    return frozenset(c for fr in frames("normal") for c in fr.f["mqtt.clientid"])


def test_connect_flood_comes_from_unknown_ids_inside_its_window_only() -> None:
    w = window("mqtt_incidents", "connect_flood")
    connects = [(fr.t, fr.src, c) for fr in frames("mqtt_incidents") for c in fr.f["mqtt.clientid"]]
    unknown = [c for c in connects if c[2] not in known_client_ids()]
    snoop = [u for u in unknown if u[1] == "127.66.0.7"]
    flood = [u for u in unknown if u[1] != "127.66.0.7"]
    assert len(flood) >= 200
    assert all(inside(t, w) for t, _, _ in flood)
    assert {src for _, src, _ in flood} == {"127.66.0.5", "127.66.0.6"}
    assert len(snoop) == 1 and not inside(snoop[0][0], w)
    # ... and they publish: PUBLISH from the flood hosts only inside the window
    flooders = {"127.66.0.5", "127.66.0.6"}
    pubs = [fr for fr in having("mqtt_incidents", "mqtt.msgtype", "3") if fr.src in flooders]
    assert len(pubs) >= 200 and all(inside(fr.t, w) for fr in pubs)
    # known clients (re)connect from their own addresses only
    assert not [c for c in connects if c[2] in known_client_ids() and c[1].startswith("127.66.")]


def test_wildcard_subscription_by_an_unknown_client_inside_its_window_only() -> None:
    w = window("mqtt_incidents", "wildcard_subscribe")
    subs = having("mqtt_incidents", "mqtt.msgtype", "8")
    wild = [fr for fr in subs if {"#", "$SYS/#"} & set(fr.f["mqtt.topic"])]
    assert len(wild) == 2 and all(fr.src == "127.66.0.7" and inside(fr.t, w) for fr in wild)
    # the broker forwards the home traffic to it while subscribed, and only then
    to_snoop = [fr for fr in having("mqtt_incidents", "mqtt.msgtype", "3") if fr.dst == "127.66.0.7"]
    assert len(to_snoop) >= 100 and all(inside(fr.t, w) for fr in to_snoop)


def test_shuffled_windows_differ_from_the_schedule_and_nothing_else_does() -> None:
    with (SAMPLES / "mqtt_shuffle.schedule.csv").open() as fh:
        schedule = [(r["source"], r["topic"]) for r in csv.DictReader(fh)]
    wire = []
    for fr in having("mqtt_shuffle", "mqtt.msgtype", "3"):
        if fr.dst == BROKER:
            assert fr.f["mqtt.msgtype"].count("3") == len(fr.f["mqtt.topic"])  # client->broker: topics align
            wire += [(fr.t, fr.src, topic) for topic in fr.f["mqtt.topic"]]
    assert len(wire) == len(schedule)
    wins = {k: window("mqtt_shuffle", k) for k in ("shuffle_full", "shuffle_10pct")}
    outside_diff = 0
    per_window: dict[str, list[tuple[tuple[str, str], tuple[str, str]]]] = {k: [] for k in wins}
    for (t, src, topic), expected in zip(wire, schedule, strict=True):
        hit = [k for k, w in wins.items() if inside(t, w)]
        if hit:
            per_window[hit[0]].append(((src, topic), expected))
        else:
            outside_diff += (src, topic) != expected
    assert outside_diff == 0
    for kind, pairs in per_window.items():
        assert 450 <= len(pairs) <= 550, kind
        assert Counter(p[0] for p in pairs) == Counter(p[1] for p in pairs)  # same publishes, other order
        moved = sum(a != b for a, b in pairs) / len(pairs)
        if kind == "shuffle_full":
            assert moved > 0.5
        else:
            assert 0.03 <= moved <= 0.12


def test_hostile_strings_are_on_the_wire_from_real_clients() -> None:
    w = window("hostile_strings", "hostile_strings", "mqtt")
    texts = [
        (fr.t, x) for fr in frames("hostile_strings") for x in (*fr.f["mqtt.clientid"], *fr.f["mqtt.topic"])
    ]
    everything = "\n".join(x for _, x in texts)
    for needle in ("[bold red]x[/]", "[link=http://x]y[/link]", "\u202e", "\x1b[31m", "\x1b]8;;", "\x1b]0;"):
        assert needle in everything, repr(needle)
    hostile = [t for t, x in texts if "[" in x or "\u202e" in x or "\x1b" in x]
    assert len(hostile) >= 20 and all(inside(t, w) for t in hostile)
    wb = window("hostile_strings", "hostile_strings", "bacnet")
    names = [fr for fr in having("hostile_strings", "bacapp.object_name") if fr.src == "127.66.0.40"]
    assert names and all(inside(fr.t, wb) for fr in names)
    for n in (n for fr in names for n in fr.f["bacapp.object_name"]):
        assert "[bold red]" in n and "\x1b" in n and "\u202e" in n


# --- Modbus -----------------------------------------------------------------------------------


def test_unit_id_scan_inside_its_window_only() -> None:
    w = window("modbus_incidents", "unit_id_scan")
    scan = [fr for fr in having("modbus_incidents", "modbus.func_code") if fr.src == "127.66.0.10"]
    assert len({u for fr in scan for u in fr.f["mbtcp.unit_id"]}) >= 200
    assert all(inside(fr.t, w) for fr in scan)


def test_writes_from_an_unexpected_host_inside_their_window_only() -> None:
    w = window("modbus_incidents", "unexpected_write")
    writes = [
        fr
        for fr in having("modbus_incidents", "modbus.func_code", "5", "6", "15", "16")
        if fr.dst in {"127.0.3.1", "127.0.3.2"}
    ]  # requests, not responses
    foreign = [fr for fr in writes if fr.src != SCADA]
    assert len(foreign) >= 10 and {fr.src for fr in foreign} == {"127.66.0.11"}
    assert all(inside(fr.t, w) for fr in foreign)
    assert not [fr for fr in writes if fr.src == SCADA and inside(fr.t, w)]


def test_exception_storm_inside_its_window_and_no_exceptions_elsewhere() -> None:
    storm, scan = window("modbus_incidents", "exception_storm"), window("modbus_incidents", "unit_id_scan")
    exc = count("modbus_incidents", "modbus.exception_code")
    assert sum(inside(t, storm) for t in exc) >= 250
    assert [t for t in exc if not inside(t, storm) and not inside(t, scan)] == []


# --- BACnet -----------------------------------------------------------------------------------


def test_whois_storm_inside_its_window_only() -> None:
    w = window("bacnet_incidents", "whois_storm")
    whois = having("bacnet_incidents", "bacapp.unconfirmed_service", "8")
    storm = [fr.t for fr in whois if fr.src == "127.66.0.20"]
    assert len(storm) >= 200 and all(inside(t, w) for t in storm)
    others = [fr.t for fr in whois if fr.src != "127.66.0.20"]
    assert others and sum(inside(t, w) for t in others) <= 1  # the BMS's own discovery is rare
    iams = [fr.t for fr in having("bacnet_incidents", "bacapp.unconfirmed_service", "0")]
    assert sum(inside(t, w) for t in iams) > 10 * sum(not inside(t, w) for t in iams)


def test_dcc_and_reinitialize_from_an_unknown_host_inside_their_window_only() -> None:
    w = window("bacnet_incidents", "dcc_reinit")
    reqs = [
        fr
        for fr in having("bacnet_incidents", "bacapp.confirmed_service", "17", "20")
        if "0" in fr.f["bacapp.type"]
    ]
    services = Counter(s for fr in reqs for s in fr.f["bacapp.confirmed_service"])
    assert services["17"] >= 2 and services["20"] >= 2
    assert {fr.src for fr in reqs} == {"127.66.0.21"} and all(inside(fr.t, w) for fr in reqs)
    # while communication is disabled, AHU-1 leaves the BMS's reads unanswered
    reads_to_ahu = [
        fr
        for fr in having("bacnet_incidents", "bacapp.confirmed_service", "12")
        if fr.dst == "127.0.5.1" and inside(fr.t, (w[0] + 0.1, w[0] + 1.4))
    ]
    acks_from_ahu = [
        fr
        for fr in having("bacnet_incidents", "bacapp.type", "3")
        if fr.src == "127.0.5.1" and inside(fr.t, (w[0] + 0.1, w[0] + 1.4))
    ]
    assert reads_to_ahu and not acks_from_ahu
