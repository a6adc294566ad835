"""End to end in a real terminal (tmux): `spear-tui learn` a site from day 1 of the recorded Modbus
plant, then `spear-tui replay --site` day 2: the injected write shows as a high alert. The same replay
without --site shows the learning period in the header instead of alerts."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .test_tmux_e2e import tmux, wait_screen

ROOT = Path(__file__).parents[2]
PLANT = ROOT / "tests" / "data" / "site_plant"

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed"),
]


def _run(tmp_path: Path, script: str, size: tuple[int, int] = (100, 30)) -> tuple[str, Path]:
    session = f"spear-site-{uuid.uuid4().hex[:8]}"
    status = tmp_path / f"exit-{session}"
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "TERM": "xterm-256color",
        "TEXTUAL_COLOR_SYSTEM": "standard",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    cmd = f"cd {shlex.quote(str(ROOT))} && export {exports} && {script}; echo $? > {shlex.quote(str(status))}"
    tmux("new-session", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]), "sh", "-c", cmd)
    tmux("set-option", "-t", session, "remain-on-exit", "on")
    return session, status


def _wait_exit(status: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not status.exists():
        time.sleep(0.2)
    return status.read_text().strip() if status.exists() else "missing"


def test_learn_then_replay_with_the_site(tmp_path: Path) -> None:
    py = shlex.quote(sys.executable)
    day1, day2 = shlex.quote(str(PLANT / "day1.pcapng.gz")), shlex.quote(str(PLANT / "day2.pcapng.gz"))
    script = (
        f"{py} -m spear_tui learn {day1} --site plant && echo LEARNED && sleep 2 && "
        f"{py} -m spear_tui replay {day2} --site plant --speed max --no-store"
    )
    session, status = _run(tmp_path, script)
    try:
        learned = wait_screen(session, r"LEARNED", timeout=180)
        assert "site plant learned from 1 capture(s)" in learned and "2 masters" in learned
        screen = wait_screen(session, r"alerts [1-9]", timeout=240)
        assert screen.splitlines()[0].startswith("spear-tui") and "learning:" not in screen
        tmux("send-keys", "-t", session, "5")
        alerts = wait_screen(session, r"127\.0\.9\.66", timeout=30)
        assert "Traceback" not in alerts
        tmux("send-keys", "-t", session, "q")
        assert _wait_exit(status) == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=30)
    assert (tmp_path / "data" / "spear-tui" / "sites" / "plant" / "manifest.json").is_file()


def test_replay_without_site_shows_the_learning_period(tmp_path: Path) -> None:
    py = shlex.quote(sys.executable)
    day2 = shlex.quote(str(PLANT / "day2.pcapng.gz"))
    session, status = _run(
        tmp_path, f"{py} -m spear_tui replay {day2} --speed max --no-store --no-lstm", (80, 24)
    )
    try:
        screen = wait_screen(session, r"learning: \d+:\d\d left", timeout=120)
        time.sleep(3)  # the replay (max speed) is over by now: still nothing in the alert table
        screen = tmux("capture-pane", "-p", "-t", session)
        assert (
            "learning:" in screen.splitlines()[0] and "127.0.9.66" not in screen and "novelty" not in screen
        )
        tmux("send-keys", "-t", session, "q")
        assert _wait_exit(status) == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=30)
