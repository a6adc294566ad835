"""The sample files: which schedule, which cast, and what the labels say about each capture.

A scenario records ``out`` and returns its incidents with epoch start/end times taken when the
recorder performed the window's first and last actions (``record.py`` writes the labels file).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import incidents as inc
from .day import SENSORS, bacnet_day, modbus_day, mqtt_day
from .schedule import Schedule, wall
from .world import Cast, record

Label = dict[str, Any]
Scenario = Callable[[Path, int], list[Label]]


def _rngs(seed: int) -> dict[str, random.Random]:
    """One independent stream per purpose, so one part never shifts another's content."""
    return {k: random.Random(f"{seed}-{k}") for k in ("mqtt", "modbus", "bacnet", "incident")}


def _resolve(labels: list[Label], marks: dict[str, float]) -> list[Label]:
    out = []
    for label in labels:
        entry = dict(label)
        entry["start"] = round(marks[label["start"]], 6)
        entry["end"] = round(marks[label["end"]], 6)
        out.append(entry)
    return out


def normal(out: Path, seed: int, hours: float = 24.0) -> list[Label]:
    """A whole (compressed) day of the three protocols together, no incident."""
    r = _rngs(seed)
    s = Schedule()
    t1 = wall(hours * 3600)
    mqtt_day(s, r["mqtt"], 0.0, t1, 0.0)
    modbus_day(s, r["modbus"], 0.0, t1, 0.0)
    bacnet_day(s, r["bacnet"], 0.0, t1, 0.0)
    record(out, s.sorted(), Cast(("mqtt", "modbus", "bacnet")))
    return []


def mqtt_shuffle(out: Path, seed: int) -> list[Label]:
    """The paper's test: the real clients perform a window of their publishes in shuffled order.

    Writes ``<name>.schedule.csv``: every client publish in the *unshuffled* schedule order, so a
    test can compare the order on the wire with what the day would have been.
    """
    r = _rngs(seed)
    s = Schedule()
    mqtt_day(s, r["mqtt"], 0.0, 45.0, 14 * 3600, drops=False)
    normal_order = [(a.actor, a.args) for a in s.sorted() if a.kind == "publish"]  # before shuffling
    labels = [
        inc.shuffle(s, r["incident"], start=12.0, count=500, fraction=1.0, kind="shuffle_full"),
        inc.shuffle(s, r["incident"], start=28.0, count=500, fraction=0.1, kind="shuffle_10pct"),
    ]
    addresses = {x.name: x.address for x in SENSORS} | {"dashboard": "127.0.2.1"}
    with out.with_name(out.name.split(".")[0] + ".schedule.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["position", "source", "topic", "qos"])
        for i, (actor, args) in enumerate(normal_order):
            writer.writerow([i, addresses[actor], args["topic"], args.get("qos", 0)])
    marks = record(out, s.sorted(), Cast(("mqtt",)))
    return _resolve(labels, marks)


def mqtt_incidents(out: Path, seed: int) -> list[Label]:
    """CONNECT/PUBLISH flood from unknown clients, then an unknown client subscribing to ``#``."""
    r = _rngs(seed)
    s = Schedule()
    mqtt_day(s, r["mqtt"], 0.0, 42.0, 10 * 3600)
    cast = Cast(("mqtt",))
    labels = [
        inc.connect_flood(s, cast, r["incident"], start=13.0, seconds=3.0, clients=240),
        inc.wildcard_subscribe(s, cast, r["incident"], start=25.0, seconds=5.0),
    ]
    marks = record(out, s.sorted(), cast)
    return _resolve(labels, marks)


def modbus_incidents(out: Path, seed: int) -> list[Label]:
    """Unit-id scan, writes from an unexpected host, and an exception storm, between normal polling."""
    r = _rngs(seed)
    s = Schedule()
    modbus_day(s, r["modbus"], 0.0, 100.0, 9 * 3600)
    labels = [
        inc.unit_id_scan(s, start=37.0),
        inc.unexpected_write(s, r["incident"], start=50.0),
        inc.exception_storm(s, r["incident"], start=62.0, seconds=3.0, requests=300),
    ]
    marks = record(out, s.sorted(), Cast(("modbus",)))
    return _resolve(labels, marks)


def bacnet_incidents(out: Path, seed: int) -> list[Label]:
    """A Who-Is storm, then DeviceCommunicationControl/ReinitializeDevice from an unknown host."""
    r = _rngs(seed)
    s = Schedule()
    bacnet_day(s, r["bacnet"], 0.0, 110.0, 11 * 3600)
    cast = Cast(("bacnet",))
    labels = [
        inc.whois_storm(s, cast, start=50.0, seconds=2.5, count=250),
        inc.dcc_reinit(s, cast, start=65.0),
    ]
    marks = record(out, s.sorted(), cast)
    return _resolve(labels, marks)


def hostile_strings(out: Path, seed: int) -> list[Label]:
    """Real paho clients (and one BACnet device) whose ids, topics, payloads and names are hostile."""
    r = _rngs(seed)
    s = Schedule()
    mqtt_day(s, r["mqtt"], 0.0, 16.0, 20 * 3600, drops=False)
    bacnet_day(s, r["bacnet"], 0.0, 16.0, 20 * 3600)
    cast = Cast(("mqtt", "bacnet"))
    labels = inc.hostile(s, cast, start=5.0)
    marks = record(out, s.sorted(), cast)
    return _resolve(labels, marks)


SCENARIOS: dict[str, Scenario] = {
    "normal": normal,
    "mqtt_shuffle": mqtt_shuffle,
    "mqtt_incidents": mqtt_incidents,
    "modbus_incidents": modbus_incidents,
    "bacnet_incidents": bacnet_incidents,
    "hostile_strings": hostile_strings,
}
