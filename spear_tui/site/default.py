"""The site `live` uses when no --site is given (remembered in $XDG_CONFIG_HOME/spear-tui/default_site)."""

from __future__ import annotations

from pathlib import Path

from spear_tui.errors import UserError


def _path() -> Path:
    from spear_tui.console.settings import config_dir

    return config_dir() / "default_site"


def get_default() -> str | None:
    try:
        text = _path().read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def set_default(site: str | None) -> None:
    path = _path()
    try:
        if site is None:
            path.unlink(missing_ok=True)
            return
        from spear_tui.site.profile import open_site

        open_site(site)  # only a site that exists can be the default
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(site + "\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
