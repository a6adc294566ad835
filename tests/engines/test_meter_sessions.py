"""Meter sessions go through the MeterEngine's sinks into the alert store, and come back in review.

`meter scan` runs the engine headless: its JSON is what the engine scored (checked against the store's
own rows, counted with SQL), the stored session replays as the same days, and the console opens a
stored meter session on its meter screen with every day and the same flags.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable

from spear_tui.console.app import SpearApp
from spear_tui.console.settings import Settings
from spear_tui.engines.meter import MeterEngine
from spear_tui.engines.review import StoreEngine
from spear_tui.events import DayScored, EngineError, SourceProgress

sys.path.insert(0, str(Path(__file__).parents[1] / "commands"))
from test_meter_scan import CSV  # noqa: E402
from test_meter_scan import _run as _scan  # noqa: E402

TZ = "Europe/Athens"

pytestmark = pytest.mark.skipif(not CSV.exists(), reason="sample meter file not generated")


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, Path]:
    store = tmp_path_factory.mktemp("meter-store") / "meter.db"
    code, out, err = _scan(["meter", "scan", str(CSV), "--tz", TZ, "--epochs", "3", "--json",
                            "--train-to", "2025-03-09", "--store", str(store)])  # fmt: skip
    assert code in (0, 1), err
    return code, json.loads(out), store


def test_meter_scan_records_its_session_in_the_store(scanned: tuple[int, dict, Path]) -> None:
    code, doc, store = scanned
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT date, flagged, complete, threshold FROM days ORDER BY date").fetchall()
        meta = json.loads(conn.execute("SELECT meta FROM sessions").fetchone()[0])
        ended = conn.execute("SELECT ended FROM sessions").fetchone()[0]
    assert len(rows) == len(doc["days"]) == 365
    assert [(r[0], bool(r[1]), bool(r[2])) for r in rows] == [
        (d["date"], d["flagged"], d["complete"]) for d in doc["days"]
    ]
    assert [round(r[3], 6) for r in rows] == [d["threshold"] for d in doc["days"]]
    assert meta["kind"] == "meter" and meta["measurement"] == doc["measurement"] == "active_power"
    assert ended is not None  # closed cleanly
    assert code == (1 if doc["flagged"] else 0)


def test_the_stored_meter_session_replays_as_the_same_days(scanned: tuple[int, dict, Path]) -> None:
    _, doc, store = scanned
    engine = StoreEngine(store)
    assert engine.kind == "meter"
    batches: list[list[object]] = []
    engine.run(batches.append)
    events = [e for b in batches for e in b]
    days = [e for e in events if isinstance(e, DayScored)]
    assert [(d.date, d.flagged) for d in days] == [(d["date"], d["flagged"]) for d in doc["days"]]
    assert not [e for e in events if isinstance(e, EngineError)]
    assert isinstance(events[-1], SourceProgress) and events[-1].done


async def test_review_opens_a_meter_session_on_the_meter_screen(
    scanned: tuple[int, dict, Path], tmp_path: Path
) -> None:
    _, doc, store = scanned
    engine = StoreEngine(store)
    app = SpearApp(lambda: engine, source=engine.name, kind="meter", settings=Settings(tmp_path / "s.json"))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(400):
            if engine.finished.is_set() and not app._inbox:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        app.drain()
        await pilot.pause(0.2)
        assert app.current_mode == "meter" and not app.state.errors
        table = app.screen.query_one("#days", DataTable)
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i)[2].plain for i in range(table.row_count)}
        assert sorted(rows) == [d["date"] for d in doc["days"]]
        assert sorted(d for d, flag in rows.items() if flag == "FLAG") == doc["flagged"]


def test_meter_scan_output_is_the_engine_run_headless(scanned: tuple[int, dict, Path]) -> None:
    """The same engine, run directly, scores the same days with the same flags and thresholds."""
    import datetime as dt

    from spear_tui.commands.meter import report
    from spear_tui.detect.meter_threshold import parse_threshold
    from spear_tui.engines.meter import TrainPlan
    from spear_tui.meter.days import to_days
    from spear_tui.meter.files import read_meter_file

    _, doc, _ = scanned
    days = to_days(read_meter_file(CSV, tz=TZ), tz=TZ)
    engine = MeterEngine.from_days(
        days, "active_power", source=str(CSV), rule=parse_threshold("auto"),
        train=TrainPlan(end=dt.date(2025, 3, 9), epochs=3),
    )  # fmt: skip
    got: list[list[object]] = []
    engine.run(got.append)
    scored = [e for b in got for e in b if isinstance(e, DayScored)]
    args = type("Args", (), {"file": CSV, "holidays": None})()
    assert report(args, engine, scored, 0, days.units.get("active_power"))["days"] == doc["days"]  # type: ignore[arg-type]


def test_meter_scan_refuses_too_few_training_days_before_training(tmp_path: Path) -> None:
    store = tmp_path / "none.db"
    code, out, err = _scan(["meter", "scan", str(CSV), "--train-from", "2030-01-01", "--store", str(store)])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "at least 4 normal days" in err and "complete day" in err
    assert not store.exists()  # checked before a store is created
