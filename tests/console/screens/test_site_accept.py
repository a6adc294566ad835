"""Accept as normal from the console (Pilot) on the REAL engine: a site learned from day 1 of the
recorded Modbus plant, day 2 replayed against it. The severity filter (s) narrows the Alerts screen to
the injected write; `a` on it records it in the site (who/when) and the next scan does not raise it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spear_tui.cli import main
from spear_tui.console.app import SpearApp
from spear_tui.console.screens.incidents import IncidentsScreen
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.incident_list import IncidentList
from spear_tui.site import open_site
from spear_tui.site.accept import current_user
from spear_tui.site.learn import learn_site

from ..harness import FixedClock, screen_text, tables_measured

PLANT = Path(__file__).resolve().parents[2] / "data" / "site_plant"  # as in tests/sites/plant.py
DAY1, DAY2 = PLANT / "day1.pcapng.gz", PLANT / "day2.pcapng.gz"
SCADA, INTRUDER = "127.0.9.1", "127.0.9.66"

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


async def wait_for(pilot, cond, tries: int = 600) -> None:
    for _ in range(tries):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


async def test_severity_filter_and_accept_key_record_into_the_site(
    tmp_path: Path, settings: Settings, capsys
) -> None:
    path = tmp_path / "plant"
    learn_site(open_site(str(path), create=True), [DAY1], lstm=False)
    site = open_site(str(path))

    def factory():
        from spear_tui.engines.builder import DetectorChoice, build_engine, open_source

        choice = DetectorChoice(lstm=False, protocols=("modbus",), models=site.path, site=site)
        return build_engine(open_source([DAY2]), choice, speed=None)

    app = SpearApp(factory, source=str(DAY2), settings=settings, clock=FixedClock(), site=site)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.engine is not None and app.engine.finished.is_set())
        app.drain()
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, IncidentsScreen)
        table = app.screen.query_one(IncidentList)
        await wait_for(pilot, lambda: table.row_count == 2)
        assert sorted(i.severity for i in table.shown) == ["high", "low"]
        await pilot.press("s")  # medium and high only
        await pilot.pause()
        assert table.row_count == 1 and INTRUDER in table.shown[0].actors
        await tables_measured(app, pilot)
        assert "1 incident(s) newest first  severity medium+" in await screen_text(app, pilot)
        table.move_cursor(row=0)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("s", "s")  # back to every severity
        await pilot.pause()
        assert table.row_count == 2

    (item,) = open_site(str(path)).manifest.accepted
    assert item.protocol == "modbus" and item.who == current_user() and item.id.startswith("console:")
    assert [INTRUDER] in item.adds["masters"]
    assert [INTRUDER, "127.0.9.10", 1, 16] in item.adds["write_tuples"]
    capsys.readouterr()
    main(["scan", "--json", "--no-lstm", str(DAY2), "--site", str(path)])
    after = json.loads(capsys.readouterr().out)["alerts"]
    assert not [a for a in after if INTRUDER in a["talkers"]]  # accepted: no longer raised
    assert [a["severity"] for a in after if a["reason"].startswith(SCADA)] == ["low"]
