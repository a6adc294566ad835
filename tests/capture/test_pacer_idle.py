"""Idle gaps longer than max_idle are shortened, so a replay of captures taken apart never sits silent."""

import threading

from spear_tui.capture.batch import Batch
from spear_tui.capture.pacer import ReplayPacer


def _batches(times):
    return [Batch({}, {}, 0, t) for t in times]


def _drain(pacer: ReplayPacer, timeout: float = 60.0) -> list[float]:
    out: list[float] = []
    worker = threading.Thread(target=lambda: out.extend(b.position for b in pacer), daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        pacer.stop()
        raise AssertionError("the pacer waited out the whole recorded gap")
    return out


def test_long_gap_is_shortened_to_max_idle():
    times = [1000.0, 1000.01, 1600.0, 1600.01]  # ten minutes of silence between two captures
    pacer = ReplayPacer(_batches(times), speed=1.0, max_idle=0.05)
    assert _drain(pacer) == times  # every batch, in order
    # the anchor moved by the gap less the allowed idle time: the replay clock skipped the silence
    assert abs(pacer._anchor[0] - (1000.0 + (600.0 - 0.01) - 0.05)) < 1e-6


def test_short_gaps_and_no_limit_keep_recorded_timing():
    pacer = ReplayPacer(_batches([5.0, 5.02, 5.04]), speed=1.0, max_idle=0.05)
    _drain(pacer)
    assert pacer._anchor[0] == 5.0  # no gap exceeded the limit: the anchor never moved
    unlimited = ReplayPacer(_batches([5.0, 5.02]), speed=1.0, max_idle=None)
    _drain(unlimited)
    assert unlimited._anchor[0] == 5.0
