"""On-disk layout of the alert store (SQLite) and the event <-> row mapping.

Kept apart from the writer and the reader so both agree on one definition. The file is recognised by
SQLite's `application_id` header field (not by its name) and versioned with `user_version`, so a
stranger's database or a store from a newer spear-tui is refused before anything is read or written.
"""

from __future__ import annotations

import json
from typing import Any

from spear_tui.events import Alert, ChunkScored, DayScored, DetectorStarted, Incident

APPLICATION_ID = 0x53504541  # "SPEA": marks the file as a spear-tui store
VERSION = 3  # 2: alerts.accept (what accepting the alert as normal adds to a site baseline)
# 3: incidents, detector rules (re-flagging a review at another k), alerts.eid/chunk, chunks.messages,
#    chunks.detector (a protocol's second LSTM view, e.g. "rhythm")

DDL = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,          -- wall-clock epoch seconds
    ended REAL,                     -- NULL: still running, or killed before close()
    meta TEXT NOT NULL,             -- JSON object given by the caller (command, options, ...)
    sources TEXT NOT NULL           -- JSON list of {path, size, mtime}; Alert.file indexes it
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL REFERENCES sessions(id),
    recorded REAL NOT NULL,
    protocol TEXT NOT NULL, detector TEXT NOT NULL,
    start REAL NOT NULL, "end" REAL NOT NULL,
    first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL,
    score REAL NOT NULL, threshold REAL NOT NULL,
    reason TEXT NOT NULL, talkers TEXT NOT NULL, severity TEXT NOT NULL,
    file INTEGER NOT NULL, source TEXT NOT NULL, detectors TEXT NOT NULL,
    accept TEXT NOT NULL DEFAULT '',
    eid INTEGER NOT NULL DEFAULT 0,  -- the engine's Alert.id (what incidents list)
    chunk INTEGER NOT NULL DEFAULT -1
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL REFERENCES sessions(id),
    protocol TEXT NOT NULL, idx INTEGER NOT NULL,
    start REAL NOT NULL, "end" REAL NOT NULL,
    first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL,
    score REAL, train_loss REAL,    -- NULL stands for NaN (a detector reset)
    flagged INTEGER NOT NULL, threshold REAL,
    file INTEGER NOT NULL, talkers TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    detector TEXT NOT NULL DEFAULT 'lstm'  -- ChunkScored.detector: which view of the protocol scored it
);
CREATE TABLE IF NOT EXISTS days (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL REFERENCES sessions(id),
    measurement TEXT NOT NULL, date TEXT NOT NULL,
    mse REAL, flagged INTEGER NOT NULL, complete INTEGER NOT NULL, threshold REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    session INTEGER NOT NULL REFERENCES sessions(id),
    protocol TEXT NOT NULL,
    kind TEXT NOT NULL,             -- "messages" or "skipped"
    reason TEXT NOT NULL,           -- skip reason ("" for messages)
    count INTEGER NOT NULL,
    PRIMARY KEY (session, protocol, kind, reason)
);
CREATE TABLE IF NOT EXISTS errors (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL REFERENCES sessions(id),
    recorded REAL NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS incidents (
    session INTEGER NOT NULL REFERENCES sessions(id),
    eid INTEGER NOT NULL,           -- Incident.id: a newer version of it replaces the row
    start REAL NOT NULL,
    body TEXT NOT NULL,             -- the Incident as JSON
    PRIMARY KEY (session, eid)
);
CREATE TABLE IF NOT EXISTS rules (
    session INTEGER NOT NULL REFERENCES sessions(id),
    protocol TEXT NOT NULL, detector TEXT NOT NULL,
    rule TEXT NOT NULL,             -- DetectorStarted.rule as JSON
    k REAL NOT NULL,
    PRIMARY KEY (session, protocol, detector)
);
CREATE INDEX IF NOT EXISTS alerts_session ON alerts(session);
CREATE INDEX IF NOT EXISTS chunks_session ON chunks(session, protocol, idx);
CREATE INDEX IF NOT EXISTS days_session ON days(session);
"""

ALERT_COLS = (
    'protocol, detector, start, "end", first_frame, last_frame, score, threshold, reason, talkers, '
    "severity, file, source, detectors, accept"
)
# Older stores lack columns: read them as their defaults (version -> what to select instead).
ALERT_COLS_OLD = {
    1: ALERT_COLS.replace("detectors, accept", "detectors, '' AS accept") + ", 0 AS eid, -1 AS chunk",
    2: ALERT_COLS + ", 0 AS eid, -1 AS chunk",
}
ALERT_COLS += ", eid, chunk"
MIGRATIONS = {
    1: ["ALTER TABLE alerts ADD COLUMN accept TEXT NOT NULL DEFAULT ''"],
    2: [
        "ALTER TABLE alerts ADD COLUMN eid INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE alerts ADD COLUMN chunk INTEGER NOT NULL DEFAULT -1",
        "ALTER TABLE chunks ADD COLUMN messages INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE chunks ADD COLUMN detector TEXT NOT NULL DEFAULT 'lstm'",
    ],  # the incidents and rules tables come from DDL (CREATE TABLE IF NOT EXISTS)
}
CHUNK_COLS = (
    'protocol, idx, start, "end", first_frame, last_frame, score, train_loss, flagged, threshold, '
    "file, talkers, messages, detector"
)
CHUNK_COLS_OLD = CHUNK_COLS.replace(
    "talkers, messages, detector", "talkers, 0 AS messages, 'lstm' AS detector"
)
DAY_COLS = "measurement, date, mse, flagged, complete, threshold"


def _num(x: float | None) -> float | None:
    """SQLite stores NaN as NULL anyway; make that explicit so the reader maps it back."""
    if x is None or x != x:
        return None
    return float(x)


def _unnum(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def alert_row(a: Alert) -> tuple[Any, ...]:
    return (
        a.protocol, a.detector, a.start, a.end, int(a.first_frame), int(a.last_frame),
        float(a.score), float(a.threshold), a.reason, json.dumps(list(a.talkers)), a.severity,
        int(a.file), a.source, json.dumps(list(a.detectors)), a.accept, int(a.id), int(a.chunk),
    )  # fmt: skip


def row_alert(r: tuple[Any, ...]) -> Alert:
    return Alert(
        protocol=r[0], detector=r[1], start=r[2], end=r[3], first_frame=r[4], last_frame=r[5],
        score=r[6], threshold=r[7], reason=r[8], talkers=tuple(json.loads(r[9])), severity=r[10],
        file=r[11], source=r[12], detectors=tuple(json.loads(r[13])), accept=r[14] or "", id=r[15],
        chunk=r[16],
    )  # fmt: skip


def chunk_row(c: ChunkScored) -> tuple[Any, ...]:
    return (
        c.protocol, int(c.index), c.start, c.end, int(c.first_frame), int(c.last_frame), _num(c.score),
        _num(c.train_loss), int(bool(c.flagged)), _num(c.threshold), int(c.file), json.dumps(list(c.talkers)),
        int(c.messages), c.detector,
    )  # fmt: skip


def row_chunk(r: tuple[Any, ...]) -> ChunkScored:
    return ChunkScored(
        protocol=r[0], index=r[1], start=r[2], end=r[3], first_frame=r[4], last_frame=r[5],
        score=_unnum(r[6]), train_loss=_unnum(r[7]), flagged=bool(r[8]), threshold=r[9], file=r[10],
        talkers=tuple(json.loads(r[11])), messages=r[12], detector=r[13],
    )  # fmt: skip


def day_row(d: DayScored) -> tuple[Any, ...]:
    return (
        d.measurement,
        d.date,
        _num(d.mse),
        int(bool(d.flagged)),
        int(bool(d.complete)),
        float(d.threshold),
    )


def row_day(r: tuple[Any, ...]) -> DayScored:
    return DayScored(
        measurement=r[0], date=r[1], mse=_unnum(r[2]), flagged=bool(r[3]), complete=bool(r[4]), threshold=r[5]
    )


def incident_row(i: Incident) -> tuple[Any, ...]:
    body = {f: getattr(i, f) for f in Incident.__dataclass_fields__ if f != "absorbed"}
    return (int(i.id), float(i.start), json.dumps(body))


def row_incident(body: str) -> Incident:
    d: dict[str, Any] = json.loads(body)
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return Incident(**fields)


def rule_row(ev: DetectorStarted) -> tuple[Any, ...]:
    return (ev.protocol, ev.detector, json.dumps(ev.rule), float(ev.k))


def row_rule(r: tuple[Any, ...]) -> DetectorStarted:
    return DetectorStarted(protocol=r[0], detector=r[1], rule=json.loads(r[2]), k=r[3])
