"""Incidents: the alerts that belong together, grouped once by one rule, shown the same by every sink.

Two alerts belong to one incident when they are of the same protocol and capture file, their windows
overlap or lie within ADJACENT_S seconds of capture time (or they are consecutive chunks of one LSTM),
and they share an actor (a host or client id), or one of them names none. An incident is a connected
component of that relation, so the grouping does not depend on the order alerts arrive in: the engine
builds incidents as alerts come (`IncidentBook`), and a sink that re-flags at another sensitivity gets
the same incidents from `group_incidents` over the same alerts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from spear_tui.events import Alert, Incident

ADJACENT_S = 2.0  # capture seconds between two alerts' windows that still make one incident
MAX_REASONS = 12  # distinct reasons an incident lists (its alerts keep all of theirs)
MAX_ACTORS = 24
MAX_JOINABLE = 2_000  # incidents per protocol and file that later alerts can still join (bounded work)
RANK = {"low": 0, "medium": 1, "high": 2}


def actor(talker: str) -> str:
    """The host or client id a talker label names ("127.66.0.5 (27 client ids)" -> "127.66.0.5")."""
    head, sep, tail = talker.rpartition(" (")
    return head if sep and tail.endswith(")") and head else talker


def _actors(a: Alert) -> frozenset[str]:
    return frozenset(actor(t) for t in a.talkers)


def belong_together(a: Alert, b: Alert) -> bool:
    """The pairwise rule; incidents are its connected components."""
    if a.protocol != b.protocol or a.file != b.file:
        return False
    gap = max(a.start, b.start) - min(a.end, b.end)
    chunks = a.chunk >= 0 and b.chunk >= 0 and a.detector == b.detector and abs(a.chunk - b.chunk) <= 1
    if gap > ADJACENT_S and not chunks:
        return False
    mine, theirs = _actors(a), _actors(b)
    return not mine or not theirs or not mine.isdisjoint(theirs)


def _lead_order(a: Alert) -> tuple:
    """Most severe first; at equal severity a rule's reason (who did what) before a chunk score's (a loss
    some SDs above its baseline): the headline is what a user acts on."""
    return (-RANK.get(a.severity, 1), a.chunk >= 0, a.start, a.first_frame, a.detector, a.reason)


def _unique(items: Iterable[str], limit: int) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for x in items:
        if len(out) >= limit:
            break
        out.setdefault(x, None)
    return tuple(out)


def incident_of(id: int, alerts: Iterable[Alert], absorbed: tuple[int, ...] = ()) -> Incident:
    """An incident of `alerts`; every field but the ids depends only on the set of alerts."""
    group = sorted(alerts, key=_lead_order)
    lead = group[0]
    in_time = sorted(group, key=lambda a: (a.start, a.end, a.first_frame, a.detector, a.id))
    return Incident(
        id=id,
        protocol=lead.protocol,
        file=lead.file,
        source=lead.source,
        start=min(a.start for a in group),
        end=max(a.end for a in group),
        first_frame=min(a.first_frame for a in group),
        last_frame=max(a.last_frame for a in group),
        severity=lead.severity,
        detectors=tuple(sorted({d for a in group for d in (a.detector, *a.detectors)})),
        actors=_unique((actor(t) for a in group for t in a.talkers), MAX_ACTORS),
        reasons=_unique((a.reason for a in group), MAX_REASONS),
        alerts=tuple(a.id for a in in_time),
        absorbed=absorbed,
    )


def content(inc: Incident) -> tuple:
    """What two sinks must agree on about an incident (not the ids, which follow arrival order)."""
    return (
        inc.protocol, inc.file, inc.start, inc.end, inc.first_frame, inc.last_frame, inc.severity,
        inc.detectors, inc.actors, inc.reasons, len(inc.alerts),
    )  # fmt: skip


@dataclass
class _Group:
    id: int
    alerts: list[Alert] = field(default_factory=list)


class IncidentBook:
    """Groups alerts into incidents as they arrive; `add` returns the incident that changed."""

    def __init__(self, first_id: int = 1) -> None:
        self._next = first_id
        self._open: dict[tuple[str, int], list[_Group]] = {}
        self.incidents: dict[int, Incident] = {}  # every incident, by id (absorbed ones removed)

    def add(self, alert: Alert) -> Incident:
        groups = self._open.setdefault((alert.protocol, alert.file), [])
        hits = [g for g in groups if any(belong_together(alert, b) for b in g.alerts)]
        if hits:
            keep, *merged = sorted(hits, key=lambda g: g.id)
            for g in merged:
                keep.alerts.extend(g.alerts)
                groups.remove(g)
                self.incidents.pop(g.id, None)
        else:
            keep = _Group(self._next)
            self._next += 1
            groups.append(keep)
            if len(groups) > MAX_JOINABLE:  # the longest-ended one is final from now on
                groups.remove(min(groups, key=lambda g: max(a.end for a in g.alerts)))
        keep.alerts.append(alert)
        inc = incident_of(keep.id, keep.alerts, tuple(g.id for g in merged) if hits else ())
        self.incidents[keep.id] = inc
        return inc

    def sorted(self) -> list[Incident]:
        return sorted(self.incidents.values(), key=lambda i: (i.start, i.protocol, i.file, i.id))


def group_incidents(alerts: Iterable[Alert]) -> list[Incident]:
    """The incidents of a set of alerts (in time order), as the engine would have built them."""
    book = IncidentBook()
    for a in sorted(alerts, key=lambda a: (a.start, a.end, a.first_frame, a.detector, a.id)):
        book.add(a)
    return book.sorted()


class IncidentLedger:
    """What a sink keeps of the engine's incident events: the latest version of each, merges applied."""

    def __init__(self) -> None:
        self.incidents: dict[int, Incident] = {}

    def apply(self, inc: Incident) -> None:
        for old in inc.absorbed:
            self.incidents.pop(old, None)
        self.incidents[inc.id] = inc

    def sorted(self) -> list[Incident]:
        return sorted(self.incidents.values(), key=lambda i: (i.start, i.protocol, i.file, i.id))


class IncidentStage:
    """The engine's step between detectors and sinks: numbers each alert and follows it with the
    incident it joined. Every engine (and the console's test harness) passes its events through one."""

    def __init__(self) -> None:
        self.book = IncidentBook()
        self.alerts = 0

    def __call__(self, events: Iterable[object]) -> list:
        out: list = []
        for ev in events:
            if isinstance(ev, Alert) and ev.id == 0:  # numbered already: it went through an engine
                self.alerts += 1
                ev = dataclasses.replace(ev, id=self.alerts, detectors=(ev.detector,))
                out.append(ev)
                out.append(self.book.add(ev))
            else:
                out.append(ev)
        return out
