"""Where site profiles live: `$XDG_DATA_HOME/spear-tui/sites/NAME` (default ~/.local/share), or a path.

`sample` is the site of the bundled sample home: the shipped `models/` (or $SPEAR_TUI_MODELS).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from spear_tui.errors import UserError

SAMPLE = "sample"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "spear-tui"


def sites_dir() -> Path:
    return data_dir() / "sites"


def sample_dir() -> Path:
    from spear_tui.engines.builder import models_dir

    return models_dir()


def is_path(text: str) -> bool:
    """A site given as a path (has a slash, or starts with . or ~) rather than a name."""
    return "/" in text or text.startswith((".", "~"))


def site_path(text: str) -> Path:
    """The folder of site `text` (a name or a path); a bad name is a one-line UserError."""
    if not text:
        raise UserError("--site needs a name or a path")
    if is_path(text):
        return Path(text).expanduser()
    if text == SAMPLE:
        return sample_dir()
    if not _NAME.fullmatch(text):
        raise UserError(
            f"site name {text!r}: use letters, digits, '.', '_' and '-' (or give a path with a '/')"
        )
    return sites_dir() / text


def site_names() -> list[str]:
    """Sites under the data dir (those with a manifest), plus `sample`."""
    d = sites_dir()
    found = sorted(p.name for p in d.iterdir() if (p / "manifest.json").is_file()) if d.is_dir() else []
    return [SAMPLE, *found]
