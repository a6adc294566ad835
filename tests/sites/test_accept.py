"""Accept as normal through the alert store: `site accept ALERT_ID` adds the alert's tuples to the site
(recorded with who/when), the next scan does not raise it, `site unaccept` brings it back. A store
from before the accept column (version 1) is read and upgraded."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from spear_tui.cli import main
from spear_tui.errors import UserError
from spear_tui.site import open_site
from spear_tui.site.accept import accept_alert, current_user
from spear_tui.store import AlertStore, open_store

from .plant import DAY1, DAY2, INTRUDER, SCADA, needs_tshark


def scan(capsys, site: str, *extra: str) -> dict:
    main(["scan", "--json", "--no-lstm", str(DAY2), "--site", site, *extra])
    return json.loads(capsys.readouterr().out)


@needs_tshark
def test_accept_and_unaccept_round_trip_through_the_store(tmp_path: Path, capsys) -> None:
    assert main(["learn", "--no-lstm", str(DAY1), "--site", "plant"]) == 0  # a name: under XDG_DATA_HOME
    capsys.readouterr()
    db = tmp_path / "day2.db"
    first = scan(capsys, "plant", "--store", str(db))
    assert [a["severity"] for a in first["alerts"] if a["reason"].startswith(SCADA)] == ["low"]
    with open_store(db) as reader:
        ids = {i: a for i, a in reader.alerts().items()}
    (legit_id,) = [i for i, a in ids.items() if a.reason.startswith(SCADA)]
    assert json.loads(ids[legit_id].accept)["write_tuples"] == [[SCADA, "127.0.9.10", 2, 6]]

    assert main(["site", "accept", str(legit_id), "--store", str(db), "--site", "plant"]) == 0
    m = open_site("plant").manifest
    (item,) = m.accepted
    assert item.who == current_user() and item.when > 0 and item.id.endswith(f"#{legit_id}")
    capsys.readouterr()
    second = scan(capsys, "plant")
    assert not [a for a in second["alerts"] if a["reason"].startswith(SCADA)]  # accepted: no alert
    assert [a for a in second["alerts"] if INTRUDER in a["talkers"]]  # the intruder still alerts

    capsys.readouterr()
    assert main(["site", "accept", str(legit_id), "--store", str(db), "--site", "plant"]) == 2
    assert "already accepted" in capsys.readouterr().err
    assert main(["site", "unaccept", str(legit_id), "--site", "plant"]) == 0
    assert open_site("plant").manifest.accepted == []
    capsys.readouterr()
    third = scan(capsys, "plant")
    assert [a["reason"] for a in third["alerts"]] == [a["reason"] for a in first["alerts"]]


def test_lstm_alert_cannot_be_accepted(tmp_path: Path) -> None:
    from spear_tui.events import Alert
    from spear_tui.site.manifest import Manifest, save_manifest

    save_manifest(tmp_path, Manifest(name="x"))
    site = open_site(str(tmp_path))
    a = Alert("modbus", "lstm", 0.0, 1.0, 1, 2, 3.0, 1.0, "chunk")
    with pytest.raises(UserError, match="nothing to accept"):
        accept_alert(site, a, "k")
    bad = Alert("modbus", "novelty", 0.0, 1.0, 1, 2, 3.0, 1.0, "x", accept='{"_masters": [["a"]]}')
    with pytest.raises(UserError, match="damaged"):
        accept_alert(site, bad, "k")
    assert open_site(str(tmp_path)).manifest.accepted == []


def test_version_1_store_is_read_and_upgraded(tmp_path: Path) -> None:
    from spear_tui.events import Alert

    db = tmp_path / "old.db"
    with AlertStore(db, {"command": "scan"}) as store:
        store.write([Alert("modbus", "novelty", 0.0, 1.0, 1, 2, 3.0, 0.0, "old", accept="")])
    c = sqlite3.connect(db)
    for col in ("accept", "eid", "chunk"):  # what a version 1 store looks like
        c.execute(f"ALTER TABLE alerts DROP COLUMN {col}")
    c.execute("ALTER TABLE chunks DROP COLUMN messages")
    c.execute("ALTER TABLE chunks DROP COLUMN detector")
    c.execute("DROP TABLE incidents")
    c.execute("DROP TABLE rules")
    c.execute("PRAGMA user_version=1")
    c.commit()
    c.close()
    with open_store(db) as reader:
        (a,) = reader.alerts().values()
    assert a.reason == "old" and a.accept == ""
    with AlertStore(db, {"command": "scan"}) as store:  # a writer upgrades it
        store.write(
            [Alert("modbus", "novelty", 0.0, 1.0, 1, 2, 3.0, 0.0, "new", accept='{"masters":[["h"]]}')]
        )
    with open_store(db) as reader:
        assert [x.accept for x in reader.alerts().values()] == ["", '{"masters":[["h"]]}']
