"""Message-type names against tshark's own: what `tshark -V` prints for each real message's function
code / APDU type and service is what the console, `scan` and the messages CSV print next to the code."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from spear_tui.protocols.names import label_column, message_type_label, message_type_name

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "data" / "real"
MODBUS = [ROOT / "sample_captures" / "modbus_incidents.pcapng", REAL / "modbus" / "iti_ModbusTCP.pcap"]
BACNET = [*sorted((REAL / "bacnet").glob("*.pcap")), ROOT / "sample_captures" / "bacnet_incidents.pcapng"]


def _verbose(path: Path, display: str) -> list[str]:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed (apt-get install tshark)")
    out = subprocess.run(["tshark", "-r", str(path), "-Y", display, "-V"], capture_output=True, text=True)
    return out.stdout.splitlines()


def _shown(line: str) -> tuple[str, int]:
    """'    .000 0011 = Function Code: Read Holding Registers (3)' -> ('Read Holding Registers', 3)."""
    m = re.search(r": (.+) \((\d+)\)$", line)
    assert m, line
    return m.group(1), int(m.group(2))


@pytest.mark.parametrize("path", MODBUS, ids=lambda p: p.name)
def test_modbus_function_names_are_tsharks(path):
    seen = {_shown(ln) for ln in _verbose(path, "modbus") if "Function Code:" in ln}
    assert len(seen) >= 4
    for name, code in seen:
        assert message_type_label("modbus", code) == f"{name} ({code})"


@pytest.mark.parametrize("path", BACNET, ids=lambda p: p.name)
def test_bacnet_apdu_and_service_names_are_tsharks(path):
    """Per frame: tshark's APDU type and service choice names, in our label for apdu * 256 + service."""
    frames: list[list[tuple[str, int]]] = []
    for ln in _verbose(path, "bacapp"):
        if ln.startswith("Frame "):
            frames.append([])
        elif re.search(r"(APDU Type|Service Choice): ", ln) and frames:
            frames[-1].append(_shown(ln))
    checked = 0
    for parts in frames:
        if len(parts) != 2:  # a Segment-ACK or an error without a service: named by its APDU type only
            continue
        (apdu_name, apdu), (service_name, service) = parts
        assert message_type_name("bacnet", apdu * 256 + service) == f"{apdu_name} {service_name}"
        checked += 1
    assert checked >= 1


def test_unknown_and_missing_codes_say_so():
    assert message_type_label("modbus", 99) == "function 99 (99)"
    assert message_type_label("mqtt", None) == "?" and message_type_label("mqtt", -1) == "?"
    assert message_type_label("bacnet", 1 * 256 + 200).endswith("service 200 (456)")


def test_label_column_names_each_row_by_its_own_protocol():
    t = pl.DataFrame({"protocol": ["mqtt", "modbus", "mqtt", None], "msgtype": [3, 3, 12, None]})
    want = [message_type_label(p or "", c) for p, c in zip(t["protocol"], t["msgtype"], strict=True)]
    assert label_column(t).to_list() == want
    assert want[:2] == ["PUBLISH (3)", "Read Holding Registers (3)"]
    assert label_column(t.drop("protocol"), "modbus").to_list() == [
        "Read Holding Registers (3)", "Read Holding Registers (3)", "Get Comm Event Log (12)", "?"
    ]
