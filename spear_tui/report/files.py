"""Atomic output files: a report or CSV is either the old one or the complete new one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from spear_tui.errors import UserError


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory + rename; OS errors become one-line UserErrors."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
