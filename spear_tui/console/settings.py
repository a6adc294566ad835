"""Per-model threshold settings that survive restarts.

A small JSON file, `$XDG_CONFIG_HOME/spear-tui/settings.json` (default `~/.config/...`), maps a model key
such as `mqtt/lstm` or `meter/seq2seq/active_power` to the last slider value. Written atomically so a
crash mid-write never leaves a half file; a corrupt file is ignored (the defaults apply), never fatal.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "spear-tui"


def settings_path() -> Path:
    return config_dir() / "settings.json"


class Settings:
    """Slider values keyed by model; `set` persists immediately (slider moves are rare events)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self._thresholds: dict[str, float] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            raw = data.get("thresholds", {}) if isinstance(data, dict) else {}
            self._thresholds = {
                str(k): float(v) for k, v in raw.items() if isinstance(v, int | float) and v == v
            }
        except (OSError, ValueError, AttributeError):
            self._thresholds = {}

    def get(self, key: str, default: float | None = None) -> float | None:
        return self._thresholds.get(key, default)

    def set(self, key: str, value: float) -> str | None:
        """Store and persist; returns an error line if the file could not be written."""
        self._thresholds[key] = float(value)
        return self.save()

    def save(self) -> str | None:
        """Write atomically; an unwritable config dir loses persistence (reported), never the session."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"thresholds": self._thresholds}, fh, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError as exc:
            return f"settings not saved to {self.path}: {exc.strerror or exc}"
        return None
