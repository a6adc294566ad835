"""THE must-show of issue 7: kill -9 during a console replay loses no alert that was on the screen.

Runs the installed `spear-tui replay --store X --speed 20` on the Modbus incident sample in a real
terminal (tmux), switches to the incidents screen, waits until at least one incident row is shown,
reads the screen (capture-pane), sends SIGKILL to the process, then reopens the store: every incident
row that was on the screen (time, protocol, detectors, alert count) is in it with its alerts, and the
session reads as interrupted; `spear-tui review` then shows those rows again in the console. A second
run quits cleanly with q: the session is closed and its path printed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from spear_tui.store import open_store

ROOT = Path(__file__).parents[2]
SPEAR = Path(sys.executable).with_name("spear-tui")
SAMPLE = ROOT / "sample_captures" / "modbus_incidents.pcapng"
# an incident row: time, protocol, severity, detectors, alert count
ROW = re.compile(r"(\d\d:\d\d:\d\d)\s+(mqtt|modbus|bacnet)\s+(low|medium|high)\s+([a-z+]+)\s+(\d+)\s")


def _skip_reason() -> str | None:
    if shutil.which("tmux") is None:
        return "tmux is not installed (apt-get install tmux)"
    if shutil.which("tshark") is None:
        return "tshark is not installed (apt-get install tshark)"
    if not SPEAR.exists():
        return f"{SPEAR} is not installed (pip install -e .)"
    if not SAMPLE.is_file():
        return f"sample capture missing: {SAMPLE}"
    return None


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30).stdout


def wait_for(session: str, predicate, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", session)
        if predicate(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"condition not met after {timeout}s; screen:\n{screen}")


def start(tmp_path: Path, store: Path, tail: str = "") -> str:
    session = f"spear-kill-{uuid.uuid4().hex[:8]}"
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TERM": "xterm-256color",
        "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    }
    argv = ["env", *(f"{k}={v}" for k, v in env.items()), str(SPEAR), "replay", "--store", str(store),
            "--speed", "20", str(SAMPLE)]  # fmt: skip
    cmd = " ".join(shlex.quote(a) for a in argv)
    # exec: the pane's process is spear-tui itself, so its pid is the one to kill
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "sh", "-c", f"exec {cmd}" + tail)
    tmux("set-option", "-t", session, "remain-on-exit", "on")
    return session


def _dead(session: str) -> bool:
    return tmux("display-message", "-p", "-t", session, "#{pane_dead}").strip() == "1"


def kill_session(session: str) -> None:
    if session in tmux("list-sessions", "-F", "#{session_name}"):
        tmux("kill-session", "-t", session)


@pytest.mark.slow
def test_kill_9_during_replay_keeps_every_alert_shown(tmp_path: Path) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    store = tmp_path / "session.db"
    session = start(tmp_path, store)
    try:
        wait_for(session, lambda s: "spear-tui" in s, timeout=60)
        tmux("send-keys", "-t", session, "5")  # the incidents screen
        screen = wait_for(session, lambda s: "Enter: its alerts" in s and ROW.search(s) is not None, 180)
        pid = int(tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())
        os.kill(pid, signal.SIGKILL)
        shown = [m.groups() for m in ROW.finditer(screen)]
        assert shown, screen
        print(f"on screen at kill -9 ({len(shown)} incident row(s)):\n{screen}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _dead(session):
            time.sleep(0.1)
        assert _dead(session)
    finally:
        kill_session(session)
    with open_store(store) as reader:
        sessions = reader.sessions()
        alert_ids = {a.id for a in reader.alerts().values()}
        stored = reader.incidents()
    assert len(sessions) == 1 and sessions[0].interrupted  # killed: never closed
    assert sessions[0].meta["command"] == "replay" and sessions[0].sources[0]["path"] == str(SAMPLE.resolve())
    for at, protocol, _severity, detectors, count in shown:
        # stored first, shown after: the store holds the incident as shown, or grown since
        same = [
            i for i in stored
            if (time.strftime("%H:%M:%S", time.gmtime(i.start)), i.protocol) == (at, protocol)
            and set(detectors.split("+")) <= set(i.detectors) and len(i.alerts) >= int(count)
        ]  # fmt: skip
        assert len(same) == 1, f"shown but not stored: {(at, protocol, detectors, count)}; stored: {stored}"
        assert set(same[0].alerts) <= alert_ids  # and every alert of it
    print(f"stored after kill: {len(stored)} incident(s), {len(alert_ids)} alert(s); shown: {len(shown)}")
    # and `spear-tui review` reopens the killed session in the console with the same rows
    session = f"spear-review-{uuid.uuid4().hex[:8]}"
    env = (
        f"XDG_CONFIG_HOME={shlex.quote(str(tmp_path / 'cfg'))} "
        f"XDG_STATE_HOME={shlex.quote(str(tmp_path / 'state'))} TERM=xterm-256color"
    )
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "sh", "-c",
         f"exec env {env} {shlex.quote(str(SPEAR))} review {shlex.quote(str(store))}")  # fmt: skip
    try:
        wait_for(session, lambda s: "review session.db" in s, timeout=60)
        tmux("send-keys", "-t", session, "5")
        again = wait_for(session, lambda s: len(ROW.findall(s)) == len(stored), timeout=30)
        tmux("send-keys", "-t", session, "q")
    finally:
        kill_session(session)
    assert {r[:2] for r in shown} <= {m.groups()[:2] for m in ROW.finditer(again)}  # time, protocol


@pytest.mark.slow
def test_clean_quit_closes_the_session_and_prints_its_path(tmp_path: Path) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    store = tmp_path / "session.db"
    session = start(tmp_path, store)
    try:
        wait_for(session, lambda s: "spear-tui" in s and "msgs" in s, timeout=60)
        tmux("send-keys", "-t", session, "q")
        # the path is printed after the console restored the terminal (remain-on-exit keeps the pane)
        screen = wait_for(session, lambda s: "session stored in" in s, timeout=30)
    finally:
        kill_session(session)
    assert f"session stored in {store}" in screen.replace("\n", "")
    with open_store(store) as reader:
        (s,) = reader.sessions()
    assert not s.interrupted
