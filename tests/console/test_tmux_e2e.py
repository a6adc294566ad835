"""End to end: the installed `spear-tui replay` in a real terminal (tmux), read with capture-pane.

Starts a max-speed replay of an incident sample, waits until the alert shows, moves the first
sensitivity slider with the keyboard, checks the flagged count / saved setting, and quits with `q`.
Skipped (with the reason) when tmux, the `replay` command or an incident sample is missing.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SPEAR = Path(sys.executable).with_name("spear-tui")


def _incident_sample() -> Path | None:
    # mqtt_shuffle is the paper's experiment (a shuffled chunk): the stacked LSTM flags it
    for pattern in ("mqtt_shuffle.pcap*", "*incident*.pcap*"):
        found = sorted((ROOT / "sample_captures").glob(pattern))
        if found:
            return found[0]
    return None


def _replay_available() -> str | None:
    if shutil.which("tmux") is None:
        return "tmux is not installed (apt-get install tmux)"
    if not SPEAR.exists():
        return f"{SPEAR} is not installed (pip install -e .)"
    r = subprocess.run([str(SPEAR), "replay", "--help"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return "`spear-tui replay` is not available yet: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    if _incident_sample() is None:
        return "no incident sample in sample_captures/ (mqtt_shuffle.pcapng)"
    return None


def tmux(*args: str) -> str:  # noqa: D103
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30).stdout


def wait_screen(session: str, pattern: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", session)
        if re.search(pattern, screen):
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{pattern!r} not on screen after {timeout}s:\n{screen}")


@pytest.mark.slow
def test_replay_alert_slider_quit(tmp_path: Path) -> None:
    reason = _replay_available()
    if reason:
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    sample = _incident_sample()
    session = f"spear-e2e-{uuid.uuid4().hex[:8]}"
    status = tmp_path / "exit"
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TERM": "xterm-256color",
        "TEXTUAL_COLOR_SYSTEM": "standard",
    }
    cmd = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    cmd += f" {shlex.quote(str(SPEAR))} replay {shlex.quote(str(sample))} --speed max; echo $? > {status}"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", "sh", "-c", cmd)
    tmux("set-option", "-t", session, "remain-on-exit", "on")
    try:
        screen = wait_screen(session, r"alerts [1-9]", timeout=240)
        assert "spear-tui" in screen.splitlines()[0]
        tmux("send-keys", "-t", session, "Tab")
        before = wait_screen(session, r"flagged \d+/\d+", timeout=10)
        m = re.search(r"k\s+[━─●]+\s+([\d.]+)\s+flagged (\d+)/(\d+)", before)
        assert m, before
        k0 = float(m.group(1))
        tmux("send-keys", "-t", session, "S-Left")
        after = wait_screen(session, rf"k\s+[━─●]+\s+{k0 - 1.0:.1f}\s+flagged", timeout=10)
        m2 = re.search(r"k\s+[━─●]+\s+([\d.]+)\s+flagged (\d+)/(\d+)", after)
        assert m2 and int(m2.group(2)) >= int(m.group(2))  # lower sensitivity k flags at least as many
        saved = json.loads((tmp_path / "cfg" / "spear-tui" / "settings.json").read_text())["thresholds"]
        assert any(abs(v - (k0 - 1.0)) < 1e-9 for v in saved.values())
        tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not status.exists():
            time.sleep(0.2)
        assert status.read_text().strip() == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=30)
    assert "Traceback" not in after and os.path.exists(status)


def test_console_in_a_real_terminal_80x24(tmp_path: Path) -> None:
    """The console itself (scripted test engine) in tmux at 80x24 with 16 colours, keyboard only."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    session = f"spear-con-{uuid.uuid4().hex[:8]}"
    status = tmp_path / "exit"
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TERM": "xterm-256color",
        "TEXTUAL_COLOR_SYSTEM": "standard",
    }
    script = ROOT / "tests" / "console" / "tmux_app.py"
    cmd = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    cmd += f" {shlex.quote(sys.executable)} {shlex.quote(str(script))} ; echo $? > {status}"
    tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", "sh", "-c", cmd)
    tmux("set-option", "-t", session, "remain-on-exit", "on")  # keep the pane to read after quitting
    try:
        wait_screen(session, r"alerts 4", timeout=60)
        screen = wait_screen(session, r"MQTT lstm[\s\S]*bacnet k", timeout=10)  # panels drawn too
        lines = screen.splitlines()
        assert lines[0].startswith("spear-tui test-scenario") and "MQTT lstm" in screen
        assert "q Quit" in lines[-1] or "q Quit" in screen
        tmux("send-keys", "-t", session, "Tab")
        wait_screen(session, r"mqtt k\s+[━─●]+\s+3\.0\s+flagged 1/90", timeout=10)
        tmux("send-keys", "-t", session, "S-Right")
        wait_screen(session, r"mqtt k\s+[━─●]+\s+4\.0\s+flagged", timeout=10)
        saved = json.loads((tmp_path / "cfg" / "spear-tui" / "settings.json").read_text())["thresholds"]
        assert saved == {"mqtt/lstm": 4.0}
        tmux("send-keys", "-t", session, "5")
        wait_screen(session, r"Enter: its alerts", timeout=10)
        tmux("send-keys", "-t", session, "?")
        wait_screen(session, r"spear-tui help", timeout=10)
        tmux("send-keys", "-t", session, "Escape")
        deadline = time.monotonic() + 10  # a lone ESC is only final after a pause (else it is alt+next key)
        while "spear-tui help" in tmux("capture-pane", "-p", "-t", session) and time.monotonic() < deadline:
            time.sleep(0.2)
        tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not status.exists():
            time.sleep(0.2)
        final = tmux("capture-pane", "-p", "-t", session)
        assert status.exists() and status.read_text().strip() == "0", final
        assert "Traceback" not in final
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=30)
