"""A store written by a real `spear-tui scan --store` of the Modbus incident sample, made once per test
process (the scan runs the shipped models on the real capture; ~10-20 s) and shared by the StoreEngine
and review-console tests. Not a fixture module: plain functions, cached."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "sample_captures" / "modbus_incidents.pcapng"


def require_tools() -> None:
    for tool in ("tshark", "editcap", "capinfos"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install tshark)")
    if not SAMPLE.is_file():
        pytest.skip(f"sample capture missing: {SAMPLE}")


@functools.cache
def scanned_store() -> Path:
    """Path of the store; the scan's exit code must be 1 (alerts found)."""
    from spear_tui.cli import main

    tmp = Path(tempfile.mkdtemp(prefix="spear-scanned-"))
    atexit.register(shutil.rmtree, tmp, True)
    db = tmp / "modbus.db"
    code = main(["scan", "--store", str(db), str(SAMPLE)])
    assert code == 1, f"scan of {SAMPLE.name} found no alerts (exit {code})"
    return db


def tshark_frames(capture: Path) -> list[int]:
    """Frame numbers tshark reads from a capture (independent of spear-tui's own code)."""
    import subprocess

    out = subprocess.run(
        ["tshark", "-r", str(capture), "-T", "fields", "-e", "frame.number"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    return [int(x) for x in out.split()]


def tshark_modbus_frames(capture: Path, first: int, last: int) -> set[int]:
    """Frames carrying a Modbus/TCP message in [first, last], as tshark's own display filter finds them."""
    import subprocess

    out = subprocess.run(
        ["tshark", "-r", str(capture), "-Y", f"mbtcp && frame.number >= {first} && frame.number <= {last}",
         "-T", "fields", "-e", "frame.number"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    return {int(x) for x in out.split()}
