from __future__ import annotations

import json
from pathlib import Path

import pytest

from spear_tui.console.settings import Settings, settings_path


def test_path_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert settings_path() == tmp_path / "spear-tui" / "settings.json"


def test_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    s = Settings()
    assert s.get("mqtt/lstm") is None
    assert s.set("mqtt/lstm", 4.5) is None
    assert Settings().get("mqtt/lstm") == 4.5
    data = json.loads((tmp_path / "spear-tui" / "settings.json").read_text())
    assert data == {"thresholds": {"mqtt/lstm": 4.5}}


@pytest.mark.parametrize("content", ["{not json", "[]", '{"thresholds": {"a": "x", "b": NaN}}', ""])
def test_corrupt_file_gives_defaults(tmp_path: Path, content: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(content)
    s = Settings(path)
    assert s.get("a") is None and s.get("b") is None
    s.set("a", 1.0)
    assert Settings(path).get("a") == 1.0


def test_unwritable_dir_reports_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    s = Settings(blocker / "sub" / "settings.json")  # parent is a file: mkdir fails
    err = s.set("a", 1.0)
    assert err is not None and "\n" not in err
    assert s.get("a") == 1.0  # the session keeps the value
