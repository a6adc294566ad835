"""The two recorded captures of one small Modbus plant (sample_captures/site_plant.py) and their labels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

PLANT = Path(__file__).resolve().parents[1] / "data" / "site_plant"
DAY1, DAY2 = PLANT / "day1.pcapng.gz", PLANT / "day2.pcapng.gz"
SCADA, INTRUDER, PLC = "127.0.9.1", "127.0.9.66", "127.0.9.10"

needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def injected_time() -> float:
    labels = json.loads((PLANT / "day2.labels.json").read_text())
    return next(e["time"] for e in labels["events"] if e["what"].startswith("injected"))


def legit_times() -> list[float]:
    labels = json.loads((PLANT / "day2.labels.json").read_text())
    return [e["time"] for e in labels["events"] if e["what"].startswith("legitimate")]
