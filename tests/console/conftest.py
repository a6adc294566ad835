"""Fixtures for console tests (helpers live in harness.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spear_tui.console.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return Settings()
