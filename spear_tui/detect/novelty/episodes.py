"""Episodes: what turns many anomalous messages into one alert.

Every rule reports anomalous messages grouped by an actor (a host, a client id, "all hosts").
Messages of the same (rule, actor, file) join one open episode; it closes — and becomes one alert —
once `hold` seconds of capture time pass without a new anomalous message from that actor, when it
has been open `max_hold` seconds (a sustained attack then yields one alert per `max_hold`, not one
per message), or on flush. Times are capture times, so replay speed does not change the alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    # rule-specific details (sets of new tuples, per-window counts, thresholds)
    detail: dict[str, Any] = field(default_factory=dict)


class EpisodeBook:
    def __init__(self, max_hold: float) -> None:
        self.max_hold = max_hold
        self.open: dict[tuple[str, str, int], Episode] = {}

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
        """Add a group of anomalous messages to the actor's open episode (opening one if needed)."""
        key = (rule, actor, file)
        ep = self.open.get(key)
        if ep is None:
            ep = self.open[key] = Episode(rule, actor, file, start, end, first_frame, last_frame, hold)
        else:
            ep.start = min(ep.start, start)
            ep.end = max(ep.end, end)
            ep.first_frame = min(ep.first_frame, first_frame)
            ep.last_frame = max(ep.last_frame, last_frame)
        ep.count += count
        ep.talkers.update(t for t in (talkers or ()) if t)
        return ep

    def due(self, now: float) -> list[Episode]:
        """Pop the episodes that are over at capture time `now`."""
        out = [ep for ep in self.open.values() if now - ep.end > ep.hold or now - ep.start >= self.max_hold]
        for ep in out:
            del self.open[(ep.rule, ep.actor, ep.file)]
        return sorted(out, key=lambda e: (e.start, e.rule, e.actor))

    def drain(self) -> list[Episode]:
        out = sorted(self.open.values(), key=lambda e: (e.start, e.rule, e.actor))
        self.open.clear()
        return out
