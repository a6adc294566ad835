"""Reading a store back: sessions, alerts, chunk and day scores as the engine's event dataclasses.

Safe while a scan is still writing the same file (WAL readers see the last committed batch).
Used by `spear-tui review`, `spear-tui export` and the console's browse screen (poll new alerts with
`alerts(after_id=last_seen)`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spear_tui.errors import UserError
from spear_tui.events import Alert, ChunkScored, DayScored, DetectorStarted, Incident
from spear_tui.store import schema
from spear_tui.store.db import alert_cols, chunk_cols, connect, describe

SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Session:
    id: int
    started: float
    ended: float | None  # None: still running, or killed before close()
    meta: dict[str, Any]
    sources: list[dict[str, Any]]  # {path, size, mtime}; Alert.file indexes this list

    @property
    def interrupted(self) -> bool:
        return self.ended is None


@dataclass(frozen=True)
class AlertRecord:
    """An alert with where it was stored and the capture it points into."""

    id: int
    session: Session
    recorded: float
    alert: Alert
    source: dict[str, Any] = field(default_factory=dict)  # {path, size, mtime} of alert.file, {} if unknown


def _filters(
    session: int | None, protocol: str | None, where: list[str], params: list
) -> tuple[list[str], list]:
    """SQL conditions (and their parameters) for the optional session and protocol filters."""
    if session is not None:
        where.append("session = ?")
        params.append(session)
    if protocol is not None:
        where.append("protocol = ?")
        params.append(protocol)
    return where, params


class StoreReader:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn = connect(self.path, create=False)
        self._alert_cols = alert_cols(self._conn)
        self._chunk_cols = chunk_cols(self._conn)
        self._version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _q(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise UserError(f"cannot read store {self.path}: {describe(exc, self.path)}") from None

    def sessions(self) -> list[Session]:
        rows = self._q("SELECT id, started, ended, meta, sources FROM sessions ORDER BY id")
        return [Session(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4])) for r in rows]

    def session(self, session_id: int) -> Session:
        for s in self.sessions():
            if s.id == session_id:
                return s
        raise UserError(f"store {self.path} has no session {session_id}")

    def alerts(
        self,
        session: int | None = None,
        protocol: str | None = None,
        min_severity: str | None = None,
        after_id: int = 0,
        limit: int | None = None,
    ) -> dict[int, Alert]:
        """Alerts by id (ascending = the order they were raised)."""
        where, params = _filters(session, protocol, ["id > ?"], [after_id])
        if min_severity is not None:
            if min_severity not in SEVERITIES:
                raise UserError(
                    f"unknown severity {min_severity!r} (expected one of {', '.join(SEVERITIES)})"
                )
            allowed = SEVERITIES[SEVERITIES.index(min_severity) :]
            where.append(f"severity IN ({', '.join('?' * len(allowed))})")
            params.extend(allowed)
        sql = f"SELECT id, {self._alert_cols} FROM alerts WHERE {' AND '.join(where)} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return {r[0]: schema.row_alert(r[1:]) for r in self._q(sql, tuple(params))}

    def alert(self, alert_id: int) -> AlertRecord:
        rows = self._q(
            f"SELECT id, session, recorded, {self._alert_cols} FROM alerts WHERE id = ?", (alert_id,)
        )
        if not rows:
            raise UserError(f"store {self.path} has no alert {alert_id}")
        r = rows[0]
        sess = self.session(r[1])
        alert = schema.row_alert(r[3:])
        src = sess.sources[alert.file] if 0 <= alert.file < len(sess.sources) else {}
        return AlertRecord(id=r[0], session=sess, recorded=r[2], alert=alert, source=src)

    def chunks(self, session: int | None = None, protocol: str | None = None) -> list[ChunkScored]:
        where, params = _filters(session, protocol, ["1"], [])
        rows = self._q(
            f"SELECT {self._chunk_cols} FROM chunks WHERE {' AND '.join(where)} ORDER BY id", tuple(params)
        )
        return [schema.row_chunk(r) for r in rows]

    def incidents(self, session: int | None = None) -> list[Incident]:
        """The engine's incidents (latest versions), in time order; none in a store older than v3."""
        if self._version < 3:
            return []
        where, params = _filters(session, None, ["1"], [])
        rows = self._q(
            f"SELECT body FROM incidents WHERE {' AND '.join(where)} ORDER BY start, session, eid",
            tuple(params),
        )
        return [schema.row_incident(r[0]) for r in rows]

    def rules(self, session: int | None = None) -> list[DetectorStarted]:
        """The detectors' decision rules (what re-flagging the stored scores must use)."""
        if self._version < 3:
            return []
        where, params = _filters(session, None, ["1"], [])
        rows = self._q(
            f"SELECT protocol, detector, rule, k FROM rules WHERE {' AND '.join(where)} ORDER BY session",
            tuple(params),
        )
        return [schema.row_rule(r) for r in rows]

    def days(self, session: int | None = None) -> list[DayScored]:
        sql = f"SELECT {schema.DAY_COLS} FROM days"
        params: tuple[Any, ...] = ()
        if session is not None:
            sql, params = sql + " WHERE session = ?", (session,)
        return [schema.row_day(r) for r in self._q(sql + " ORDER BY id", params)]

    def counters(self, session: int | None = None) -> dict[str, dict[str, Any]]:
        """Per protocol: {"messages": n, "skipped": {reason: n}} summed over the selected sessions."""
        sql = "SELECT protocol, kind, reason, sum(count) FROM counters"
        params: tuple[Any, ...] = ()
        if session is not None:
            sql, params = sql + " WHERE session = ?", (session,)
        out: dict[str, dict[str, Any]] = {}
        for proto, kind, reason, n in self._q(
            sql + " GROUP BY protocol, kind, reason ORDER BY protocol", params
        ):
            entry = out.setdefault(proto, {"messages": 0, "skipped": {}})
            if kind == "messages":
                entry["messages"] += int(n)
            else:
                entry["skipped"][reason] = int(n)
        return out

    def errors(self, session: int | None = None) -> list[str]:
        sql = "SELECT message FROM errors"
        params: tuple[Any, ...] = ()
        if session is not None:
            sql, params = sql + " WHERE session = ?", (session,)
        return [r[0] for r in self._q(sql + " ORDER BY id", params)]

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(path: str | Path) -> StoreReader:
    """Open an existing store for reading; a missing, foreign or newer file is a one-line UserError."""
    return StoreReader(path)
