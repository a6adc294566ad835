"""A site profile: one folder holding what was learned about one network.

    <site>/manifest.json            what it was learned from, what was accepted as normal (manifest.py)
    <site>/<protocol>.msgpack       stacked-LSTM checkpoint per protocol
    <site>/<protocol>_novelty.msgpack  novelty baseline per protocol
    <site>/meter*.msgpack           meter seq2seq model(s)
    <site>/settings.json            the console's thresholds and switches for this site

The sample site is the shipped `models/` folder: read as is (it has no manifest), never written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spear_tui.errors import UserError
from spear_tui.site.manifest import Manifest, load_manifest, save_manifest
from spear_tui.site.paths import SAMPLE, is_path, sample_dir, site_path


@dataclass
class Site:
    name: str
    path: Path
    manifest: Manifest

    @property
    def sample(self) -> bool:
        return self.path.resolve() == sample_dir().resolve()

    def lstm_checkpoint(self, protocol: str) -> Path | None:
        p = self.path / f"{protocol}.msgpack"
        return p if p.is_file() else None

    def novelty_baseline(self, protocol: str) -> Path | None:
        p = self.path / f"{protocol}_novelty.msgpack"
        return p if p.is_file() else None

    def meter_models(self) -> list[Path]:
        return sorted(self.path.glob("meter*.msgpack"))

    def cards(self) -> list[Path]:
        """Model cards beside the models (the sample site ships one per model)."""
        return sorted(self.path.glob("*MODEL_CARD*.md"))

    @property
    def settings_path(self) -> Path:
        return self.path / "settings.json"

    def save(self) -> None:
        if self.sample:
            raise UserError("the sample site is the shipped models/ folder and is read-only; use --site NAME")
        save_manifest(self.path, self.manifest)

    def protocols(self) -> list[str]:
        from spear_tui.protocols.schema import PROTOCOLS

        return [p for p in PROTOCOLS if self.lstm_checkpoint(p) or self.novelty_baseline(p)]


def open_site(text: str, *, create: bool = False) -> Site:
    """The site named (or at) `text`. Without `create`, a site that was never learned is an error."""
    path = site_path(text)
    name = path.name if is_path(text) else text
    if text == SAMPLE or (path.is_dir() and path.resolve() == sample_dir().resolve()):
        if not path.is_dir():
            raise UserError(f"the sample site {path} is missing (reinstall, or set SPEAR_TUI_MODELS)")
        return Site(SAMPLE, path, load_manifest(path) or Manifest(name=SAMPLE))
    if path.exists() and not path.is_dir():
        raise UserError(f"site {text}: {path} is not a folder")
    manifest = load_manifest(path) if path.is_dir() else None
    if manifest is None:
        if not create:
            raise UserError(
                f"no site {text!r} ({path}); learn it first: spear-tui learn CAPTURE --site {text}"
            )
        manifest = Manifest(name=name)
    return Site(name, path, manifest)
