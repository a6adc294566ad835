"""A whole-program scan's own threads give way to the tshark it pre-started.

Why: a big scan on two cores is CPU-bound. tshark needs one core to itself for the whole run (it is
the floor), while the decoder, the engine, the detectors and XLA's and polars' pool threads share the
other. At equal priority the scheduler gives them some of tshark's turns too: tshark ran at ~88% of a
core beside them, and the scan cannot end before tshark does. Ten nice levels lower, they leave tshark
its core and run beside it (burst bench capture: 5.57 -> 5.25 s wall, BENCHMARKS.md
"End-to-end scan"). Only for `scan` run as a program (not when a test or another tool calls it: the
priority cannot be raised back) and only when a tshark was pre-started (every later tshark inherits
the lower priority, so there is nothing to give way to).
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

DEFAULT_NICE = 10
ENV = "SPEAR_TUI_NICE"  # how many nice levels a scan's own threads give way by; 0: none


def nice_increment() -> int:
    """SPEAR_TUI_NICE as a whole number of nice levels (default DEFAULT_NICE; bad values: the default)."""
    raw = os.environ.get(ENV, "").strip()
    try:
        return max(0, min(19, int(raw))) if raw else DEFAULT_NICE
    except ValueError:
        return DEFAULT_NICE


def give_way() -> int:
    """Lower the calling thread's CPU priority by `nice_increment()` levels; on Linux a thread's nice
    value is its own and the threads it starts afterwards inherit it, while processes already
    started (the pre-started tshark, its stdout pump) keep theirs. Returns the levels applied."""
    levels = nice_increment()
    if levels == 0 or not hasattr(os, "nice"):
        return 0
    try:
        os.nice(levels)
    except OSError as exc:  # not allowed here: the scan runs as before
        log.debug("could not lower the scan's priority: %s", exc)
        return 0
    return levels
