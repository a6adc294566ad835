"""A site's manifest (`manifest.json`): what it was learned from and what a user accepted as normal.

Plain JSON so a user can read it; written atomically (temp file + rename). A damaged manifest is a
one-line UserError naming the file, never a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spear_tui.errors import UserError

FORMAT = "spear-tui-site"
VERSION = 1
NAME = "manifest.json"


@dataclass
class Accepted:
    """One alert accepted as normal: the baseline rows it adds, who accepted it and when."""

    id: str  # "<store path>#<alert id>" or "console:<n>": unique within the manifest
    protocol: str
    adds: dict[str, list[list[Any]]]  # known-set name -> rows (see ProtocolRules.additions)
    reason: str
    who: str
    when: float


@dataclass
class Manifest:
    name: str
    learned: float | None = None  # wall-clock epoch seconds of the last `learn`
    captures: list[str] = field(default_factory=list)
    messages: dict[str, int] = field(default_factory=dict)  # per protocol
    start: float | None = None  # capture time range learned from
    end: float | None = None
    window: dict[str, Any] = field(default_factory=dict)  # --from/--to as given
    learned_items: dict[str, dict[str, Any]] = field(default_factory=dict)  # per protocol summary
    meter: dict[str, Any] = field(default_factory=dict)
    accepted: list[Accepted] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError(f"{where} is not a spear-tui site manifest")
        if data.get("version") != VERSION:
            raise UserError(f"{where} is site manifest version {data.get('version')!r}; this reads {VERSION}")
        try:
            fields = {k: v for k, v in data.items() if k not in ("format", "version")}
            fields["accepted"] = [Accepted(**a) for a in fields.get("accepted", [])]
            return cls(**fields)
        except TypeError:
            raise UserError(f"{where} is a damaged site manifest") from None


def load_manifest(folder: Path) -> Manifest | None:
    path = folder / NAME
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read site manifest {path}: {exc}".splitlines()[0]) from None
    return Manifest.from_json(data, str(path))


def save_manifest(folder: Path, manifest: Manifest) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{NAME}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / NAME)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"cannot write site manifest in {folder}: {exc.strerror or exc}") from None
