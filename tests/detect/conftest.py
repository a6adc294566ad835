"""Shared fixture: the normal sample capture's MQTT messages, dissected by tshark."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

NORMAL = Path(__file__).resolve().parents[2] / "sample_captures" / "normal.pcapng.gz"


@pytest.fixture(scope="module")
def mqtt_normal() -> pl.DataFrame:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    if not NORMAL.exists():
        pytest.skip(f"{NORMAL} missing (record it with sample_captures/record.py normal)")
    from spear_tui.commands.experiment import load_messages

    return load_messages(NORMAL, "mqtt", 10**9, [])
