"""`--store FILE` / `--no-store` for the console commands (replay, live, demo): every session records.

By default each console session writes a new store under
`${XDG_STATE_HOME:-~/.local/state}/spear-tui/sessions/<UTC timestamp>-<source>.db`, so what was on the
screen can be reviewed after a crash, Ctrl-C or kill -9 (`spear-tui review STORE`). The store is opened
before the console starts, so a bad path is one line on the terminal, not a message inside the screen.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Any

from spear_tui.errors import UserError
from spear_tui.logs import state_dir


def add_store_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--store",
        metavar="FILE.db",
        help="record every score and alert in this store (default: a new file per session under "
        "$XDG_STATE_HOME/spear-tui/sessions/)",
    )
    g.add_argument("--no-store", action="store_true", help="do not record this session")


def sessions_dir() -> Path:
    return state_dir() / "sessions"


def default_store_path(source_name: str, now: float | None = None) -> Path:
    """`<UTC timestamp>-<source>.db`; the source name reduced to a safe file-name fragment."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(source_name).name or "session").strip("._-")[:60]
    base = sessions_dir() / f"{stamp}-{label or 'session'}"
    path, n = base.with_name(base.name + ".db"), 1
    while path.exists():  # two sessions started in the same second get their own files
        n += 1
        path = base.with_name(f"{base.name}-{n}.db")
    return path


def open_session_store(args: argparse.Namespace, source_name: str, meta: dict[str, Any]) -> Any:
    """The AlertStore for this console session, or None with --no-store. Errors are one-line UserErrors."""
    if getattr(args, "no_store", False):
        return None
    from spear_tui.store import AlertStore

    path = Path(args.store) if getattr(args, "store", None) else default_store_path(source_name)
    if not getattr(args, "store", None):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the session directory {path.parent}: {exc.strerror}") from None
    return AlertStore(path, meta)


def close_session_store(store: Any) -> None:
    """Mark the session ended and say where it is (after the console has restored the terminal)."""
    if store is None:
        return
    store.close()
    print(f"session stored in {store.path} (spear-tui review {store.path})", flush=True)
