"""Run the real `spear-tui` console script as a subprocess, always with a timeout (a hang fails the test)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "data" / "real"
SAMPLES = ROOT / "sample_captures"
SPEAR = str(Path(sys.executable).with_name("spear-tui"))
TSHARK = shutil.which("tshark")


def run(args: list[str], timeout: float = 120, env: dict | None = None, cwd: Path | None = None):
    """`spear-tui ARGS` -> CompletedProcess (text). JAX kept to one thread so parallel runs stay cheap."""
    full_env = {
        **os.environ,
        "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    }
    full_env.update(env or {})
    try:
        return subprocess.run(
            [SPEAR, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"spear-tui {' '.join(args)} hung (> {timeout} s)")


def assert_one_line_error(proc, *needles: str) -> str:
    """Exit 2, exactly one non-empty stderr line `spear-tui: error: ...`, no traceback."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("spear-tui: error: "), lines[0]
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, lines[0])
    return lines[0]


def assert_no_traceback(proc, codes=(0, 1)) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-2000:]
    assert proc.returncode in codes, (proc.returncode, proc.stderr[-2000:])


def need_tshark() -> None:
    if TSHARK is None:
        pytest.skip("tshark is not installed (apt-get install tshark)")


def tshark_count(path: Path, display_filter: str) -> int:
    """Frames tshark itself selects with a display filter: the independent reference."""
    out = subprocess.run(
        [TSHARK, "-n", "-r", str(path), "-Y", display_filter, "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return sum(1 for ln in out.splitlines() if ln.strip())


def normal_sample() -> Path:
    """The recorded normal sample (plain or gzipped, whichever the recorder left)."""
    for name in ("normal.pcapng", "normal.pcapng.gz"):
        if (SAMPLES / name).is_file():
            return SAMPLES / name
    pytest.skip("sample_captures/normal.pcapng is missing (run sample_captures/record.py normal)")
