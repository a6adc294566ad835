"""Incidents: the alerts that belong together, grouped once by one rule, shown the same by every sink.

Two alerts belong to one incident when they are of the same protocol and capture file, their windows
overlap or lie within ADJACENT_S seconds of capture time (or they are consecutive chunks of one LSTM),
and they share an actor (a host or client id), or one of them names none. An incident is a connected
component of that relation, so the grouping does not depend on the order alerts arrive in: the engine
builds incidents as alerts come (`IncidentBook`), and a sink that re-flags at another sensitivity gets
the same incidents from `group_incidents` over the same alerts.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from spear_tui.events import Alert, Incident

ADJACENT_S = 2.0  # capture seconds between two alerts' windows that still make one incident
MAX_REASONS = 12  # distinct reasons an incident lists (its alerts keep all of theirs)
MAX_ACTORS = 24
MAX_JOINABLE = 2_000  # incidents per protocol and file that later alerts can still join (bounded work)
RANK = {"low": 0, "medium": 1, "high": 2}
LEAD_KEEP = 64  # an incident's worst alerts its headline, reasons and actors are drawn from
_TIEBREAK = itertools.count()  # orders alerts whose lead order is equal (their content is too)


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


def content(inc: Incident) -> tuple:
    """What two sinks must agree on about an incident (not the ids, which follow arrival order)."""
    return (
        inc.protocol, inc.file, inc.start, inc.end, inc.first_frame, inc.last_frame, inc.severity,
        inc.detectors, inc.actors, inc.reasons, len(inc.alerts),
    )  # fmt: skip


@dataclass
class _Group:
    """One incident's alerts and what it shows, kept up to date alert by alert: a long incident (an
    attack lasting hours, thousands of chunk alerts) costs each new alert a bisect, not a sort of all."""

    id: int
    alerts: list[Alert] = field(default_factory=list)
    timeline: list[tuple] = field(default_factory=list)  # sorted (start, end, first_frame, detector, id)
    lead: list[tuple] = field(default_factory=list)  # the LEAD_KEEP worst: sorted (lead order, n, alert)
    detectors: set[str] = field(default_factory=set)
    span: tuple[float, float, int, int] = (math.inf, -math.inf, 2**62, -1)

    def add(self, a: Alert) -> None:
        self.alerts.append(a)
        bisect.insort(self.timeline, (a.start, a.end, a.first_frame, a.detector, a.id))
        bisect.insort(self.lead, (_lead_order(a), next(_TIEBREAK), a))
        del self.lead[LEAD_KEEP:]
        self.detectors.update((a.detector, *a.detectors))
        start, end, first, last = self.span
        self.span = (min(start, a.start), max(end, a.end), min(first, a.first_frame), max(last, a.last_frame))

    def incident(self, absorbed: tuple[int, ...] = ()) -> Incident:
        """Every field but the ids depends only on the set of alerts (the worst LEAD_KEEP of them for the
        headline, reasons and actors)."""
        worst = [entry[2] for entry in self.lead]
        lead = worst[0]
        start, end, first, last = self.span
        return Incident(
            id=self.id, protocol=lead.protocol, file=lead.file, source=lead.source, start=start, end=end,
            first_frame=first, last_frame=last, severity=lead.severity,
            detectors=tuple(sorted(self.detectors)),
            actors=_unique((actor(t) for a in worst for t in a.talkers), MAX_ACTORS),
            reasons=_unique((a.reason for a in worst), MAX_REASONS),
            alerts=tuple(entry[4] for entry in self.timeline), absorbed=absorbed,
        )  # fmt: skip


class IncidentBook:
    """Groups alerts into incidents as they arrive; `add` returns the incident that changed."""

    def __init__(self, first_id: int = 1) -> None:
        self._next = first_id
        self._open: dict[tuple[str, int], list[_Group]] = {}
        self.incidents: dict[int, Incident] = {}  # every incident, by id (absorbed ones removed)

    def add(self, alert: Alert) -> Incident:
        groups = self._open.setdefault((alert.protocol, alert.file), [])
        hits = [g for g in groups if any(belong_together(alert, b) for b in g.alerts)]
        merged: list[_Group] = []
        if hits:
            keep, *merged = sorted(hits, key=lambda g: g.id)
            for g in merged:
                for a in g.alerts:
                    keep.add(a)
                groups.remove(g)
                self.incidents.pop(g.id, None)
        else:
            keep = _Group(self._next)
            self._next += 1
            groups.append(keep)
            if len(groups) > MAX_JOINABLE:  # the longest-ended one is final from now on
                groups.remove(min(groups, key=lambda g: g.span[1]))
        keep.add(alert)
        inc = keep.incident(tuple(g.id for g in merged))
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
