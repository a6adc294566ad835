"""Incidents: the pairwise rule, connected components whatever the arrival order, merges, sinks' ledger."""

from __future__ import annotations

import dataclasses
import itertools
import random

from spear_tui.events import Alert
from spear_tui.incidents import (
    ADJACENT_S,
    IncidentBook,
    IncidentLedger,
    IncidentStage,
    actor,
    belong_together,
    content,
    group_incidents,
)


def _alert(start: float, end: float, detector: str = "novelty", talkers=("10.0.0.5",), **kw) -> Alert:
    return Alert(
        kw.pop("protocol", "modbus"), detector, start, end, int(start * 10), int(end * 10), 1.0, 0.5,
        kw.pop("reason", f"{detector} at {start}"), tuple(talkers), **kw,
    )  # fmt: skip


def test_actor_strips_the_client_id_count_only() -> None:
    assert actor("127.66.0.5 (27 client ids)") == "127.66.0.5"
    assert actor("dashboard-wall") == "dashboard-wall"
    assert actor("x (y") == "x (y"  # not a count: kept whole


def test_the_pairwise_rule() -> None:
    a = _alert(0, 5)
    assert belong_together(a, _alert(3, 9, "lstm"))  # overlapping
    assert belong_together(a, _alert(5 + ADJACENT_S, 9))  # adjacent
    assert not belong_together(a, _alert(5 + ADJACENT_S + 0.1, 9))  # too far apart
    assert not belong_together(a, _alert(1, 2, talkers=("10.0.0.9",)))  # nobody in common
    assert belong_together(a, _alert(1, 2, talkers=()))  # an alert naming nobody joins on time
    assert belong_together(a, _alert(1, 2, talkers=("10.0.0.5 (3 client ids)",)))
    assert not belong_together(a, _alert(1, 2, protocol="mqtt"))
    assert not belong_together(a, _alert(1, 2, file=1))
    # consecutive LSTM chunks belong together even when a quiet gap lies between their messages
    c1, c2 = _alert(0, 5, "lstm", chunk=3), _alert(60, 70, "lstm", chunk=4)
    assert belong_together(c1, c2) and not belong_together(c1, dataclasses.replace(c2, chunk=5))


def test_a_bridging_alert_merges_two_incidents_and_sinks_drop_the_absorbed_one() -> None:
    book = IncidentBook()
    ledger = IncidentLedger()
    first = book.add(dataclasses.replace(_alert(0, 1), id=1))
    second = book.add(dataclasses.replace(_alert(10, 11, "lstm"), id=2))
    assert first.id != second.id
    for inc in (first, second):
        ledger.apply(inc)
    bridge = book.add(dataclasses.replace(_alert(1, 10, reason="a long scan", severity="high"), id=3))
    assert bridge.id == first.id and bridge.absorbed == (second.id,)
    ledger.apply(bridge)
    (only,) = ledger.sorted()
    assert only.alerts == (1, 3, 2) and only.detectors == ("lstm", "novelty")
    assert only.severity == "high" and only.reasons[0] == "a long scan"  # the worst alert leads
    assert (only.start, only.end, only.first_frame, only.last_frame) == (0, 11, 0, 110)


def test_incidents_do_not_depend_on_arrival_order() -> None:
    rng = random.Random(1)
    alerts = []
    for n in range(40):
        start = rng.uniform(0, 300)
        alerts.append(dataclasses.replace(
            _alert(start, start + rng.uniform(0, 8), rng.choice(["lstm", "novelty"]),
                   talkers=(rng.choice(["a", "b", "c"]),), severity=rng.choice(["low", "medium", "high"])),
            id=n + 1,
        ))  # fmt: skip
    want = sorted(content(i) for i in group_incidents(alerts))
    assert 1 < len(want) < len(alerts)  # some group, some do not
    for _ in range(20):
        order = alerts[:]
        rng.shuffle(order)
        book = IncidentBook()
        for a in order:
            book.add(a)
        assert sorted(content(i) for i in book.incidents.values()) == want
        # every alert is in exactly one incident
        ids = sorted(itertools.chain.from_iterable(i.alerts for i in book.incidents.values()))
        assert ids == list(range(1, len(alerts) + 1))


def test_the_stage_numbers_alerts_once_and_follows_each_with_its_incident() -> None:
    stage = IncidentStage()
    out = stage([_alert(0, 1), "other", _alert(0.5, 2, "lstm")])
    assert [type(e).__name__ for e in out] == ["Alert", "Incident", "str", "Alert", "Incident"]
    assert (out[0].id, out[3].id) == (1, 2) and out[3].detectors == ("lstm",)
    assert out[4].alerts == (1, 2)
    again = stage([out[0]])  # numbered already (it went through an engine): passed on as it is
    assert again == [out[0]]


def test_the_headline_is_the_worst_alert_and_a_rules_reason_before_a_chunk_score() -> None:
    chunk = dataclasses.replace(_alert(0, 5, "lstm", severity="high", reason="loss 9 SDs up"), id=1, chunk=5)
    rule = dataclasses.replace(_alert(1, 4, severity="high", reason="10.0.0.5 wrote a coil"), id=2)
    low = dataclasses.replace(_alert(0, 1, severity="low", reason="a low one"), id=3)
    (inc,) = group_incidents([chunk, rule, low])
    assert inc.reasons == ("10.0.0.5 wrote a coil", "loss 9 SDs up", "a low one")


def test_a_long_incident_lists_every_alert_and_draws_its_words_from_the_worst() -> None:
    """Thousands of chunk alerts in one incident (a flood lasting hours): every alert is listed in time
    order, the headline is the worst alert's, reasons and actors are bounded."""
    from spear_tui.incidents import LEAD_KEEP, MAX_ACTORS, MAX_REASONS

    rng = random.Random(3)
    alerts = [
        dataclasses.replace(
            _alert(i * 10.0, i * 10.0 + 9.9, "lstm", talkers=("10.0.0.5", f"client-{i % 50}"),
                   severity=rng.choice(["medium", "medium", "high"]), reason=f"chunk {i} loss up"),
            id=i + 1, chunk=i,
        )
        for i in range(3000)
    ]  # fmt: skip
    order = alerts[:]
    rng.shuffle(order)
    book = IncidentBook()
    for a in order:
        inc = book.add(a)
    assert len(book.incidents) == 1 and inc.alerts == tuple(range(1, 3001))
    worst = sorted(alerts, key=lambda a: (a.severity != "high", a.start))[:LEAD_KEEP]
    assert inc.reasons[0] == worst[0].reason and inc.severity == "high"
    assert len(inc.reasons) == MAX_REASONS and len(inc.actors) <= MAX_ACTORS
    assert (inc.start, inc.end) == (0.0, 29999.9)
