"""MQTT novelty rules: unknown client ids, first wildcard subscriptions, new topic prefixes, storms.

SUBSCRIBE and PUBLISH carry no client id: the detector remembers which client id each TCP
connection (client address and port) announced in its CONNECT, and falls back to the client's
address when the CONNECT was not seen (capture started mid-session).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from spear_tui.detect.novelty._text import listing, quote
from spear_tui.detect.novelty.base import KnownSet, ProtocolRules, touch_groups
from spear_tui.detect.novelty.episodes import Details, Episode, EpisodeBook
from spear_tui.detect.novelty.rates import RateRule

CONNECT, PUBLISH, SUBSCRIBE = 1, 3, 8
BROKER_PORTS = (1883, 8883)
PREFIX_LEVELS = 2  # a topic's prefix: its first levels, never the whole topic unless it has one level
MAX_CONNECTIONS = 200_000
MAX_KEPT = 50  # distinct new strings kept per episode for the reason (the count is always exact)


class MqttRules(ProtocolRules):
    protocol = "mqtt"
    RULES = {
        "unknown_client": "CONNECT with a client id never seen",
        "wildcard": "a client subscribes with # or + for the first time",
        "new_topic": "PUBLISH to a topic prefix never seen",
        "connect_storm": "burst of CONNECT messages",
        "rate_jump": "a client sends far more messages than it used to",
    }
    RATE_WORDS = {"connect_storm": "MQTT CONNECT messages", "rate_jump": "MQTT messages (not CONNECT)"}

    def __init__(self) -> None:
        s = pl.Utf8()
        self.clients = KnownSet({"cid": s})
        self.wildcard_users = KnownSet({"who": s})
        self.prefixes = KnownSet({"prefix": s})
        self.brokers = KnownSet({"dst": s, "dport": pl.Int32()})
        self._conns = pl.DataFrame(schema={"src": s, "sport": pl.Int32(), "_cid": s})

    def rate_rules(self) -> list[RateRule]:
        return [
            RateRule("connect_storm", pl.col("msgtype") == CONNECT, pl.lit("*"), min_count=20),
            RateRule(
                "rate_jump",
                ~pl.col("_from_broker") & (pl.col("msgtype") != CONNECT),
                pl.col("src"),
                min_count=50,
            ),
        ]

    def prepare(self, table: pl.DataFrame) -> pl.DataFrame:
        t = table.with_columns(
            pl.col("src").fill_null(""),
            pl.col("dst").fill_null(""),
            pl.col("sport").fill_null(-1).cast(pl.Int32),
            pl.col("dport").fill_null(-1).cast(pl.Int32),
        )
        con = t.filter(pl.col("msgtype") == CONNECT)
        if con.height:
            self.brokers.add(con.select("dst", "dport").unique())
            fresh = con.select("src", "sport", pl.col("clientid").fill_null("").alias("_cid"))
            conns = pl.concat([self._conns, fresh]).unique(
                subset=["src", "sport"], keep="last", maintain_order=True
            )
            self._conns = conns.tail(MAX_CONNECTIONS)
        brokers = self.brokers.frame.rename({"dst": "src", "dport": "sport"}).with_columns(
            pl.lit(True).alias("_from_broker")
        )
        on = ["src", "sport"]
        t = t.join(self._conns, on=on, how="left").join(brokers, on=on, how="left")
        prefix_n = pl.min_horizontal(pl.lit(PREFIX_LEVELS), (pl.col("_levels").list.len() - 1).clip(1))
        return t.with_columns(
            (pl.col("_from_broker").fill_null(False) | pl.col("sport").is_in(BROKER_PORTS)).alias(
                "_from_broker"
            ),
            pl.when(pl.col("_cid").is_not_null())
            .then(pl.lit("c:") + pl.col("_cid"))
            .otherwise(pl.lit("h:") + pl.col("src"))
            .alias("who"),
            pl.col("topic").fill_null("").str.split("/").alias("_levels"),
        ).with_columns(
            pl.col("_levels").list.head(prefix_n).list.join("/").alias("prefix"),
            pl.col("topic").fill_null("").str.contains(r"[#+]").alias("_wild"),
        )

    def _published(self, t: pl.DataFrame) -> pl.DataFrame:
        return t.filter((pl.col("msgtype") == PUBLISH) & ~pl.col("_from_broker"))

    def _subscribed(self, t: pl.DataFrame) -> pl.DataFrame:
        return t.filter((pl.col("msgtype") == SUBSCRIBE) & pl.col("_wild"))

    def learn(self, t: pl.DataFrame) -> None:
        con = t.filter(pl.col("msgtype") == CONNECT)
        self.clients.add(con.select(pl.col("clientid").fill_null("").alias("cid")).unique())
        self.wildcard_users.add(self._subscribed(t).select("who").unique())
        self.prefixes.add(self._published(t).select("prefix").unique())

    def detect(self, t: pl.DataFrame, enabled: set[str], book: EpisodeBook, hold: float) -> None:
        if "unknown_client" in enabled:
            con = t.filter(pl.col("msgtype") == CONNECT).with_columns(
                pl.col("clientid").fill_null("").alias("cid")
            )
            rows = self.clients.novel(con).with_columns(pl.lit("*").alias("_all"))
            touch_groups(book, "unknown_client", rows, "_all", hold, self._details("cid"), self.clients.novel)
        if "wildcard" in enabled:
            rows = self.wildcard_users.novel(self._subscribed(t))
            touch_groups(
                book, "wildcard", rows, "who", hold, self._details("topic"), self.wildcard_users.novel
            )
        if "new_topic" in enabled:
            rows = self.prefixes.novel(self._published(t)).with_columns(pl.lit("*").alias("_all"))
            touch_groups(book, "new_topic", rows, "_all", hold, self._details("prefix"), self.prefixes.novel)

    @staticmethod
    def _details(item: str) -> Details:
        """Collect the new strings (client ids, filters, prefixes) an episode showed, exactly counted."""

        def add(ep: Episode, rows: pl.DataFrame) -> None:
            items: list[str] = ep.detail.setdefault("items", [])
            total: set[str] = ep.detail.setdefault("seen", set())
            for s in rows[item].unique(maintain_order=True).to_list():
                if s not in total:
                    total.add(s)
                    if len(items) < MAX_KEPT:
                        items.append(s)
            ep.detail["n_items"] = len(total)
            ep.detail.setdefault("src", rows["src"][0])
            hosts: list[str] = ep.detail.setdefault("hosts", [])
            hosts.extend(h for h in rows["src"].unique(maintain_order=True).to_list() if h not in hosts)
            ep.detail.setdefault("example", rows["topic"][0])
            whos: list[str] = ep.detail.setdefault("who", [])
            whos.extend(w for w in rows["who"].unique(maintain_order=True).to_list() if w not in whos)

        return add

    def additions(self, ep: Episode) -> dict[str, list[tuple[Any, ...]]]:
        seen = sorted(ep.detail.get("seen", ()))
        if ep.rule == "unknown_client":
            return {"clients": [(s,) for s in seen]}
        if ep.rule == "wildcard":
            return {"wildcard_users": [(ep.actor,)]}
        if ep.rule == "new_topic":
            return {"prefixes": [(s,) for s in seen]}
        return {}

    @staticmethod
    def _who(who: str, src: str) -> str:
        kind, _, value = who.partition(":")
        if kind == "c":
            return f"{quote(value)} ({src})"
        return f"at {value} (its CONNECT was not seen)"

    @staticmethod
    def _publishers(ep: Episode) -> str:
        """The hosts and, when their CONNECT was seen, the client ids that published."""
        hosts: list[str] = ep.detail.get("hosts", [])
        ids = [quote(w[2:]) for w in ep.detail.get("who", []) if w.startswith("c:")]
        where = f"host {hosts[0]}" if len(hosts) == 1 else f"hosts {listing(hosts)}"
        return f"{where} (client id {listing(ids)})" if ids else f"{where} (client id not seen)"

    def describe(self, ep: Episode) -> tuple[str, str]:
        items: list[str] = ep.detail["items"]
        n = ep.detail["n_items"]
        shown = listing([quote(s) for s in items], limit=3)
        if n > len(items) and len(items) <= 3:
            shown += f" (+{n - len(items)} not listed)"
        hosts: list[str] = ep.detail.get("hosts", [])
        if ep.rule == "unknown_client":
            brokers = sorted(ep.talkers - set(hosts))
            to = f" to broker {listing(brokers)}" if brokers else ""
            if n == 1:
                src = listing(hosts)
                return (
                    f"MQTT client id {shown} connected from {src}{to} — client id never seen before",
                    "medium",
                )
            return (
                f"{n} MQTT client ids never seen before connected from {listing(hosts)}{to}: {shown}",
                "high" if n >= 5 else "medium",
            )
        if ep.rule == "wildcard":
            root = any(s.startswith(("#", "+")) for s in items)
            return (
                f"MQTT client {self._who(ep.actor, ep.detail['src'])} subscribed to {shown}"
                " — never used wildcard subscriptions before",
                "high" if root else "medium",
            )
        example = ep.detail.get("example")
        return (
            f"MQTT {self._publishers(ep)} published to {n} topic prefix(es) never seen before: {shown}"
            + (f" (e.g. topic {quote(example)})" if example is not None else ""),
            "high" if n >= 5 else "medium",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients.to_list(),
            "wildcard_users": self.wildcard_users.to_list(),
            "prefixes": self.prefixes.to_list(),
            "brokers": self.brokers.to_list(),
        }

    def load(self, data: dict[str, Any]) -> None:
        for name in ("clients", "wildcard_users", "prefixes", "brokers"):
            getattr(self, name).load(data[name])
