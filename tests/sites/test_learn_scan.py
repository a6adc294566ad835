"""Must-show on two recorded captures of one Modbus plant (real pymodbus stacks; tests/data/site_plant):
learn a site from day 1, scan day 2 with it: the injected write from a host never seen as master is
high; the legitimate SCADA master's writes are low or absent. Without --site, day 2 is judged by
nobody's baseline: nothing is raised inside the learning period, and the JSON says what was learned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spear_tui.cli import main

from .plant import DAY1, DAY2, INTRUDER, SCADA, injected_time, legit_times, needs_tshark

pytestmark = needs_tshark


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site learned (novelty baselines and the LSTM) from day 1, at an explicit path."""
    site = tmp_path_factory.mktemp("sites") / "plant"
    assert main(["learn", str(DAY1), "--site", str(site)]) == 0
    return site


def scan_json(capsys, *args: str) -> dict:
    code = main(["scan", "--json", *args])
    doc = json.loads(capsys.readouterr().out)
    assert code == (1 if doc["alerts"] else 0)
    return doc


def test_learn_writes_models_baselines_and_manifest(learned: Path) -> None:
    assert (learned / "modbus.msgpack").is_file() and (learned / "modbus_novelty.msgpack").is_file()
    m = json.loads((learned / "manifest.json").read_text())
    assert m["captures"] == [str(DAY1.resolve())] and m["messages"]["modbus"] > 4000
    items = m["learned_items"]["modbus"]
    assert sorted(items["masters"]["examples"]) == [SCADA, "127.0.9.2"]
    assert items["writers"]["examples"] == [SCADA]
    assert items["lstm"]["trained"] and items["lstm"]["chunks"] >= 8


def test_injected_write_is_high_and_legitimate_writes_low(learned: Path, capsys) -> None:
    doc = scan_json(capsys, str(DAY2), "--site", str(learned))
    assert doc["site"]["path"] == str(learned) and "learning" not in doc
    novelty = [a for a in doc["alerts"] if a["detector"] == "novelty"]
    t_inj = injected_time()
    bad = [a for a in novelty if INTRUDER in a["talkers"]]
    assert len(bad) == 1 and bad[0]["severity"] == "high"
    assert "never seen acting as a master" in bad[0]["reason"] and "(16)" in bad[0]["reason"]
    assert bad[0]["start"] <= t_inj + 1 and bad[0]["end"] >= t_inj - 1
    legit = [a for a in novelty if a["reason"].startswith(SCADA)]
    assert all(a["severity"] == "low" for a in legit)  # low, or absent
    assert all(a["severity"] != "high" for a in doc["alerts"] if INTRUDER not in a["talkers"])
    first_legit = min(legit_times())
    assert all(a["start"] >= first_legit - 1 for a in legit)


def test_sample_site_judges_the_plant_as_foreign(capsys) -> None:
    """The old behaviour, still available with --site sample: every master of the plant is new."""
    doc = scan_json(capsys, str(DAY2), "--site", "sample", "--no-lstm")
    assert any(SCADA in a["reason"] and "never seen acting as a master" in a["reason"] for a in doc["alerts"])


def test_without_site_a_foreign_capture_starts_with_a_learning_period(capsys) -> None:
    doc = scan_json(capsys, str(DAY2))
    learning = doc["learning"]["modbus"]
    nov = learning["novelty"]
    assert nov["seconds"] == 300 and not nov["done"]  # the capture (150 s) is all learning
    assert doc["alerts"] == []  # the injected write falls inside it: nothing raised silently ...
    masters = nov["learned"]["masters"]["examples"]
    assert INTRUDER in masters and SCADA in masters  # ... what was learned is listed instead
    assert learning["lstm"]["chunks"] == 8 and learning["lstm"]["scored"] <= 8
    assert doc["site"] is None


def test_bundled_samples_keep_the_sample_site(capsys) -> None:
    sample = Path(__file__).resolve().parents[2] / "sample_captures" / "modbus_incidents.pcapng"
    doc = scan_json(capsys, str(sample), "--no-lstm")
    assert "learning" not in doc and doc["alerts"]


def test_a_protocol_the_site_never_saw_learns_first(learned: Path, capsys) -> None:
    mqtt = Path(__file__).resolve().parents[1] / "data" / "real" / "mqtt" / "ndpi_mqtt.pcap"
    doc = scan_json(capsys, str(DAY2), str(mqtt), "--site", str(learned), "--no-lstm")
    assert list(doc["learning"]) == ["mqtt"]  # modbus is judged by the site, MQTT learns first
    assert doc["learning"]["mqtt"]["novelty"]["learned"]["clients"]["count"] >= 1
    until = doc["learning"]["mqtt"]["novelty"]["until"]
    assert all(a["start"] >= until for a in doc["alerts"] if a["protocol"] == "mqtt")  # none inside it
    assert [a for a in doc["alerts"] if INTRUDER in a["talkers"]]


def test_scan_uses_the_site_console_settings(tmp_path: Path, capsys) -> None:
    """A rule switched off in the console with --site (saved in the site's settings.json) is off for
    `scan --site` too."""
    from spear_tui.console.settings import Settings

    site = tmp_path / "plant"
    assert main(["learn", "--no-lstm", str(DAY1), "--site", str(site)]) == 0
    capsys.readouterr()
    before = scan_json(capsys, str(DAY2), "--site", str(site), "--no-lstm")["alerts"]
    assert [a for a in before if INTRUDER in a["talkers"]]
    Settings(site / "settings.json").set_switch("modbus/novelty/rule/new_master", False)
    after = scan_json(capsys, str(DAY2), "--site", str(site), "--no-lstm")["alerts"]
    assert not [a for a in after if "never seen acting as a master" in a["reason"]]
    (write,) = [a for a in after if INTRUDER in a["talkers"]]  # the new_write rule still catches it
    assert "never seen writing" in write["reason"] and write["severity"] == "high"
