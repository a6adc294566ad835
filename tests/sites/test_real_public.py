"""On a real public capture (ITI modbus_test.pcap, tests/data/real/SOURCES.md): one master writes
06 to unit 7 about every two seconds the whole capture. Judged by the sample home every master there is
new (five alerts, the writer's high); a site learned from the first minute (`--to +60`) knows them, and
the whole capture raises nothing."""

from __future__ import annotations

import json
from pathlib import Path

from spear_tui.cli import main

from .plant import needs_tshark

ITI = Path(__file__).resolve().parents[1] / "data" / "real" / "modbus" / "iti_modbus_test.pcap"
WRITER = "192.168.0.156"

pytestmark = needs_tshark


def scan(capsys, *args: str) -> list[dict]:
    main(["scan", "--json", "--no-lstm", str(ITI), *args])
    return json.loads(capsys.readouterr().out)["alerts"]


def test_first_minute_site_knows_the_periodic_writer(tmp_path: Path, capsys) -> None:
    foreign = scan(capsys, "--site", "sample")
    masters = [a for a in foreign if "never seen acting as a master" in a["reason"]]
    assert len(masters) == 5
    assert [a["severity"] for a in masters if a["reason"].startswith(WRITER)] == ["high"]

    site = tmp_path / "iti"
    assert main(["learn", "--no-lstm", str(ITI), "--site", str(site), "--to", "+60"]) == 0
    m = json.loads((site / "manifest.json").read_text())
    assert m["window"] == {"to": "+60"} and m["end"] - m["start"] <= 60.0
    assert m["learned_items"]["modbus"]["writers"]["examples"] == [WRITER]
    capsys.readouterr()
    assert scan(capsys, "--site", str(site)) == []
