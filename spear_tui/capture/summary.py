"""Running per-protocol summaries: message counts, type histograms, talkers. Incremental and bounded.

`spear-tui scan` and the console's protocol tables both use these, so they cannot disagree.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from spear_tui.capture.batch import Batch
from spear_tui.protocols import bacnet, modbus, mqtt
from spear_tui.protocols.schema import PROTOCOLS

MAX_KEYS = 10_000  # distinct talkers/clients/topics remembered per protocol; the rest are counted only
TOP = 20

TYPE_NAMERS = {"mqtt": mqtt.type_name, "modbus": modbus.type_name, "bacnet": bacnet.type_name}


def _top(counter: Counter, n: int = TOP) -> list[tuple]:
    """Most common first; ties by key, so output does not depend on batch boundaries."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]


def _bump(counter: Counter, keys: list, counts: list, overflow: list[int]) -> None:
    for k, n in zip(keys, counts, strict=True):
        if k in counter or len(counter) < MAX_KEYS:
            counter[k] += n
        else:
            overflow[0] += n


class ProtocolSummary:
    """Summary of one protocol's message table, fed batch by batch (vectorised group-bys per batch)."""

    def __init__(self, protocol: str):
        self.protocol = protocol
        self.messages = 0
        self.skipped = 0
        self.unaligned = 0
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.types: Counter[int] = Counter()
        self.senders: Counter[str] = Counter()
        self.receivers: Counter[str] = Counter()
        self.clients: Counter[str] = Counter()  # MQTT client ids / Modbus units / BACnet devices
        self.topics: Counter[str] = Counter()
        self.exceptions = 0
        self._overflow = [0]

    def update(self, table: pl.DataFrame) -> None:
        if table.height == 0:
            return
        self.messages += table.height
        t0, t1 = table["time"].min(), table["time"].max()
        self.first_time = t0 if self.first_time is None else min(self.first_time, t0)
        self.last_time = t1 if self.last_time is None else max(self.last_time, t1)
        types = table.group_by("msgtype").len().drop_nulls("msgtype")
        _bump(self.types, types["msgtype"].to_list(), types["len"].to_list(), self._overflow)
        for col, counter in (("src", self.senders), ("dst", self.receivers)):
            g = table.group_by(col).len().drop_nulls(col)
            _bump(counter, g[col].to_list(), g["len"].to_list(), self._overflow)
        if self.protocol == "mqtt":
            for col, counter in (("clientid", self.clients), ("topic", self.topics)):
                g = table.filter(pl.col(col).is_not_null()).group_by(col).len()
                _bump(counter, g[col].to_list(), g["len"].to_list(), self._overflow)
        elif self.protocol == "modbus":
            g = table.group_by("unit_id").len().drop_nulls("unit_id")
            _bump(self.clients, [str(u) for u in g["unit_id"].to_list()], g["len"].to_list(), self._overflow)
            self.exceptions += int(table["exception_code"].is_not_null().sum())
        else:
            dev = table.filter(pl.col("object_type") == 8).group_by("object_instance").len()
            _bump(
                self.clients,
                [str(d) for d in dev["object_instance"].to_list()],
                dev["len"].to_list(),
                self._overflow,
            )

    def add_skipped(self, n: int) -> None:
        self.skipped += n

    def add_unaligned(self, n: int) -> None:
        self.unaligned += n

    def to_json(self) -> dict:
        namer = TYPE_NAMERS[self.protocol]
        talkers = sorted(
            set(self.senders) | set(self.receivers),
            key=lambda a: (-(self.senders[a] + self.receivers[a]), a),
        )[:TOP]
        out: dict = {
            "messages": self.messages,
            "skipped": self.skipped,
            "unaligned": self.unaligned,
            "first_time": self.first_time,
            "last_time": self.last_time,
            "types": {namer(int(k)): n for k, n in sorted(self.types.items())},
            "type_codes": {str(k): n for k, n in sorted(self.types.items())},
            "talkers": [
                {"address": a, "sent": self.senders[a], "received": self.receivers[a]} for a in talkers
            ],
            "distinct_talkers": len(set(self.senders) | set(self.receivers)),
        }
        key = {"mqtt": "clients", "modbus": "units", "bacnet": "devices"}[self.protocol]
        out[key] = [{"id": k, "messages": n} for k, n in _top(self.clients)]
        if self.protocol == "mqtt":
            out["distinct_topics"] = len(self.topics)
            out["topics"] = [{"topic": k, "messages": n} for k, n in _top(self.topics)]
        if self.protocol == "modbus":
            out["exceptions"] = self.exceptions
        return out


class CaptureSummary:
    """All protocols plus frame-level counts, fed with whole batches."""

    def __init__(self) -> None:
        self.protocols = {p: ProtocolSummary(p) for p in PROTOCOLS}
        self.other_frames = 0
        self.batches = 0

    def update(self, batch: Batch) -> None:
        self.batches += 1
        self.other_frames += batch.other_frames
        for name, table in batch.tables.items():
            self.protocols[name].update(table)
        for name, n in batch.skipped.items():
            self.protocols[name].add_skipped(n)
        for name, n in batch.unaligned.items():
            self.protocols[name].add_unaligned(n)

    def to_json(self) -> dict:
        return {
            "protocols": {p: s.to_json() for p, s in self.protocols.items()},
            "other_frames": self.other_frames,
        }
