"""Per-protocol summaries for reports and `review`, computed from the events themselves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from spear_tui.events import Alert, ChunkScored


def summarise(
    chunks: Iterable[ChunkScored],
    alerts: Iterable[Alert],
    counters: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """{protocol: {column: value}} in display order. `counters` is `StoreReader.counters()` (messages
    seen, skipped by reason); without it those columns are left out."""
    by_proto: dict[str, list[ChunkScored]] = {}  # the flow LSTM's series ("lstm") per protocol
    other: dict[str, dict[str, int]] = {}  # protocol -> another view ("rhythm") -> its flagged chunks
    for c in chunks:
        if c.detector == "lstm":
            by_proto.setdefault(c.protocol, []).append(c)
        else:
            views = other.setdefault(c.protocol, {})
            views[c.detector] = views.get(c.detector, 0) + int(c.flagged)
    alerts_by: dict[str, list[Alert]] = {}
    for a in alerts:
        alerts_by.setdefault(a.protocol, []).append(a)
    protos = sorted(set(by_proto) | set(other) | set(alerts_by) | set(counters or {}))
    out: dict[str, dict[str, Any]] = {}
    for p in protos:
        cs = by_proto.get(p, [])
        scores = np.array([c.score for c in cs], dtype=float)
        finite = scores[np.isfinite(scores)]
        row: dict[str, Any] = {}
        if counters is not None:
            cnt = counters.get(p, {})
            row["messages"] = int(cnt.get("messages", 0))
            row["skipped"] = int(sum(cnt.get("skipped", {}).values()))
        row["chunks"] = len(cs)
        row["flagged chunks"] = sum(1 for c in cs if c.flagged)
        for view, flagged in sorted(other.get(p, {}).items()):
            row[f"{view} flagged chunks"] = flagged
        row["alerts"] = len(alerts_by.get(p, []))
        row["median score"] = float(np.median(finite)) if finite.size else None
        row["max score"] = float(finite.max()) if finite.size else None
        talkers = Counter(t for a in alerts_by.get(p, []) for t in a.talkers)
        row["alert talkers"] = ", ".join(t for t, _ in talkers.most_common(5))
        out[p] = row
    return out
