"""Episodes: what turns many anomalous messages into one alert.

Every rule reports anomalous messages grouped by an actor (a host, a client id, "all hosts").
Messages of the same (rule, actor, file) join one episode; it closes — and becomes one alert — when
the next anomalous message of that actor comes more than `hold` seconds after the last one, when it
has been open `max_hold` seconds (a sustained attack yields one alert per `max_hold`, not one per
message), when capture time moves past those limits, or on flush. Decisions use message times
only, so the alerts do not depend on how the messages were cut into batches or on replay speed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from spear_tui.scalars import num, whole


@dataclass
class Episode:
    rule: str
    actor: str
    file: int
    start: float
    end: float
    first_frame: int
    last_frame: int
    hold: float
    count: int = 0
    talkers: set[str] = field(default_factory=set)
    # rule-specific details (new tuples seen, per-window counts, thresholds)
    detail: dict[str, Any] = field(default_factory=dict)


Details = Callable[[Episode, pl.DataFrame], None]
Refilter = Callable[[pl.DataFrame], pl.DataFrame]


class EpisodeBook:
    """Open episodes; every closed one is handed to `on_close` (which turns it into an alert)."""

    def __init__(self, max_hold: float, on_close: Callable[[Episode], None]) -> None:
        self.max_hold = max_hold
        self.on_close = on_close
        self.open: dict[tuple[str, str, int], Episode] = {}

    def _current(self, rule: str, actor: str, file: int, t0: float) -> Episode | None:
        """The open episode a message at t0 joins; closes it first if t0 is past its limits."""
        ep = self.open.get((rule, actor, file))
        if ep is not None and (t0 - ep.end > ep.hold or t0 - ep.start >= self.max_hold):
            del self.open[(rule, actor, file)]
            self.on_close(ep)
            return None
        return ep

    def touch(
        self,
        rule: str,
        actor: str,
        file: int,
        start: float,
        end: float,
        first_frame: int,
        last_frame: int,
        count: int,
        talkers: list[str] | None,
        hold: float,
    ) -> Episode:
        """Add one atomic group (a rate window) to the actor's episode, opening one if needed."""
        ep = self._current(rule, actor, file, start)
        if ep is None:
            ep = Episode(rule, actor, file, start, end, first_frame, last_frame, hold)
            self.open[(rule, actor, file)] = ep
        ep.start, ep.end = min(ep.start, start), max(ep.end, end)
        ep.first_frame, ep.last_frame = min(ep.first_frame, first_frame), max(ep.last_frame, last_frame)
        ep.count += count
        ep.talkers.update(t for t in (talkers or ()) if t)
        return ep

    def add_rows(
        self,
        rule: str,
        actor: str,
        file: int,
        rows: pl.DataFrame,
        hold: float,
        details: Details,
        refilter: Refilter,
    ) -> None:
        """Add one actor's anomalous rows (sorted by time, no gap over `hold`) to its episodes."""
        while rows.height:
            ep = self._current(rule, actor, file, float(rows["time"][0]))
            if ep is None:
                rows = refilter(rows)  # an alert that just closed may have made these known
                if rows.height == 0:
                    return
                t0 = float(rows["time"][0])
                f0 = int(rows["frame"][0])
                ep = self.open[(rule, actor, file)] = Episode(rule, actor, file, t0, t0, f0, f0, hold)
            inside = rows.filter(pl.col("time") < ep.start + self.max_hold)
            rows = rows.slice(inside.height)
            ep.end = max(ep.end, num(inside["time"].max()))
            ep.first_frame = min(ep.first_frame, whole(inside["frame"].min()))
            ep.last_frame = max(ep.last_frame, whole(inside["frame"].max()))
            ep.count += inside.height
            ep.talkers.update(inside["src"].unique().to_list() + inside["dst"].unique().to_list())
            details(ep, inside)

    def due(self, now: float) -> None:
        """Close the episodes that are over at capture time `now`."""
        over = [ep for ep in self.open.values() if now - ep.end > ep.hold or now - ep.start >= self.max_hold]
        for ep in sorted(over, key=lambda e: (e.start, e.rule, e.actor)):
            del self.open[(ep.rule, ep.actor, ep.file)]
            self.on_close(ep)

    def drain(self) -> None:
        for ep in sorted(self.open.values(), key=lambda e: (e.start, e.rule, e.actor)):
            self.on_close(ep)
        self.open.clear()
