"""Faults around the product: tshark missing or killed mid-stream, broken checkpoints given with --model,
a live interface that disappears. Each ends in one line (exit 2 / EngineError), never a hang."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import msgpack
import pytest

from .cli import (
    REAL,
    ROOT,
    SPEAR,
    assert_one_line_error,
    need_tshark,
    normal_sample,
    run,
)

SMALL = REAL / "mqtt" / "ndpi_mqtt.pcap"
MODELS = ROOT / "models"


def _path_without_tshark() -> str:
    """PATH with every directory holding a tshark removed (the venv's bin stays for python)."""
    keep = [
        d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "tshark").exists()
    ]
    return os.pathsep.join(keep)


def test_tshark_missing_from_path() -> None:
    line = assert_one_line_error(run(["scan", "--no-lstm", str(SMALL)], env={"PATH": _path_without_tshark()}))
    assert "tshark" in line and "install" in line


def test_pyshark_config_pointing_nowhere(tmp_path: Path) -> None:
    """pyshark reads config.ini from the working directory; a tshark_path there that does not exist (and
    no tshark on PATH) must still be a one-line error with the install hint."""
    (tmp_path / "config.ini").write_text("[tshark]\ntshark_path = /nonexistent/bin/tshark\n[dumpcap]\n")
    line = assert_one_line_error(
        run(["scan", "--no-lstm", str(SMALL)], env={"PATH": _path_without_tshark()}, cwd=tmp_path)
    )
    assert "tshark" in line and "install" in line


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _streaming_tshark(pid: int) -> bool:
    """The `tshark -r FILE ... -T fields` child (not the `tshark -v` version probe)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(argv) and argv[0].endswith(b"tshark") and b"-r" in argv and b"fields" in argv


def test_tshark_killed_mid_stream() -> None:
    """SIGKILL the scan's tshark child while it streams: scan says so in one line (exit 2), no hang."""
    need_tshark()
    sample = normal_sample()
    proc = subprocess.Popen(
        [SPEAR, "scan", "--no-lstm", str(sample), str(sample)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    killed = None
    try:
        deadline = time.monotonic() + 60
        while killed is None and time.monotonic() < deadline and proc.poll() is None:
            for child in _children(proc.pid):
                if _streaming_tshark(child):
                    time.sleep(0.3)  # let it stream a little first
                    os.kill(child, signal.SIGKILL)
                    killed = child
                    break
            time.sleep(0.02)
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("scan hung after its tshark was killed")
    if killed is None:
        pytest.skip("scan finished before its tshark could be killed (machine too fast for this sample)")
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    line = assert_one_line_error(result, "tshark")
    assert "killed" in line or "signal" in line


def test_corrupt_checkpoint(tmp_path: Path) -> None:
    need_tshark()
    (tmp_path / "mqtt.msgpack").write_bytes(os.urandom(4096))
    assert_one_line_error(run(["scan", "--model", str(tmp_path), str(SMALL)]), "mqtt.msgpack")


def test_truncated_checkpoint(tmp_path: Path) -> None:
    need_tshark()
    data = (MODELS / "mqtt.msgpack").read_bytes()
    (tmp_path / "mqtt.msgpack").write_bytes(data[: len(data) // 2])
    assert_one_line_error(run(["scan", "--model", str(tmp_path), str(SMALL)]), "mqtt.msgpack")


def test_version_mismatched_checkpoint(tmp_path: Path) -> None:
    need_tshark()
    doc = msgpack.unpackb((MODELS / "mqtt.msgpack").read_bytes(), raw=False)
    doc["version"] = int(doc["version"]) + 1  # a checkpoint from a future spear-tui
    (tmp_path / "mqtt.msgpack").write_bytes(msgpack.packb(doc, use_bin_type=True))
    assert_one_line_error(run(["scan", "--model", str(tmp_path), str(SMALL)]), "version")


def test_checkpoint_of_another_protocol(tmp_path: Path) -> None:
    need_tshark()
    shutil.copy(MODELS / "modbus.msgpack", tmp_path / "mqtt.msgpack")
    assert_one_line_error(run(["scan", "--model", str(tmp_path), str(SMALL)]), "mqtt.msgpack")


def test_pickle_is_never_loaded(tmp_path: Path) -> None:
    """A pickle named like a checkpoint is refused as not-a-checkpoint; its payload never runs."""
    import pickle

    marker = tmp_path / "pwned"

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "mqtt.msgpack").write_bytes(pickle.dumps(Boom()))
    assert_one_line_error(run(["scan", "--model", str(tmp_path), str(SMALL)]), "mqtt.msgpack")
    assert not marker.exists()


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


def test_interface_going_down_during_live_capture() -> None:
    """A dummy (or veth) interface we create, captured live through the real engine, then deleted: the
    engine ends with one EngineError line, promptly."""
    need_tshark()
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to create a dummy interface")
    name = f"spd{uuid.uuid4().hex[:8]}"
    made = _ip("link", "add", name, "type", "dummy")
    if made.returncode != 0:  # no dummy module (containers): a veth pair does as well
        made = _ip("link", "add", name, "type", "veth", "peer", "name", name + "p")
    if made.returncode != 0:
        pytest.skip(f"cannot create a dummy or veth interface: {made.stderr.strip()}")
    try:
        _ip("link", "set", name, "up")
        from spear_tui.engines.builder import DetectorChoice, build_engine, open_source
        from spear_tui.events import EngineError

        source = open_source(interface=name)
        engine = build_engine(source, DetectorChoice(lstm=False), speed=None)
        events: list = []
        worker = threading.Thread(target=engine.run, args=(events.extend,), daemon=True)
        worker.start()
        assert source.wait_ready(timeout=30), "tshark never started capturing"
        _ip("link", "del", name)
        worker.join(timeout=60)
        hung = worker.is_alive()
        if hung:
            source.close()
            worker.join(timeout=10)
        assert not hung, "live capture did not end after its interface went away"
    finally:
        if name in _ip("link", "show").stdout:
            _ip("link", "del", name)
    errors = [e for e in events if isinstance(e, EngineError)]
    assert len(errors) == 1, events[-5:]
    assert "\n" not in errors[0].message and errors[0].message.strip()
