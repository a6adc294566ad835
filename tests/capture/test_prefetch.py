"""ReadAhead: the source's batches decoded in a thread of their own, in order, bounded, stoppable."""

from __future__ import annotations

import threading
import time

import pytest

from spear_tui.capture.prefetch import ReadAhead


def test_items_arrive_in_order_and_all_of_them():
    assert list(ReadAhead(iter(range(1000)), depth=3)) == list(range(1000))


def test_an_error_in_the_source_is_raised_in_the_consumer_after_the_items_before_it():
    def source():
        yield 1
        yield 2
        raise ValueError("tshark died")

    got = []
    with pytest.raises(ValueError, match="tshark died"):
        for item in ReadAhead(source()):
            got.append(item)
    assert got == [1, 2]


def test_the_producer_stays_at_most_depth_items_ahead():
    produced = []

    def source():
        for i in range(100):
            produced.append(i)
            yield i

    it = iter(ReadAhead(source(), depth=4))
    assert next(it) == 0
    time.sleep(0.3)  # give the producer every chance to run ahead
    # one handed out, four queued, one produced and waiting for a free place
    assert len(produced) <= 1 + 4 + 1


def test_close_ends_a_blocked_producer_and_closes_the_source_in_its_thread():
    closed = threading.Event()

    def source():
        try:
            yield from range(10**9)
        finally:
            closed.set()

    reader = ReadAhead(source(), depth=2)
    it = iter(reader)
    assert next(it) == 0
    reader.close()
    assert closed.wait(2.0)
    assert list(it) in ([], [1], [1, 2], [1, 2, 3])  # what was queued may still be handed out, then it ends
