"""The durable alert store: an engine sink that commits every batch of events before it returns.

Why SQLite (stdlib) in WAL mode with synchronous=FULL:
- WAL: a commit appends to the write-ahead log, so a reader (`spear-tui review`, the console's browse
  screen) can read a store that a running scan is still writing, and a writer killed mid-transaction
  leaves the last committed state intact (the torn tail of the log is ignored on reopen).
- synchronous=FULL: each commit fsyncs the log, so a committed batch also survives a power cut or a kernel
  crash, not only kill -9 / Ctrl-C / SIGTERM (for which NORMAL would already suffice). The engine hands
  events over in batches a few times a second, so this is a few fsyncs a second (see BENCHMARKS.md).

Ordering guarantee: `write(events)` returns only after the batch is committed. A caller that calls
`write` before handing the same batch to the console therefore never shows an alert that a crash
could lose.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spear_tui import __version__
from spear_tui.errors import UserError
from spear_tui.events import (
    Alert,
    ChunkScored,
    DayScored,
    DetectorStarted,
    EngineError,
    Incident,
    MessagesSeen,
    PacketsSkipped,
)
from spear_tui.store import schema
from spear_tui.store.db import connect, describe


def _source_info(src: Any) -> dict[str, Any]:
    """Path (absolute when it is a file) plus size/mtime, so `export` can tell a changed file."""
    path = str(src)
    p = Path(path)
    if p.is_file():
        st = p.stat()
        return {"path": str(p.resolve()), "size": st.st_size, "mtime": st.st_mtime}
    return {"path": path, "size": None, "mtime": None}  # an interface name, or a file gone missing


class AlertStore:
    """Append-only store of one session's events; several sessions may share one file.

    `session_meta` is any JSON-able dict; its `sources` (or `files`) list — capture paths in source
    order, so that `Alert.file` / `ChunkScored.file` index it — is recorded with each file's absolute
    path, size and mtime (what `export` needs). Put `decode_as` in it too, so export decodes alike.
    Thread-safe: built on one thread, written from the engine's sink thread.
    """

    def __init__(self, path: str | Path, session_meta: dict[str, Any]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = connect(self.path, create=True)
        meta = {"spear_tui_version": __version__, **session_meta}
        paths = meta.pop("sources", None) or meta.pop("files", None) or []  # "files": PacketSource.files
        sources = [_source_info(s) for s in paths]
        try:
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self._conn.execute("PRAGMA synchronous=FULL")
            self.journal_mode = str(mode)
            cur = self._conn.execute(
                "INSERT INTO sessions (started, ended, meta, sources) VALUES (?, NULL, ?, ?)",
                (time.time(), json.dumps(meta, default=str), json.dumps(sources)),
            )
        except sqlite3.Error as exc:
            self._conn.close()
            self._conn = None
            raise UserError(f"cannot write alert store {self.path}: {describe(exc, self.path)}") from None
        self.session: int = int(cur.lastrowid or 0)

    def write(self, events: Iterable[object]) -> list[int]:
        """Commit one batch (alerts, chunk/day scores, message/skip counts, engine errors).

        Returns the ids of the alerts written, in order, once they are durable. Other event kinds are
        ignored. On failure (disk full, ...) nothing of this batch is kept and a one-line UserError is
        raised; everything committed before stays intact.
        """
        alerts: list[Alert] = []
        chunks: list[tuple[Any, ...]] = []
        days: list[tuple[Any, ...]] = []
        counts: Counter[tuple[str, str, str]] = Counter()
        errors: list[str] = []
        incidents: dict[int, tuple[Any, ...]] = {}
        dropped: list[int] = []
        rules: list[tuple[Any, ...]] = []
        for ev in events:
            if isinstance(ev, Alert):
                alerts.append(ev)
            elif isinstance(ev, Incident):  # the latest version of each is kept
                for old in ev.absorbed:
                    dropped.append(old)
                    incidents.pop(old, None)
                incidents[ev.id] = (self.session, *schema.incident_row(ev))
            elif isinstance(ev, DetectorStarted):
                rules.append((self.session, *schema.rule_row(ev)))
            elif isinstance(ev, ChunkScored):
                chunks.append((self.session, *schema.chunk_row(ev)))
            elif isinstance(ev, DayScored):
                days.append((self.session, *schema.day_row(ev)))
            elif isinstance(ev, MessagesSeen):
                counts[(ev.protocol, "messages", "")] += int(ev.messages)
            elif isinstance(ev, PacketsSkipped):
                counts[(ev.protocol, "skipped", ev.reason)] += int(ev.count)
            elif isinstance(ev, EngineError):
                errors.append(ev.message)
        if not (alerts or chunks or days or counts or errors or incidents or rules):
            return []
        now = time.time()
        with self._lock:
            conn = self._require()
            ids: list[int] = []
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for a in alerts:
                        cur = conn.execute(
                            f"INSERT INTO alerts (session, recorded, {schema.ALERT_COLS}) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (self.session, now, *schema.alert_row(a)),
                        )
                        ids.append(int(cur.lastrowid or 0))
                    if chunks:
                        conn.executemany(
                            f"INSERT INTO chunks (session, {schema.CHUNK_COLS}) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            chunks,
                        )
                    if dropped:  # merged into another incident of this batch or a later one
                        conn.executemany(
                            "DELETE FROM incidents WHERE session = ? AND eid = ?",
                            [(self.session, i) for i in dropped],
                        )
                    if incidents:
                        conn.executemany(
                            "INSERT OR REPLACE INTO incidents (session, eid, start, body) "
                            "VALUES (?, ?, ?, ?)",
                            list(incidents.values()),
                        )
                    if rules:
                        conn.executemany(
                            "INSERT OR REPLACE INTO rules (session, protocol, detector, rule, k) "
                            "VALUES (?, ?, ?, ?, ?)",
                            rules,
                        )
                    if days:
                        conn.executemany(
                            f"INSERT INTO days (session, {schema.DAY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            days,
                        )
                    if counts:
                        conn.executemany(
                            "INSERT INTO counters (session, protocol, kind, reason, count) "
                            "VALUES (?, ?, ?, ?, ?) "
                            "ON CONFLICT (session, protocol, kind, reason) "
                            "DO UPDATE SET count = count + excluded.count",
                            [(self.session, *k, v) for k, v in counts.items()],
                        )
                    if errors:
                        conn.executemany(
                            "INSERT INTO errors (session, recorded, message) VALUES (?, ?, ?)",
                            [(self.session, now, m) for m in errors],
                        )
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise UserError(f"cannot write alert store {self.path}: {describe(exc, self.path)}") from None
            return ids

    def close(self) -> None:
        """Mark the session as ended cleanly. Never raises for a store that already failed."""
        with self._lock:
            if self._conn is None:
                return
            conn, self._conn = self._conn, None
            try:
                conn.execute("UPDATE sessions SET ended = ? WHERE id = ?", (time.time(), self.session))
            except sqlite3.Error:
                pass  # disk full at the end: the session just reads as "interrupted"
            finally:
                conn.close()

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise UserError(f"alert store {self.path} is closed")
        return self._conn

    def __enter__(self) -> AlertStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
