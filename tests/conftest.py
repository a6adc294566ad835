"""Shared fixtures: a real mosquitto broker on a free loopback port, and paths to the real captures."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fuzzing  # noqa: F401  (loads the hypothesis profile before any test module builds its settings)
import pytest

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never write settings or session stores into the real home (subprocesses inherit this)."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))  # site profiles


def pytest_report_header(config: pytest.Config) -> str:
    return f"hypothesis: profile {fuzzing.PROFILE!r} (derandomize={fuzzing.PROFILE != 'fuzz'})"


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    process: subprocess.Popen


def _wait_listening(host: str, port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {proc.returncode}: {proc.stderr.read()!r}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on {host}:{port}")


@pytest.fixture
def mosquitto_broker(tmp_path: Path) -> Iterator[Broker]:
    """A real /usr/sbin/mosquitto on a free 127.0.0.1 port, anonymous access, stopped afterwards."""
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "log_dest stderr\nlog_type error\n"
    )
    proc = subprocess.Popen(
        [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_listening("127.0.0.1", port, proc)
        yield Broker("127.0.0.1", port, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


NORMAL_SAMPLE = Path(__file__).resolve().parents[1] / "sample_captures" / "normal.pcapng.gz"


@pytest.fixture(scope="module")
def mqtt_normal():
    """The normal sample capture's MQTT messages, dissected by tshark (a polars table)."""
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    if not NORMAL_SAMPLE.exists():
        pytest.skip(f"{NORMAL_SAMPLE} missing (record it with sample_captures/record.py normal)")
    from spear_tui.commands.experiment import load_messages

    return load_messages(NORMAL_SAMPLE, "mqtt", 10**9, [])
