"""The shared outbox and pause (engines/outbox.py): durable sinks first, one error line, coalescing."""

from __future__ import annotations

import threading

from spear_tui.engines.outbox import Gate, Outbox, one_line
from spear_tui.errors import UserError
from spear_tui.events import EngineError, MessagesSeen, SourceProgress


class Clock:
    """A hand-moved clock: the outbox's interval is tested without sleeping."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def seen(n: int) -> MessagesSeen:
    return MessagesSeen("mqtt", n, 0.0, 1.0)


def test_durable_sinks_get_each_batch_before_the_display() -> None:
    order: list[tuple[str, list[object]]] = []
    out = Outbox(
        lambda b: order.append(("display", list(b))),
        [lambda b: order.append(("store", list(b))), lambda b: order.append(("copy", list(b)))],
    )
    out.add(seen(1))
    out.add(seen(2))
    out.flush()
    assert [who for who, _ in order] == ["store", "copy", "display"]
    assert all(batch == [seen(1), seen(2)] for _, batch in order)


def test_a_failing_durable_sink_is_one_line_and_stops_the_engine() -> None:
    stopped = threading.Event()
    shown: list[list[object]] = []
    kept: list[list[object]] = []

    def disk_full(batch: list[object]) -> None:
        raise UserError("cannot write alert store x.db: disk full (no space left on device)")

    out = Outbox(shown.append, [disk_full, kept.append], on_failure=stopped.set)
    out.add(seen(1))
    out.flush()
    out.add(seen(2))
    out.flush()
    line = EngineError("cannot write alert store x.db: disk full (no space left on device)")
    errors = [e for b in shown for e in b if isinstance(e, EngineError)]
    assert errors == [line]  # one line, once: the failed sink is dropped, not retried
    assert stopped.is_set() and out.failed
    # the other durable sink still records, the error line too (a store keeps it for review)
    assert kept == [[seen(1), line], [seen(2)]]
    assert shown == kept


def test_internal_errors_are_one_line_with_their_type() -> None:
    assert one_line(ValueError("bad\nsecond line")) == "internal error: ValueError: bad"
    assert one_line(UserError("no such file: x.pcap")) == "no such file: x.pcap"


def test_deliveries_are_at_most_one_per_interval() -> None:
    clock = Clock()
    batches: list[list[object]] = []
    out = Outbox(batches.append, interval=0.1, clock=clock)
    for i in range(50):
        clock.t = i * 0.01  # 50 events over 0.5 s
        out.add(seen(i))
    out.flush()
    assert len(batches) <= 0.5 / 0.1 + 1
    assert [e.messages for b in batches for e in b] == list(range(50))  # nothing lost, in order


def test_coalesced_events_keep_only_the_latest_and_never_land_after_a_newer_one() -> None:
    clock = Clock()
    batches: list[list[object]] = []
    out = Outbox(batches.append, interval=1.0, clock=clock)
    for i in range(5):
        out.add(SourceProgress("x", float(i), 10.0), coalesce=True)
    out.flush()
    assert batches == [[SourceProgress("x", 4.0, 10.0)]]
    out.add(SourceProgress("x", 5.0, 10.0), coalesce=True)
    out.add(SourceProgress("x", 10.0, 10.0, done=True))  # not coalesced: the older one must go
    out.flush()
    assert batches[1] == [SourceProgress("x", 10.0, 10.0, done=True)]


def test_gate_holds_while_paused_delivering_meanwhile_and_lets_go_on_stop() -> None:
    gate, stop = Gate(), threading.Event()
    batches: list[list[object]] = []
    out = Outbox(batches.append, interval=0.0)
    assert gate.hold(out, stop) and not gate.paused
    gate.pause()
    out.pending.append(seen(1))  # queued before the pause: still delivered while held
    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(gate.hold(out, stop)))
    worker.start()
    worker.join(0.3)
    assert worker.is_alive() and batches == [[seen(1)]]
    gate.resume()
    worker.join(5)
    assert result == [True]
    gate.pause()
    worker = threading.Thread(target=lambda: result.append(gate.hold(out, stop)))
    worker.start()
    stop.set()
    worker.join(5)
    assert result == [True, False]
