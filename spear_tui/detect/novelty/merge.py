"""merge_alerts: one alert per incident, naming every detector that agrees.

Alerts of the same protocol and capture file whose [start, end] windows overlap — or come within
`slack_s` seconds of each other — are merged transitively. The merged alert keeps the lead alert's
detector, score and threshold (lead = highest severity, then earliest), spans all windows and frames,
unites talkers, lists every distinct reason, and sets `detectors` to every detector involved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from spear_tui.events import Alert

_RANK = {"low": 0, "medium": 1, "high": 2}


def _merged(group: list[Alert]) -> Alert:
    if len(group) == 1 and group[0].detectors:
        return group[0]
    lead = max(group, key=lambda a: (_RANK.get(a.severity, 1), -a.start))
    reasons: list[str] = []
    talkers: list[str] = []
    detectors: set[str] = set()
    for a in sorted(group, key=lambda a: (-_RANK.get(a.severity, 1), a.start)):
        if a.reason not in reasons:
            reasons.append(a.reason)
        talkers.extend(t for t in a.talkers if t not in talkers)
        detectors.update((a.detector, *a.detectors))
    return dataclasses.replace(
        lead,
        start=min(a.start for a in group),
        end=max(a.end for a in group),
        first_frame=min(a.first_frame for a in group),
        last_frame=max(a.last_frame for a in group),
        reason=" | ".join(reasons),
        talkers=tuple(talkers),
        detectors=tuple(sorted(detectors)),
    )


def merge_alerts(alerts: Iterable[Alert], slack_s: float) -> list[Alert]:
    """Merge overlapping alerts per (protocol, file); result sorted by start time."""
    by_key: dict[tuple[str, int], list[Alert]] = {}
    for a in alerts:
        by_key.setdefault((a.protocol, a.file), []).append(a)
    out: list[Alert] = []
    for group in by_key.values():
        group.sort(key=lambda a: (a.start, a.end))
        current = [group[0]]
        reach = group[0].end
        for a in group[1:]:
            if a.start <= reach + slack_s:
                current.append(a)
                reach = max(reach, a.end)
            else:
                out.append(_merged(current))
                current, reach = [a], a.end
        out.append(_merged(current))
    return sorted(out, key=lambda a: (a.start, a.protocol, a.file))
