"""Modbus/TCP novelty rules: new masters, new writers/written units, never-polled unit ids, bursts.

A host acting as master for the first time gets ONE alert that also says what it wrote and which
never-polled unit ids it touched; the narrower new_write / new_unit rules cover known masters.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from spear_tui.detect.novelty._text import (
    MODBUS_EXCEPTIONS,
    MODBUS_WRITES,
    int_ranges,
    listing,
    modbus_function,
)
from spear_tui.detect.novelty.base import KnownSet, ProtocolRules, touch_groups
from spear_tui.detect.novelty.episodes import Episode, EpisodeBook
from spear_tui.detect.novelty.rates import RateRule

_REQ = ~pl.col("_resp")
SCAN_UNITS = 3  # this many never-polled unit ids from one master is a unit-id scan


class ModbusRules(ProtocolRules):
    protocol = "modbus"
    RULES = {
        "new_master": "a host sends Modbus requests for the first time",
        "new_write": "a known master writes from a new source, to a new unit or with a new write function",
        "new_unit": "requests to unit ids never polled (unit-id scan)",
        "exception_burst": "burst of exception responses",
        "diagnostic_burst": "burst of diagnostics (8) requests",
        "rate_jump": "a master sends far more requests than it used to",
    }
    RATE_WORDS = {
        "exception_burst": "Modbus exception responses",
        "diagnostic_burst": "Modbus diagnostics (8) requests",
        "rate_jump": "Modbus requests",
    }

    def __init__(self) -> None:
        s, i = pl.Utf8(), pl.Int32()
        self.masters = KnownSet({"src": s})
        self.polled = KnownSet({"dst": s, "unit": i})
        self.polls = KnownSet({"src": s, "dst": s, "unit": i})  # who polls which unit
        self._polls_known = True  # False: a baseline saved before `polls` existed (judge by `polled`)
        self.writers = KnownSet({"src": s})
        self.written = KnownSet({"dst": s, "unit": i})
        self.write_tuples = KnownSet({"src": s, "dst": s, "unit": i, "fc": i})

    def rate_rules(self) -> list[RateRule]:
        exc = pl.col("exception_code").is_not_null()
        names = pl.col("exception_code").replace_strict(
            MODBUS_EXCEPTIONS, default="exception", return_dtype=pl.Utf8
        )
        return [
            RateRule(
                "exception_burst",
                exc,
                pl.lit("*"),
                min_count=10,
                detail=pl.format("{} ({}) to {}", names, pl.col("exception_code"), pl.col("dst")),
            ),
            RateRule("diagnostic_burst", _REQ & (pl.col("fc") == 8), pl.lit("*"), min_count=5),
            RateRule("rate_jump", _REQ & (pl.col("fc") != 8), pl.col("src"), min_count=50),
        ]

    def prepare(self, table: pl.DataFrame) -> pl.DataFrame:
        return table.with_columns(
            pl.col("is_response").fill_null(pl.col("sport") == 502).alias("_resp"),
            pl.col("unit_id").fill_null(-1).cast(pl.Int32).alias("unit"),
            pl.col("func_code").fill_null(-1).cast(pl.Int32).alias("fc"),
            pl.col("src").fill_null(""),
            pl.col("dst").fill_null(""),
        )

    def learn(self, table: pl.DataFrame) -> None:
        req = table.filter(_REQ & pl.col("exception_code").is_null())
        self.masters.add(req.select("src").unique())
        self.polled.add(req.select("dst", "unit").unique())
        self.polls.add(req.select("src", "dst", "unit").unique())
        w = req.filter(pl.col("fc").is_in(MODBUS_WRITES))
        self.writers.add(w.select("src").unique())
        self.written.add(w.select("dst", "unit").unique())
        self.write_tuples.add(w.select("src", "dst", "unit", "fc").unique())

    def detect(self, table: pl.DataFrame, enabled: set[str], book: EpisodeBook, hold: float) -> None:
        req = table.filter(_REQ)
        if req.height == 0:
            return
        new_src = self.masters.novel(req)
        if "new_master" in enabled and new_src.height:
            touch_groups(book, "new_master", new_src, "src", hold, self._details, self.masters.novel)
            req = self.masters.known(req)
        if "new_write" in enabled:
            w = self.write_tuples.novel(req.filter(pl.col("fc").is_in(MODBUS_WRITES)))
            touch_groups(book, "new_write", w, "src", hold, self._details, self.write_tuples.novel)
        if "new_unit" in enabled:
            touch_groups(
                book, "new_unit", self.polled.novel(req), "src", hold, self._details, self.polled.novel
            )

    @staticmethod
    def _details(ep: Episode, rows: pl.DataFrame) -> None:
        """Per (dst, unit, function): first time and count — one Python step per distinct request kind."""
        seen: dict[tuple[str, int, int], float] = ep.detail.setdefault("requests", {})
        counts: dict[tuple[str, int, int], int] = ep.detail.setdefault("counts", {})
        kinds = rows.group_by("dst", "unit", "fc").agg(pl.len().alias("n"), pl.col("time").min().alias("t"))
        for dst, unit, fc, n, t in kinds.iter_rows():
            k = (dst, int(unit), int(fc))
            seen[k] = min(seen.get(k, t), t)
            counts[k] = counts.get(k, 0) + int(n)

    def additions(self, ep: Episode) -> dict[str, list[tuple[Any, ...]]]:
        reqs: dict[tuple[str, int, int], float] = ep.detail.get("requests", {})
        adds: dict[str, list[tuple[Any, ...]]] = {}
        if ep.rule == "new_master":
            adds["masters"] = [(ep.actor,)]
        adds["polled"] = sorted({(d, u) for d, u, _ in reqs})
        adds["polls"] = sorted({(ep.actor, d, u) for d, u, _ in reqs})
        writes = [(ep.actor, d, u, f) for d, u, f in reqs if f in MODBUS_WRITES]
        if writes:
            adds["writers"] = [(ep.actor,)]
            adds["written"] = sorted({(d, u) for _, d, u, _ in writes})
            adds["write_tuples"] = sorted(writes)
        return adds

    def _new_units(self, reqs: dict[tuple[str, int, int], float]) -> dict[str, list[int]]:
        pairs = pl.DataFrame(
            sorted({(d, u) for d, u, _ in reqs}), schema={"dst": pl.Utf8(), "unit": pl.Int32()}, orient="row"
        )
        out: dict[str, list[int]] = {}
        for d, u in self.polled.novel(pairs).iter_rows():
            out.setdefault(d, []).append(u)
        return out

    def describe(self, ep: Episode) -> tuple[str, str]:
        reqs: dict[tuple[str, int, int], float] = ep.detail["requests"]
        counts: dict[tuple[str, int, int], int] = ep.detail["counts"]
        writes = sorted((t, k) for k, t in reqs.items() if k[2] in MODBUS_WRITES)
        first = writes[0][1] if writes else min(reqs, key=lambda k: reqs[k])
        dst, unit, fc = first
        head = f"{ep.actor} sent Modbus {modbus_function(fc)} to {dst} unit {unit}"
        new_units = self._new_units(reqs) if ep.rule != "new_write" else {}
        scan = sum(len(v) for v in new_units.values())
        tail: list[str] = []
        if ep.rule == "new_master":
            head += " — never seen acting as a master"
            severity = "high" if writes or scan >= SCAN_UNITS else "medium"
        elif ep.rule == "new_write":
            if not len(self.writers.known(pl.DataFrame({"src": [ep.actor]}))):
                head += " — never seen writing"
                severity = "high"
            elif self._routine_write(ep.actor, dst, unit, fc):
                head += " — a known writer using a write function it already uses, on a unit it polls"
                severity = "low"
            elif not len(
                self.written.known(pl.DataFrame({"dst": [dst], "unit": [unit]}, schema=self.written.schema))
            ):
                head += " — first write ever seen to this unit"
                severity = "high"
            else:
                head += " — first use of this write function on this unit"
                severity = "low"
        else:
            head = f"{ep.actor} sent Modbus requests to unit ids never polled before"
            severity = "high" if scan >= SCAN_UNITS else "medium"
        for d, units in sorted(new_units.items()):
            tail.append(
                f"{'unit-id scan: ' if len(units) >= SCAN_UNITS else ''}{len(units)} unit id(s) never polled "
                f"on {d} ({int_ranges(units)})"
            )
        other_writes = [k for _, k in writes[1:]]
        if other_writes:
            tail.append(
                "also " + listing([f"{modbus_function(f)} to {d} unit {u}" for d, u, f in other_writes])
            )
        fcs: dict[int, int] = {}
        for (_, _, f), n in counts.items():
            fcs[f] = fcs.get(f, 0) + n
        tail.append(
            f"{ep.count} request(s): "
            + listing(
                [f"{n}× {modbus_function(f)}" for f, n in sorted(fcs.items(), key=lambda kv: (-kv[1], kv[0]))]
            )
        )
        return head + "; " + "; ".join(tail), severity

    def _routine_write(self, src: str, dst: str, unit: int, fc: int) -> bool:
        """A writer's known write function on a unit it already polls: a routine operation, low."""
        uses = self.write_tuples.frame.filter((pl.col("src") == src) & (pl.col("fc") == fc)).height > 0
        row = pl.DataFrame({"src": [src], "dst": [dst], "unit": [unit]}, schema=self.polls.schema)
        if self._polls_known:
            polls = len(self.polls.known(row)) > 0
        else:
            polls = len(self.polled.known(row.drop("src"))) > 0
        return uses and polls

    def to_dict(self) -> dict[str, Any]:
        return {
            "polls": self.polls.to_list(),
            "masters": self.masters.to_list(),
            "polled": self.polled.to_list(),
            "writers": self.writers.to_list(),
            "written": self.written.to_list(),
            "write_tuples": self.write_tuples.to_list(),
        }

    def load(self, data: dict[str, Any]) -> None:
        for name in ("masters", "polled", "writers", "written", "write_tuples"):
            getattr(self, name).load(data[name])
        self._polls_known = "polls" in data
        self.polls.load(data.get("polls", []))
