"""The learning period of detectors that started without a site: where it stands and what it learned.

Shown instead of alerts while it lasts (scan's JSON `"learning"`, the console header). Novelty rules
learn for `learn_seconds` of capture time and raise nothing meanwhile; a fresh LSTM scores its first
`warmup_chunks` chunks without a threshold, so it cannot flag them.
"""

from __future__ import annotations

import math
from typing import Any

from spear_tui.site.summary import rules_items


def detector_learning(det: Any) -> dict[str, Any] | None:
    """One detector's learning period (None: it started from a site and does not learn first)."""
    if det.name == "novelty" and det.learn_seconds is not None:
        start = det.learn_start
        seconds = det.learn_seconds
        end = det.learn_end if not det.learning else None
        return {
            "kind": "capture seconds",
            "seconds": seconds,
            "start": start,
            "until": (start + seconds) if (start is not None and seconds is not None) else None,
            "done": not det.learning,
            "ended": end,
            "messages": det.learned_messages,
            "learned": rules_items(det.protocol, det.rules),
        }
    if det.name != "novelty" and getattr(det, "baseline_skip", 0):  # a fresh net (any LSTM view) learns first
        warm = int(det.cfg.warmup_chunks)
        return {
            "kind": "chunks",
            "chunks": warm,
            "messages": warm * int(det.cfg.chunk),
            "scored": min(len(det.scores), warm),
            "done": len(det.scores) >= warm,
        }
    return None


def learning_report(detectors: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    """Per protocol and detector: the learning period (only protocols whose traffic was seen)."""
    out: dict[str, dict[str, Any]] = {}
    for protocol, dets in detectors.items():
        entry = {}
        for det in dets:
            info = detector_learning(det)
            if info is not None:
                entry[det.name] = info
        if entry:
            out[protocol] = entry
    return out


def seconds_left(detectors: dict[str, list[Any]], now: float | None) -> float | None:
    """Capture seconds left in the longest unfinished novelty learning period (None: not learning)."""
    left = None
    for dets in detectors.values():
        for det in dets:
            if det.name != "novelty" or not det.learning or det.learn_seconds is None:
                continue
            start = det.learn_start
            if start is None:
                continue  # no traffic of this protocol yet: nothing is being learned
            at = now if now is not None else getattr(det, "_now", None)
            if at is None or not math.isfinite(at):
                rest = det.learn_seconds
            else:
                rest = max(0.0, start + det.learn_seconds - at)
            left = rest if left is None else max(left, rest)
    return left


def learned_lines(detectors: dict[str, list[Any]]) -> list[str]:
    """One line per protocol whose novelty rules learned from traffic in this run (not from a site)."""
    out = []
    for protocol, dets in detectors.items():
        for det in dets:
            if det.name != "novelty" or det.learn_seconds is None or det.learn_start is None:
                continue
            items = rules_items(protocol, det.rules)
            parts = [f"{v['count']} {k.replace('_', ' ')}" for k, v in items.items()]
            out.append(f"{protocol}: {det.learned_messages} messages, " + ", ".join(parts))
    return out
