"""Diagnostics: a log file under the state directory, hostile text escaped, nothing on the terminal."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spear_tui.logs import setup_logging

HOSTILE = "dev\x1b]0;owned\x07\x1b[31m[bold]red[/bold]\u202eevil\u200b"


@pytest.fixture
def restore_logging():
    logger = logging.getLogger("spear_tui")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    logger.handlers[:], logger.propagate, logger.level = saved[0], saved[1], saved[2]


def test_logged_exceptions_are_escaped_in_the_file_and_never_printed(tmp_path, capfd, restore_logging):
    path = setup_logging(tmp_path / "state" / "spear-tui.log")
    log = logging.getLogger("spear_tui.engines.packet")
    try:
        raise ValueError(f"client id {HOSTILE}")
    except ValueError:
        log.exception("engine worker failed on %s", HOSTILE)
    log.info("below the level: not written")
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # the terminal belongs to the console / to one-line errors
    text = Path(path).read_text(encoding="utf-8")
    for raw in ("\x1b", "\x07", "\u202e", "\u200b"):
        assert raw not in text
    assert "engine worker failed on dev\\x1b]0;owned\\x07\\x1b[31m[bold]red[/bold]\\u202eevil\\u200b" in text
    assert "Traceback" in text and "ValueError: client id dev\\x1b]0;owned" in text
    assert "below the level" not in text
    # every physical line is a record's first line or an indented continuation
    lines = text.splitlines()
    assert all(line.startswith("    ") for line in lines[1:]) and len(lines) > 3


def test_unwritable_state_dir_drops_records_quietly(tmp_path, capfd, restore_logging):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert setup_logging(blocker / "spear-tui.log") is None
    logging.getLogger("spear_tui.engines.packet").error("lost %s", HOSTILE)
    assert capfd.readouterr() == ("", "")


def test_cli_error_about_a_hostile_file_name_is_one_inert_line(tmp_path):
    name = tmp_path / f"{HOSTILE}.pcap"
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    done = subprocess.run(
        [sys.executable, "-m", "spear_tui.cli", "scan", "--json", str(name)],
        capture_output=True, env=env, timeout=120,
    )
    assert done.returncode == 2 and done.stdout == b""
    err = done.stderr.decode("utf-8")
    assert err.count("\n") == 1 and err.startswith("spear-tui: error: ")
    assert "\x1b" not in err and "\u202e" not in err and "\x07" not in err
    assert "\\x1b]0;owned\\x07" in err and "\\u202eevil" in err and "no such file" in err


def test_a_full_disk_loses_the_record_without_printing(tmp_path, capfd, restore_logging):
    """/dev/full answers every write with ENOSPC, like the state disk filling up mid-run."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    setup_logging(tmp_path / "spear-tui.log")
    handler = logging.getLogger("spear_tui").handlers[0]
    handler.stream.close()
    handler.stream = open("/dev/full", "w", encoding="utf-8")  # noqa: SIM115 - the handler owns it
    logging.getLogger("spear_tui.engines.packet").error("engine worker failed %s", "x" * 10_000)
    assert capfd.readouterr() == ("", "")
