"""A killed writer loses nothing it reported as committed; a full disk is one line and loses nothing."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spear_tui.store import open_store

sys.path.insert(0, str(Path(__file__).parent))
from _writer import make_alert  # noqa: E402

WRITER = Path(__file__).with_name("_writer.py")


def _committed(lines: list[str]) -> dict[int, int]:
    out = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 2:  # a line cut by the kill is incomplete: ignore it
            out[int(parts[0])] = int(parts[1])
    return out


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_writer_keeps_every_reported_alert(tmp_path: Path, sig: signal.Signals) -> None:
    store = tmp_path / "alerts.db"
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while len(lines) < 40 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
    proc.send_signal(sig)  # lands mid-loop: usually inside a write
    rest, err = proc.communicate(timeout=30)
    lines += rest.splitlines()
    assert "Traceback" not in err
    reported = _committed(lines)
    assert len(reported) >= 40, err

    with open_store(store) as reader:
        alerts = reader.alerts()
        for alert_id, seq in reported.items():
            assert alerts[alert_id] == make_alert(seq)
        # nothing half-written: every stored alert is a complete, known one, ids follow seq order
        assert sorted(alerts) == list(range(1, len(alerts) + 1))
        assert len(alerts) - len(reported) <= 1  # at most the batch committed as the signal landed
        (session,) = reader.sessions()
        assert session.interrupted  # never closed
        assert len(reader.chunks()) == 20 * len(alerts)


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG from write() instead of being killed


def test_disk_full_is_one_line_and_keeps_committed(tmp_path: Path) -> None:
    store = tmp_path / "alerts.db"
    proc = subprocess.run(
        [sys.executable, str(WRITER), str(store), "200"],
        capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    err_lines = proc.stderr.strip().splitlines()
    assert len(err_lines) == 1, proc.stderr
    assert err_lines[0].startswith(
        f"error: cannot write alert store {store}: disk full for this process: file size limit"
    )
    reported = _committed(proc.stdout.splitlines())
    assert len(reported) >= 3  # the limit is hit after some batches, not on creation
    with open_store(store) as reader:
        alerts = reader.alerts()
        assert {i: alerts[i] for i in reported} == {i: make_alert(s) for i, s in reported.items()}
        assert len(alerts) == len(reported)  # the failed batch left nothing behind


def test_full_tmpfs_is_one_line_and_keeps_committed(tmp_path: Path) -> None:
    """A real full file system: a 512 KiB tmpfs (needs root to mount; skipped otherwise)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        store = mnt / "alerts.db"
        proc = subprocess.run(
            [sys.executable, str(WRITER), str(store), "200"], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 2, proc.stderr
        err_lines = proc.stderr.strip().splitlines()
        assert err_lines == [f"error: cannot write alert store {store}: disk full (no space left on device)"]
        reported = _committed(proc.stdout.splitlines())
        assert len(reported) >= 3
        with open_store(store) as reader:
            alerts = reader.alerts()
            assert {i: alerts[i] for i in reported} == {i: make_alert(s) for i, s in reported.items()}
            assert len(alerts) == len(reported)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
