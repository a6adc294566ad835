"""`--store` / `--no-store` of the console commands: where a session's store goes, and one-line errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from spear_tui.cli import build_parser
from spear_tui.commands._store_option import default_store_path, open_session_store
from spear_tui.errors import UserError
from spear_tui.store import open_store


def test_default_path_is_per_session_under_xdg_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    p = default_store_path("/captures/site a/\x1b]0;x\x07evil.pcapng", now=0.0)
    assert p.parent == tmp_path / "spear-tui" / "sessions"
    assert p.name == "19700101T000000Z-0_x_evil.pcapng.db"  # no control characters or spaces in names
    args = argparse.Namespace(store=None, no_store=False)
    store = open_session_store(args, "cap.pcapng", {"command": "replay", "files": [], "decode_as": []})
    store.close()
    assert store.path.parent == p.parent and store.path.exists()
    p.parent.joinpath(default_store_path("same", now=5.0).name).touch()
    assert default_store_path("same", now=5.0).name == "19700101T000005Z-same-2.db"
    with open_store(store.path) as r:
        (s,) = r.sessions()
    assert s.meta["command"] == "replay" and not s.interrupted


def test_no_store_and_bad_store(tmp_path: Path) -> None:
    assert open_session_store(argparse.Namespace(store=None, no_store=True), "x", {}) is None
    with pytest.raises(UserError, match="cannot open store"):
        open_session_store(argparse.Namespace(store=str(tmp_path / "no" / "x.db"), no_store=False), "x", {})
    junk = tmp_path / "junk.db"
    junk.write_text("hello")
    with pytest.raises(UserError, match="not a spear-tui store"):
        open_session_store(argparse.Namespace(store=str(junk), no_store=False), "x", {})


@pytest.mark.parametrize("command", [["replay", "x.pcap"], ["live", "-i", "lo"], ["demo"]])
def test_console_commands_take_store_options(command: list[str]) -> None:
    parser = build_parser()
    assert parser.parse_args([*command, "--store", "s.db"]).store == "s.db"
    assert parser.parse_args([*command, "--no-store"]).no_store
    with pytest.raises(SystemExit):
        parser.parse_args([*command, "--store", "s.db", "--no-store"])
