"""What every protocol's rule set shares: known-tuple sets and the rate-alert wording."""

from __future__ import annotations

from typing import Any

import polars as pl

from spear_tui.detect.novelty._text import listing
from spear_tui.detect.novelty.episodes import Details, Episode, EpisodeBook, Refilter
from spear_tui.detect.novelty.rates import RateRule


class KnownSet:
    """A set of tuples (columns of a polars frame); membership tests are anti-joins, never Python loops."""

    def __init__(self, schema: dict[str, pl.DataType]) -> None:
        self.schema = schema
        self.frame = pl.DataFrame(schema=schema)

    def add(self, rows: pl.DataFrame) -> None:
        if rows.height:
            part = rows.select(list(self.schema)).cast(self.schema)  # type: ignore[arg-type]
            self.frame = pl.concat([self.frame, part]).unique(maintain_order=True)

    def add_tuples(self, tuples: list[tuple[Any, ...]]) -> None:
        if tuples:
            self.add(pl.DataFrame(tuples, schema=self.schema, orient="row"))

    def novel(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Rows of `rows` whose key tuple is not in the set."""
        if rows.height == 0:
            return rows
        return rows.join(self.frame, on=list(self.schema), how="anti")

    def known(self, rows: pl.DataFrame) -> pl.DataFrame:
        if rows.height == 0:
            return rows
        return rows.join(self.frame, on=list(self.schema), how="semi")

    def __len__(self) -> int:
        return self.frame.height

    def to_list(self) -> list[list[Any]]:
        return [list(r) for r in self.frame.iter_rows()]

    def load(self, rows: list[list[Any]]) -> None:
        self.frame = (
            pl.DataFrame([tuple(r) for r in rows], schema=self.schema, orient="row")
            if rows
            else pl.DataFrame(schema=self.schema)
        )


def touch_groups(
    book: EpisodeBook,
    rule: str,
    rows: pl.DataFrame,
    actor: str,
    hold: float,
    details: Details,
    refilter: Refilter,
) -> None:
    """Split anomalous rows per (actor, file) at gaps longer than `hold` and add each run to its episode.

    Python runs once per run of anomalous messages (rare), never per message.
    """
    if rows.height == 0:
        return
    rows = rows.sort("time").with_columns(
        (pl.col("time").diff().over(actor, "file").fill_null(0.0) > hold)
        .cast(pl.Int32)
        .cum_sum()
        .over(actor, "file")
        .alias("_run")
    )
    runs = rows.group_by(actor, "file", "_run").agg(pl.col("time").min().alias("_t0")).sort("_t0")
    for who, file, run, _ in runs.iter_rows():
        part = rows.filter((pl.col(actor) == who) & (pl.col("file") == file) & (pl.col("_run") == run))
        book.add_rows(rule, str(who), int(file), part, hold, details, refilter)


class ProtocolRules:
    """Per-protocol rules. Subclasses define RULES, rate rules and the tuple-novelty logic."""

    protocol: str = ""
    RULES: dict[str, str] = {}
    RATE_WORDS: dict[str, str] = {}  # rate rule -> what is counted, in plain words

    def rate_rules(self) -> list[RateRule]:
        return []

    def prepare(self, table: pl.DataFrame) -> pl.DataFrame:
        """Derived columns both learning and detection need (may update connection state)."""
        return table

    def learn(self, table: pl.DataFrame) -> None:
        raise NotImplementedError

    def detect(self, table: pl.DataFrame, enabled: set[str], book: EpisodeBook, hold: float) -> None:
        raise NotImplementedError

    def additions(self, ep: Episode) -> dict[str, list[tuple[Any, ...]]]:
        """What an episode adds to the known sets when it becomes an alert (known-set name -> rows).
        The same rows are what accepting the alert as normal adds to a site's baseline."""
        return {}

    def close(self, ep: Episode) -> None:
        """An episode became an alert: what it showed is now known (alert once per new tuple)."""
        self.apply(self.additions(ep))

    def apply(self, adds: dict[str, list[Any]]) -> int:
        """Add rows to the named known sets (from `additions`, or from a site manifest: unknown names
        and malformed rows are refused, never executed); returns how many rows were given."""
        n = 0
        for name, rows in adds.items():
            known = getattr(self, name, None) if not name.startswith("_") else None
            if not isinstance(known, KnownSet):
                raise ValueError(f"{self.protocol} rules have no known set {name!r}")
            if any(not isinstance(r, list | tuple) or len(r) != len(known.schema) for r in rows):
                raise ValueError(f"rows for {self.protocol} {name} must have {len(known.schema)} values")
            known.add_tuples([tuple(r) for r in rows])
            n += len(rows)
        return n

    def describe(self, ep: Episode) -> tuple[str, str]:
        """(reason, severity) of a tuple-novelty episode."""
        raise NotImplementedError

    def describe_rate(self, ep: Episode, window: float) -> tuple[str, str]:
        what = self.RATE_WORDS.get(ep.rule, "messages")
        bins: dict[int, int] = ep.detail["bins"]
        total = sum(bins.values())
        peak = max(bins.values())
        learned = ep.detail.get("learned_peak")
        who = "" if ep.actor == "*" else f"{ep.actor} sent "
        base = (
            f"{who}{total} {what} in {len(bins)} window(s) of {window:g} s "
            f"(peak {peak} per window; threshold {ep.detail['thr']:.0f}; "
        )
        base += f"learned peak {learned:.0f})" if learned is not None else "never seen in learning)"
        details: dict[str, int] = {}
        for per_bin in ep.detail.get("details_by_bin", {}).values():
            for label, n in per_bin.items():
                details[label] = details.get(label, 0) + n
        if details:
            parts = [f"{n} {label}" for label, n in sorted(details.items(), key=lambda kv: -kv[1])]
            base += ": " + listing(parts, limit=4)
        senders: list[str] = []
        for _, top in sorted(ep.detail.get("senders_by_bin", {}).items()):
            senders.extend(x for x in top if x not in senders)
        if ep.actor == "*" and senders:
            base += "; top senders " + listing(senders, limit=3)
        ratio = peak / max(ep.detail["thr"], 1e-9)
        severity = "high" if ratio >= 3 else "medium"
        return base, severity

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def load(self, data: dict[str, Any]) -> None:
        raise NotImplementedError
