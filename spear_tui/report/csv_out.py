"""CSV output of alerts and chunk scores, for spreadsheets and scripts.

Text cells are made inert (control/bidi characters escaped) and formula-guarded (see `text.cell`);
numbers are written as numbers, times both as epoch seconds and ISO UTC.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from spear_tui.events import Alert, ChunkScored, Incident
from spear_tui.report.files import atomic_write
from spear_tui.report.text import cell, utc

ALERT_HEADER = (
    "id", "start_utc", "end_utc", "start", "end", "protocol", "detector", "detectors", "severity", "score",
    "threshold", "first_frame", "last_frame", "file", "source", "talkers", "reason",
)  # fmt: skip
INCIDENT_HEADER = (
    "id", "start_utc", "end_utc", "start", "end", "protocol", "severity", "detectors", "alerts",
    "first_frame", "last_frame", "file", "source", "actors", "reason", "other_reasons",
)  # fmt: skip
CHUNK_HEADER = (
    "protocol", "index", "start_utc", "start", "end", "first_frame", "last_frame", "score", "train_loss",
    "flagged", "threshold", "file", "talkers", "detector",
)  # fmt: skip


def _write(path: str | Path, header: Sequence[str], rows: list[list[object]]) -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path = Path(path)
    atomic_write(path, buf.getvalue().encode("utf-8"))
    return path


def write_csv(path: str | Path, alerts: Mapping[int, Alert] | Sequence[Alert]) -> Path:
    """One row per alert. `alerts` is {store id: Alert} or a sequence (ids numbered from 1).
    Talkers and detectors are joined with `;`."""
    items = sorted(alerts.items()) if isinstance(alerts, Mapping) else list(enumerate(alerts, start=1))
    rows = [
        [
            i,
            utc(a.start),
            utc(a.end),
            a.start,
            a.end,
            cell(a.protocol),
            cell(a.detector),
            cell(";".join(a.detectors)),
            cell(a.severity),
            a.score,
            a.threshold,
            a.first_frame,
            a.last_frame,
            a.file,
            cell(a.source),
            cell(";".join(a.talkers)),
            cell(a.reason),
        ]  # fmt: skip
        for i, a in items
    ]
    return _write(path, ALERT_HEADER, rows)


def write_chunks_csv(path: str | Path, chunks: Sequence[ChunkScored]) -> Path:
    """One row per scored chunk (the loss series behind the report's plots); NaN written as empty."""

    def num(x: float | None) -> object:
        return "" if x is None or x != x else x

    rows = [
        [
            cell(c.protocol),
            c.index,
            utc(c.start),
            c.start,
            c.end,
            c.first_frame,
            c.last_frame,
            num(c.score),
            num(c.train_loss),
            int(c.flagged),
            num(c.threshold),
            c.file,
            cell(";".join(c.talkers)),
            cell(c.detector),
        ]  # fmt: skip
        for c in chunks
    ]
    return _write(path, CHUNK_HEADER, rows)


def write_incidents_csv(path: str | Path, incidents: Sequence[Incident]) -> Path:
    """One row per incident: its headline reason, the others joined with ` | `, alert ids with `;`."""
    rows = [
        [
            i.id, utc(i.start), utc(i.end), i.start, i.end, cell(i.protocol), cell(i.severity),
            cell(";".join(i.detectors)), cell(";".join(str(a) for a in i.alerts)), i.first_frame,
            i.last_frame, i.file, cell(i.source), cell(";".join(i.actors)),
            cell(i.reasons[0] if i.reasons else ""), cell(" | ".join(i.reasons[1:])),
        ]  # fmt: skip
        for i in incidents
    ]
    return _write(path, INCIDENT_HEADER, rows)
