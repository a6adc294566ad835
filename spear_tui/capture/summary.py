"""Running per-protocol summaries: message counts, type histograms, talkers. Incremental and bounded.

`spear-tui scan` and the console's protocol tables both use these, so they cannot disagree.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from spear_tui.capture.batch import Batch
from spear_tui.protocols.names import message_type_name
from spear_tui.protocols.schema import PROTOCOLS
from spear_tui.scalars import num

MAX_KEYS = 10_000  # distinct talkers/clients/topics remembered per protocol; the rest are counted only
TOP = 20

TABLE_ROWS = 100  # rows of each activity table (client_activity, unit_functions, services...) in to_json
MODBUS_WRITES = (5, 6, 15, 16, 22, 23)
BACNET_ERROR_APDUS = (5, 6, 7)  # Error, Reject, Abort


def _top(counter: Counter, n: int = TOP) -> list[tuple]:
    """Most common first; ties by key, so output does not depend on batch boundaries."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]


def _bump(counter: Counter, keys: list, counts: list, overflow: list[int]) -> None:
    for k, n in zip(keys, counts, strict=True):
        if k in counter or len(counter) < MAX_KEYS:
            counter[k] += n
        else:
            overflow[0] += n


def _merge(acc: pl.DataFrame | None, new: pl.DataFrame, keys: list[str], aggs: list[pl.Expr]) -> pl.DataFrame:
    """Fold one batch's group-by into the running table; keys already known are kept first, so the
    MAX_KEYS bound drops only newcomers (like `_bump`)."""
    both = new if acc is None else pl.concat([acc, new.select(acc.columns)], how="vertical_relaxed")
    return both.group_by(keys, maintain_order=True).agg(aggs).head(MAX_KEYS)


def _time(x: object) -> float | None:
    return None if x is None else float(x)  # type: ignore[arg-type]


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
        # activity tables (polars, merged per batch): who does what, for the console's protocol views
        self._activity: pl.DataFrame | None = None
        self._mqtt_ids: pl.DataFrame | None = None  # (caddr, cport) -> clientid, from CONNECTs
        self.writes = 0
        self.errors = 0

    def update(self, table: pl.DataFrame) -> None:
        if table.height == 0:
            return
        self.messages += table.height
        t0, t1 = num(table["time"].min()), num(table["time"].max())
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
            self._modbus_activity(table)
        else:
            dev = table.filter(pl.col("object_type") == 8).group_by("object_instance").len()
            _bump(
                self.clients,
                [str(d) for d in dev["object_instance"].to_list()],
                dev["len"].to_list(),
                self._overflow,
            )
            self._bacnet_activity(table)
        if self.protocol == "mqtt":
            self._mqtt_activity(table)

    def _mqtt_activity(self, table: pl.DataFrame) -> None:
        """Per client (its CONNECT's client id, else its address, as the LSTM's chunk talkers name it):
        messages both ways, control-packet types (bitmask), bytes (sum of mqtt.len), last seen."""
        from spear_tui.detect.lstm.features import client_endpoints

        ends = client_endpoints(table).select("caddr", pl.col("cport").cast(pl.Int32), "from_server")
        t = pl.concat([table.select("msgtype", "length", "time", "clientid"), ends], how="horizontal")
        # a connection's id is its latest CONNECT so far (ports get reused by later connections)
        connect = (pl.col("msgtype") == 1) & ~pl.col("from_server") & pl.col("clientid").is_not_null()
        t = t.with_columns(
            cid=pl.when(connect).then(pl.col("clientid")).forward_fill().over(["caddr", "cport"])
        )
        if self._mqtt_ids is not None:  # connections whose CONNECT came in an earlier batch
            t = t.join(
                self._mqtt_ids.rename({"clientid": "prev"}), on=["caddr", "cport"], how="left",
                maintain_order="left",
            )
            t = t.with_columns(cid=pl.coalesce("cid", "prev"))
        ids = t.filter(connect).select("caddr", "cport", "clientid")
        if ids.height:
            both = ids if self._mqtt_ids is None else pl.concat([self._mqtt_ids, ids])
            self._mqtt_ids = both.unique(["caddr", "cport"], keep="last", maintain_order=True).tail(MAX_KEYS)
        who = pl.coalesce(pl.col("cid"), pl.col("caddr"))
        g = t.group_by(who.fill_null("?").alias("id")).agg(
            messages=pl.len(),
            sent=(~pl.col("from_server")).sum().cast(pl.Int64),
            types=(pl.lit(1, pl.Int64) * pl.lit(2, pl.Int64).pow(pl.col("msgtype").clip(0, 62))).bitwise_or(),
            bytes=pl.col("length").cast(pl.Int64).sum(),
            last_time=pl.col("time").max(),
        )
        self._activity = _merge(
            self._activity,
            g.cast({"messages": pl.Int64}),
            ["id"],
            [
                pl.col("messages", "sent", "bytes").sum(),
                pl.col("types").bitwise_or(),
                pl.col("last_time").max(),
            ],
        )

    def _modbus_activity(self, table: pl.DataFrame) -> None:
        """Per (master, server, unit, function): requests, responses, exceptions, last seen."""
        resp = pl.col("is_response").fill_null(False)
        g = table.group_by(
            pl.when(resp).then(pl.col("dst")).otherwise(pl.col("src")).fill_null("?").alias("master"),
            pl.when(resp).then(pl.col("src")).otherwise(pl.col("dst")).fill_null("?").alias("server"),
            pl.col("unit_id").fill_null(-1).alias("unit"),
            pl.col("func_code").fill_null(-1).alias("function"),
        ).agg(
            requests=(~resp).sum().cast(pl.Int64),
            responses=resp.sum().cast(pl.Int64),
            exceptions=pl.col("exception_code").is_not_null().sum().cast(pl.Int64),
            last_time=pl.col("time").max(),
        )
        self.writes += int(g.filter(pl.col("function").is_in(MODBUS_WRITES))["requests"].sum())
        self._activity = _merge(
            self._activity,
            g,
            ["master", "server", "unit", "function"],
            [pl.col("requests", "responses", "exceptions").sum(), pl.col("last_time").max()],
        )

    def _bacnet_activity(self, table: pl.DataFrame) -> None:
        """Per (source, destination, service/message type): messages, last seen; errors counted."""
        g = table.group_by(
            pl.col("src").fill_null("?"), pl.col("dst").fill_null("?"), pl.col("msgtype").fill_null(-1)
        ).agg(
            messages=pl.len().cast(pl.Int64),
            errors=pl.col("apdu_type").is_in(BACNET_ERROR_APDUS).fill_null(False).sum().cast(pl.Int64),
            last_time=pl.col("time").max(),
        )
        self.errors += int(g["errors"].sum())
        self._activity = _merge(
            self._activity,
            g,
            ["src", "dst", "msgtype"],
            [pl.col("messages", "errors").sum(), pl.col("last_time").max()],
        )

    def _activity_json(self) -> dict:
        """The activity table(s) for to_json: top TABLE_ROWS rows, busiest first (ties by key)."""
        a = self._activity
        if self.protocol == "mqtt":
            busiest = ["messages", "id"]
            rows = None if a is None else a.sort(busiest, descending=[True, False]).head(TABLE_ROWS)
            return {
                "client_activity": [
                    {
                        "id": r["id"],
                        "messages": r["messages"],
                        "sent": r["sent"],
                        "bytes": r["bytes"],
                        "last_time": _time(r["last_time"]),
                        "types": [message_type_name("mqtt", b) for b in range(1, 16) if r["types"] >> b & 1],
                    }
                    for r in (rows.iter_rows(named=True) if rows is not None else [])
                ]
            }
        if self.protocol == "modbus":
            out: list[dict] = []
            if a is not None:
                a = a.with_columns(total=pl.col("requests") + pl.col("responses")).sort(
                    ["total", "master", "server", "unit", "function"],
                    descending=[True, False, False, False, False],
                )
                for r in a.head(TABLE_ROWS).iter_rows(named=True):
                    fc = r["function"]
                    out.append(
                        {
                            "id": f"{r['master']}>{r['server']} u{r['unit']} f{fc}",
                            "master": r["master"],
                            "server": r["server"],
                            "unit": r["unit"],
                            "function": f"{fc} {message_type_name(self.protocol, fc)}",
                            "write": fc in MODBUS_WRITES,
                            "requests": r["requests"],
                            "responses": r["responses"],
                            "exceptions": r["exceptions"],
                            "last_time": _time(r["last_time"]),
                        }
                    )
            return {"unit_functions": out, "writes": self.writes}
        out = []
        if a is not None:
            a = a.sort(["messages", "src", "dst", "msgtype"], descending=[True, False, False, False])
            for r in a.head(TABLE_ROWS).iter_rows(named=True):
                out.append(
                    {
                        "id": f"{r['src']}>{r['dst']} t{r['msgtype']}",
                        "source": r["src"],
                        "destination": r["dst"],
                        "service": message_type_name(self.protocol, r["msgtype"]),
                        "messages": r["messages"],
                        "errors": r["errors"],
                        "last_time": _time(r["last_time"]),
                    }
                )
        return {"services": out, "errors": self.errors}

    def add_skipped(self, n: int) -> None:
        self.skipped += n

    def add_unaligned(self, n: int) -> None:
        self.unaligned += n

    def to_json(self) -> dict:
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
            "types": {message_type_name(self.protocol, int(k)): n for k, n in sorted(self.types.items())},
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
        out.update(self._activity_json())
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
