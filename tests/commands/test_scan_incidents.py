"""`scan`'s incidents in every output: the JSON `incidents` key, the text report, FILE.incidents.csv; each
alert names its incident, and every alert is in exactly one."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from spear_tui.cli import main

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
SAMPLE = Path(__file__).parents[2] / "sample_captures" / "modbus_incidents.pcapng"


def test_incidents_in_json_text_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out_csv = tmp_path / "alerts.csv"
    assert main(["scan", "--json", "--csv", str(out_csv), str(SAMPLE)]) == 1
    doc = json.loads(capsys.readouterr().out)
    incidents, alerts = doc["incidents"], doc["alerts"]
    assert 1 <= len(incidents) < len(alerts)
    members = sorted(a for i in incidents for a in i["alerts"])
    assert members == sorted(a["id"] for a in alerts)  # every alert in exactly one incident
    by_id = {i["id"]: i for i in incidents}
    for a in alerts:
        inc = by_id[a["incident"]]
        assert a["id"] in inc["alerts"] and a["detectors"] == inc["detectors"]
        assert inc["first_frame"] <= a["first_frame"] and a["last_frame"] <= inc["last_frame"]
    for inc in incidents:
        assert inc["reason"] == inc["reasons"][0]
        mine = [a for a in alerts if a["incident"] == inc["id"]]
        assert inc["severity"] == max((a["severity"] for a in mine), key=["low", "medium", "high"].index)
        assert set(inc["detectors"]) == {a["detector"] for a in mine}
    assert [i["start"] for i in incidents] == sorted(i["start"] for i in incidents)
    with open(f"{out_csv}.incidents.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(int(r["id"]), r["reason"]) for r in rows] == [(i["id"], i["reason"]) for i in incidents]
    assert [r["alerts"] for r in rows] == [";".join(map(str, i["alerts"])) for i in incidents]

    assert main(["scan", str(SAMPLE)]) == 1
    text = capsys.readouterr().out
    assert f"incidents: {len(incidents)}\n" in text
    for inc in incidents:
        assert f"{len(inc['alerts'])} alert(s), frames {inc['first_frame']}-{inc['last_frame']}" in text
