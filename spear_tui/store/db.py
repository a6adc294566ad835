"""Opening a store file: recognise it, refuse strangers and newer versions, map SQLite errors to
one-line `UserError`s. Shared by the writer and the reader so both refuse the same files.
"""

from __future__ import annotations

import os
import resource
import sqlite3
from pathlib import Path
from urllib.parse import quote

from spear_tui.errors import UserError
from spear_tui.store import schema


def describe(exc: sqlite3.Error, path: Path | None = None) -> str:
    """One line for the user. SQLite reports a write refused by a file-size limit (EFBIG) as a plain
    I/O error, so look at the disk and the limit ourselves to say which one it was."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc) or name or type(exc).__name__
    if name.startswith("SQLITE_FULL") or "full" in text:
        return "disk full (no space left on device)"
    if name.startswith("SQLITE_IOERR") and path is not None:
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        sizes = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-journal")]
        biggest = max((p.stat().st_size for p in sizes if p.exists()), default=0)
        if limit != resource.RLIM_INFINITY and biggest + 65536 >= limit:
            return f"disk full for this process: file size limit of {limit} bytes reached (ulimit -f)"
        try:
            st = os.statvfs(path.parent)
            if st.f_bavail * st.f_frsize < 1 << 20:
                return "disk full (no space left on device)"
        except OSError:
            pass
    return text


def connect(path: Path, create: bool) -> sqlite3.Connection:
    """Open `path` as a store (creating it when `create`), checked and configured.

    A missing file is never created by the reader; a file that is not SQLite, a SQLite file without
    our application id, or a newer schema version are refused with a one-line UserError.
    """
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a spear-tui store")
    if not create and not path.exists():
        raise UserError(f"no such store: {path}")
    mode = "rwc" if create else "rw"
    try:
        conn = sqlite3.connect(
            f"file:{quote(path.as_posix())}?mode={mode}",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise UserError(f"cannot open store {path}: {describe(exc, path)}") from None
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        empty = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    except sqlite3.DatabaseError:
        conn.close()
        raise UserError(f"{path} is not a spear-tui store (not an SQLite database)") from None
    except sqlite3.Error as exc:
        conn.close()
        raise UserError(f"cannot read store {path}: {describe(exc, path)}") from None
    if app_id == 0 and empty and create:
        _initialise(conn, path)
    elif app_id != schema.APPLICATION_ID:
        conn.close()
        raise UserError(f"{path} is not a spear-tui store")
    elif version < schema.VERSION and create:
        _migrate(conn, path, version)
    elif version > schema.VERSION:
        conn.close()
        raise UserError(
            f"{path} is a version {version} store, newer than this spear-tui (reads up to {schema.VERSION})"
        )
    return conn


def _initialise(conn: sqlite3.Connection, path: Path) -> None:
    try:
        conn.execute("BEGIN IMMEDIATE")
        for stmt in schema.DDL.split(";\n"):  # one transaction (executescript would commit)
            if stmt.strip():
                conn.execute(stmt)
        conn.execute(f"PRAGMA application_id={schema.APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version={schema.VERSION}")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.close()
        raise UserError(f"cannot create store {path}: {describe(exc, path)}") from None


def _migrate(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """Bring an older store up to this version in one transaction (a writer only; readers adapt)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        for v in range(version, schema.VERSION):
            for stmt in schema.MIGRATIONS.get(v, []):
                conn.execute(stmt)
        conn.execute(f"PRAGMA user_version={schema.VERSION}")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.close()
        raise UserError(f"cannot upgrade store {path}: {describe(exc, path)}") from None


def alert_cols(conn: sqlite3.Connection) -> str:
    """The alert columns to select from this store (older versions lack some)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return schema.ALERT_COLS_OLD.get(version, schema.ALERT_COLS)


def chunk_cols(conn: sqlite3.Connection) -> str:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return schema.CHUNK_COLS if version >= 3 else schema.CHUNK_COLS_OLD
