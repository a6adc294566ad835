"""Where diagnostics go: a small rotating file under the state directory, every line made inert.

Why a file: the console owns the terminal (a stray stderr line would tear the screen), and `scan`'s
stderr is for one-line errors, never tracebacks. Why inert: a logged exception can quote packet
content (a client id in an error, a hostile file name), so each line passes through the same
`escape_controls` as every other sink.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from spear_tui.text import escape_controls

LOG_NAME = "spear-tui.log"
# Loggers whose INFO lines are worth the file: one line per process each (which LSTM kernel runs).
INFO_LOGGERS = ("spear_tui.detect.kernels",)


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "spear-tui"


def inert_error_line(message: object) -> str:
    """`spear-tui: error: ...` for the terminal: one line, control characters escaped."""
    return f"spear-tui: error: {escape_controls(message)}"


class _QuietRotatingFileHandler(logging.handlers.RotatingFileHandler):
    def handleError(self, record: logging.LogRecord) -> None:
        """A full or vanished disk loses the record; logging's default prints a traceback to stderr."""


class InertFormatter(logging.Formatter):
    """Each line of the formatted record (tracebacks included) with control characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n    ".join(escape_controls(line) for line in super().format(record).splitlines())


def setup_logging(path: Path | None = None) -> Path | None:
    """Send the package's WARNING+ records (INFO+ of INFO_LOGGERS) to `path` (default: the state
    directory's log, 3 x 1 MB).

    Returns the log file, or None when it cannot be created: records are then dropped, not printed.
    """
    logger = logging.getLogger("spear_tui")
    logger.propagate = False  # never Python's last-resort handler on stderr
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    logger.setLevel(logging.WARNING)
    for name in INFO_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    path = path or state_dir() / LOG_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = _QuietRotatingFileHandler(
            path, maxBytes=1 << 20, backupCount=2, encoding="utf-8"
        )
    except OSError:
        logger.addHandler(logging.NullHandler())
        return None
    handler.setFormatter(InertFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    return path
