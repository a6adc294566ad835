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

import numpy as np
import pytest
from textual.widgets import DataTable

from spear_tui.console.app import SpearApp
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.day_plot import DayPlot
from spear_tui.engines.meter import MeterEngine
from spear_tui.engines.review import StoreEngine
from spear_tui.errors import UserError
from spear_tui.events import DayScored, EngineError, SourceProgress
from spear_tui.meter.days import to_days
from spear_tui.meter.files import read_meter_file

sys.path.insert(0, str(Path(__file__).parents[1] / "commands"))
from test_meter_scan import CSV  # noqa: E402
from test_meter_scan import _run as _scan  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_meter import csv_days  # noqa: E402

TZ = "Europe/Athens"

pytestmark = pytest.mark.skipif(not CSV.exists(), reason="sample meter file not generated")


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, Path]:
    store = tmp_path_factory.mktemp("meter-store") / "meter.db"
    model = store.with_name("model.ckpt")
    code, out, err = _scan(["meter", "scan", str(CSV), "--tz", TZ, "--epochs", "3", "--json", "--train-to",
                            "2025-03-09", "--store", str(store), "--save-model", str(model)])  # fmt: skip
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
        plot = app.screen.query_one(DayPlot)  # the first day, redrawn from the file and the saved model
        for _ in range(400):
            if plot.measured is not None:
                break
            await pilot.pause(0.05)
        first = doc["days"][0]["date"]
        assert plot.measured is not None, "the stored day was not redrawn"
        np.testing.assert_allclose(plot.measured, csv_days()[first], rtol=1e-6)


def test_meter_scan_output_is_the_engine_run_headless(scanned: tuple[int, dict, Path]) -> None:
    """The same engine, run directly, scores the same days with the same flags and thresholds."""
    import datetime as dt

    from spear_tui.commands.meter import report
    from spear_tui.detect.meter.meter_threshold import parse_threshold
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


def test_review_redraws_a_stored_day_from_the_file_and_its_model(scanned: tuple[int, dict, Path]) -> None:
    _, doc, store = scanned
    engine = StoreEngine(store)
    assert engine.keeps_days
    day = doc["flagged"][0] if doc["flagged"] else doc["days"][100]["date"]
    measured, reconstructed = engine.day_series("active_power", day)
    np.testing.assert_allclose(measured, csv_days()[day], rtol=1e-6)  # the file's own samples (csv module)
    live = MeterEngine.from_days(
        to_days(read_meter_file(CSV, tz=TZ), tz=TZ), "active_power", source=str(CSV),
        model=store.with_name("model.ckpt"),
    )  # fmt: skip
    live.run(None)
    rec = live.record("active_power", day)
    assert rec is not None
    np.testing.assert_allclose(reconstructed, rec.reconstructed, rtol=1e-6)


def test_a_changed_meter_file_is_one_line_not_a_wrong_plot(tmp_path: Path) -> None:
    copy = tmp_path / "office.csv"
    copy.write_bytes(CSV.read_bytes())
    store = tmp_path / "s.db"
    code, _, err = _scan(["meter", "scan", str(copy), "--tz", TZ, "--epochs", "1", "--train-to", "2025-01-31",
                          "--store", str(store), "--save-model", str(tmp_path / "m.ckpt")])  # fmt: skip
    assert code in (0, 1), err
    with copy.open("a") as f:
        f.write("\n")
    engine = StoreEngine(store)
    with pytest.raises(UserError, match="changed since it was scanned"):
        engine.day_series("active_power", "2025-01-02")


def test_a_session_trained_and_not_saved_keeps_no_day_series(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    code, _, err = _scan(["meter", "scan", str(CSV), "--tz", TZ, "--epochs", "1", "--train-to", "2025-01-31",
                          "--store", str(store)])  # fmt: skip
    assert code in (0, 1), err
    engine = StoreEngine(store)
    assert engine.kind == "meter" and not engine.keeps_days
    assert engine.day_series("active_power", "2025-01-02") is None
