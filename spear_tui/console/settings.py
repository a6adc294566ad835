"""Per-model threshold settings that survive restarts.

A small JSON file, `$XDG_CONFIG_HOME/spear-tui/settings.json` (default `~/.config/...`), maps a model key
such as `mqtt/lstm`, `mqtt/novelty` or `meter/seq2seq/active_power` to the last slider value, and switch
keys such as `mqtt/novelty/on` or `mqtt/novelty/rule/wildcard` to on/off (under `switches`). Written
atomically so a crash mid-write never leaves a half file; a corrupt file is ignored (the defaults apply),
never fatal.
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
        self._switches: dict[str, bool] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            raw = data.get("thresholds", {}) if isinstance(data, dict) else {}
            self._thresholds = {
                str(k): float(v) for k, v in raw.items() if isinstance(v, int | float) and v == v
            }
            flags = data.get("switches", {}) if isinstance(data, dict) else {}
            self._switches = {str(k): v for k, v in flags.items() if isinstance(v, bool)}
        except (OSError, ValueError, AttributeError):
            self._thresholds = {}
            self._switches = {}

    def get(self, key: str, default: float | None = None) -> float | None:
        return self._thresholds.get(key, default)

    def set(self, key: str, value: float) -> str | None:
        """Store and persist; returns an error line if the file could not be written."""
        self._thresholds[key] = float(value)
        return self.save()

    def get_switch(self, key: str, default: bool | None = None) -> bool | None:
        return self._switches.get(key, default)

    def set_switch(self, key: str, on: bool) -> str | None:
        """Store an on/off switch (a detector or one of its rules) and persist."""
        self._switches[key] = bool(on)
        return self.save()

    def save(self) -> str | None:
        """Write atomically; an unwritable config dir loses persistence (reported), never the session."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                doc: dict = {"thresholds": self._thresholds}
                if self._switches:
                    doc["switches"] = self._switches
                json.dump(doc, fh, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError as exc:
            return f"settings not saved to {self.path}: {exc.strerror or exc}"
        return None
