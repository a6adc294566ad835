"""BACnet/IP novelty rules: dangerous services from new sources, Who-Is/I-Am storms, error bursts."""

from __future__ import annotations

from typing import Any

import polars as pl

from spear_tui.detect.novelty._text import BACNET_PDU, BACNET_UNCONFIRMED, bacnet_service, listing
from spear_tui.detect.novelty.base import KnownSet, ProtocolRules, touch_groups
from spear_tui.detect.novelty.episodes import Episode, EpisodeBook
from spear_tui.detect.novelty.rates import RateRule

CONFIRMED_REQUEST, UNCONFIRMED_REQUEST = 0, 1
CONTROL_SERVICES = (15, 16, 17, 20)  # WriteProperty, WritePropertyMultiple, DCC, ReinitializeDevice
HIGH_SERVICES = (17, 20)
_DISCOVERY = (pl.col("apdu_type") == UNCONFIRMED_REQUEST) & pl.col("usvc").is_in([0, 8])
_ERRORS = pl.col("apdu_type").is_in(list(BACNET_PDU))


class BacnetRules(ProtocolRules):
    protocol = "bacnet"
    RULES = {
        "new_control": "WriteProperty, DeviceCommunicationControl or ReinitializeDevice from a new source",
        "whois_storm": "burst of Who-Is / I-Am",
        "error_burst": "burst of Error / Reject / Abort PDUs",
        "rate_jump": "a device sends far more messages than it used to",
    }
    RATE_WORDS = {
        "whois_storm": "BACnet Who-Is/I-Am messages",
        "error_burst": "BACnet Error/Reject/Abort PDUs",
        "rate_jump": "BACnet messages (not Who-Is/I-Am or errors)",
    }

    def __init__(self) -> None:
        self.control = KnownSet({"src": pl.Utf8(), "csvc": pl.Int32()})

    def rate_rules(self) -> list[RateRule]:
        names = pl.col("usvc").replace_strict(BACNET_UNCONFIRMED, default="?", return_dtype=pl.Utf8)
        pdus = pl.col("apdu_type").replace_strict(BACNET_PDU, default="?", return_dtype=pl.Utf8)
        return [
            RateRule("whois_storm", _DISCOVERY, pl.lit("*"), min_count=20, detail=names),
            RateRule("error_burst", _ERRORS, pl.lit("*"), min_count=10, detail=pdus),
            RateRule("rate_jump", ~_DISCOVERY & ~_ERRORS, pl.col("src"), min_count=50, new_min=300),
        ]

    def prepare(self, table: pl.DataFrame) -> pl.DataFrame:
        return table.with_columns(
            pl.col("src").fill_null(""),
            pl.col("dst").fill_null(""),
            pl.col("apdu_type").fill_null(-1).cast(pl.Int32),
            pl.col("confirmed_service").fill_null(-1).cast(pl.Int32).alias("csvc"),
            pl.col("unconfirmed_service").fill_null(-1).cast(pl.Int32).alias("usvc"),
        )

    def _controls(self, t: pl.DataFrame) -> pl.DataFrame:
        return t.filter((pl.col("apdu_type") == CONFIRMED_REQUEST) & pl.col("csvc").is_in(CONTROL_SERVICES))

    def learn(self, t: pl.DataFrame) -> None:
        self.control.add(self._controls(t).select("src", "csvc").unique())

    def detect(self, t: pl.DataFrame, enabled: set[str], book: EpisodeBook, hold: float) -> None:
        if "new_control" not in enabled:
            return
        rows = self.control.novel(self._controls(t))
        touch_groups(book, "new_control", rows, "src", hold, self._details, self.control.novel)

    @staticmethod
    def _details(ep: Episode, rows: pl.DataFrame) -> None:
        reqs: dict[tuple[str, int], tuple[float, int]] = ep.detail.setdefault("requests", {})
        for dst, svc, n, t in rows.group_by("dst", "csvc").agg(pl.len(), pl.col("time").min()).iter_rows():
            k = (dst, int(svc))
            first, m = reqs.get(k, (t, 0))
            reqs[k] = (min(first, t), m + int(n))

    def additions(self, ep: Episode) -> dict[str, list[tuple[Any, ...]]]:
        return {"control": sorted({(ep.actor, s) for _, s in ep.detail["requests"]})}

    def describe(self, ep: Episode) -> tuple[str, str]:
        reqs: dict[tuple[str, int], tuple[float, int]] = ep.detail["requests"]
        order = sorted(reqs, key=lambda k: (k[1] not in HIGH_SERVICES, reqs[k][0]))
        dst, svc = order[0]
        head = f"{ep.actor} sent BACnet {bacnet_service(svc)} to {dst} — never seen sending it before"
        per_service: dict[int, list[str]] = {}
        for d, s in order:
            per_service.setdefault(s, []).append(d)
        parts = [
            (
                f"{bacnet_service(s)} to {len(ds)} devices: {listing(ds)}"
                if len(ds) > 1
                else f"{bacnet_service(s)} to {ds[0]}"
            )
            if len(ds) > 1 or s != svc
            else ""
            for s, ds in per_service.items()
        ]
        parts = [p for p in parts if p]
        if parts:
            head += "; " + "; ".join(parts)
        head += f"; {ep.count} request(s)"
        return head, "high" if any(s in HIGH_SERVICES for _, s in reqs) else "medium"

    def to_dict(self) -> dict[str, Any]:
        return {"control": self.control.to_list()}

    def load(self, data: dict[str, Any]) -> None:
        self.control.load(data["control"])
