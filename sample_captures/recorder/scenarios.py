"""The sample files: which schedule, which cast, and the labels written beside each capture."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .day import bacnet_day, modbus_day, mqtt_day
from .schedule import COMPRESSION, Action, Schedule, wall
from .world import Cast, record

Label = dict[str, Any]


def _rngs(seed: int) -> dict[str, random.Random]:
    """One independent stream per purpose, so one part never shifts another's content."""
    return {k: random.Random(f"{seed}-{k}") for k in ("mqtt", "modbus", "bacnet", "incident")}


def write_labels(out: Path, labels: list[Label], seed: int, marks: dict[str, float]) -> Path:
    incidents = []
    for label in labels:
        entry = dict(label)
        entry["start"] = round(marks[label["start"]], 6)
        entry["end"] = round(marks[label["end"]], 6)
        incidents.append(entry)
    path = out.with_name(out.name.split(".")[0] + ".labels.json")
    path.write_text(json.dumps({"capture": out.name, "seed": seed, "time_compression": COMPRESSION,
                                "incidents": incidents}, indent=2, ensure_ascii=True) + "\n")
    return path


def normal(out: Path, seed: int, hours: float = 24.0) -> list[Label]:
    """A whole (compressed) day of the three protocols together, no incident."""
    r = _rngs(seed)
    s = Schedule()
    t1 = wall(hours * 3600)
    mqtt_day(s, r["mqtt"], 0.0, t1, 0.0)
    modbus_day(s, r["modbus"], 0.0, t1, 0.0)
    bacnet_day(s, r["bacnet"], 0.0, t1, 0.0)
    marks = record(out, s.sorted(), Cast(("mqtt", "modbus", "bacnet")))
    write_labels(out, [], seed, marks)
    return []


SCENARIOS: dict[str, Callable[[Path, int], list[Label]]] = {"normal": normal}
