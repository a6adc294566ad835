"""The real console (`spear-tui replay`) in tmux on the recorded hostile sample: alert reasons and the
drill-down table show client ids/topics escaped and markup literally; nothing reaches the terminal raw
(the byte stream the app writes, taken with `tmux pipe-pane`, holds no OSC title/hyperlink, no BEL, no
U+202E; tmux's pane title is untouched)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from .cli import SPEAR, need_tshark
from .hostile import HOSTILE, make_baseline


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_for(session: str, pattern: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if re.search(pattern, text):
            return text
        time.sleep(0.3)
    raise AssertionError(f"{pattern!r} not on screen after {timeout}s:\n{text}")


@pytest.mark.slow
def test_console_shows_hostile_strings_inert(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    need_tshark()
    models = make_baseline(tmp_path / "models")
    session = f"spear-hostile-{uuid.uuid4().hex[:8]}"
    raw = tmp_path / "terminal.bytes"
    env = (
        f"XDG_CONFIG_HOME={shlex.quote(str(tmp_path / 'cfg'))} "
        f"XDG_STATE_HOME={shlex.quote(str(tmp_path / 'state'))} TERM=xterm-256color"
    )
    cmd = (
        f"{env} {shlex.quote(SPEAR)} replay --speed max --no-lstm --model {shlex.quote(str(models))} "
        f"{shlex.quote(str(HOSTILE))}; sleep 30"
    )
    # start a shell first so pipe-pane records the console's bytes from its first frame
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "45", "sh")
    try:
        title0 = tmux("display", "-p", "-t", session, "#{pane_title}").strip()
        tmux("pipe-pane", "-o", "-t", session, f"cat >> {shlex.quote(str(raw))}")
        tmux("send-keys", "-t", session, "exec sh -c " + shlex.quote(cmd), "Enter")
        wait_for(session, r"alerts [1-9]", timeout=120)
        wait_for(session, r"done", timeout=120)
        seen = []
        tmux("send-keys", "-t", session, "5")
        wait_for(session, r"n/p: next/prev", timeout=10)
        seen.append(screen(session))  # the incident's headline reason
        tmux("send-keys", "-t", session, "Enter")  # its alerts, the selected one's reason below them
        wait_for(session, r"Enter: messages", timeout=10)
        seen.append(screen(session))
        # every alert's drill-down in turn; the list may start with its first or its last row selected
        for key in ("Up", "Down"):
            for _ in range(10):
                tmux("send-keys", "-t", session, "Enter")
                time.sleep(1.0)
                seen.append(screen(session))
                tmux("send-keys", "-t", session, "Escape")
                time.sleep(0.8)  # a lone ESC is only final after a pause
                tmux("send-keys", "-t", session, key)
                time.sleep(0.3)
            wanted = ("RED\\x1b", "[link=http://x]", "\\u202etxt", "pwned-title")
            if all(s in "\n".join(seen) for s in wanted):
                break
        # the MQTT clients view lists every client id, the OSC-title one included
        tmux("send-keys", "-t", session, "2")
        time.sleep(1.5)
        tmux("send-keys", "-t", session, "/")
        time.sleep(0.5)
        tmux("send-keys", "-t", session, "-l", "pwned")
        tmux("send-keys", "-t", session, "Enter")
        time.sleep(1.5)
        seen.append(screen(session))
        title = tmux("display", "-p", "-t", session, "#{pane_title}").strip()
        tmux("send-keys", "-t", session, "q")
        time.sleep(1.0)
    finally:
        tmux("kill-session", "-t", session)
    text = "\n".join(seen)
    assert "Traceback" not in text
    # shown, and shown as text: escapes as visible \x1b, markup literally, the RTL override escaped
    assert "\\x1b[31mRED\\x1b[0m-sensor" in text
    assert "[bold red]x[/]" in text
    assert "[link=http://x]y[/link]" in text
    assert "\\u202etxt.exe" in text
    assert "\\x1b]0;pwned-title\\x07" in text  # the OSC title sequence, shown as text
    # nothing hostile reached the terminal
    assert "pwned" not in title and title == title0
    stream = raw.read_bytes()
    assert b"pwned-title" in stream and b"txt.exe" in stream  # the recording holds the hostile text
    for bad in (b"\x1b]0;pwned", b"\x1b]0;owned", b"\x1b]8;;http://evil", b"\x07\x07", "\u202e".encode()):
        assert bad not in stream, bad
    assert b"\x1b[5m" not in stream and b"\x1b[2J\x1b[Hcleared" not in stream
