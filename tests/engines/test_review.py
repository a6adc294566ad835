"""StoreEngine (`spear-tui review STORE` in the console) on a store written by a real scan.

Checks it re-emits exactly what the store holds (counted with SQL, not with the engine's code), in
capture-time order, and that drill-down re-reads the alert's frames from the source capture — the
frames tshark's own Modbus filter finds in that window — or says in one line that the source is gone.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from spear_tui.engines.review import StoreEngine
from spear_tui.errors import UserError
from spear_tui.events import Alert, ChunkScored, MessagesSeen, SourceProgress

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))
from _scanned import SAMPLE, require_tools, scanned_store, tshark_modbus_frames  # noqa: E402


@pytest.fixture(scope="module")
def store() -> Path:
    require_tools()
    return scanned_store()


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_run_reemits_every_stored_event_in_time_order(store: Path) -> None:
    engine = StoreEngine(store)
    batches: list[list[object]] = []
    engine.run(batches.append)
    events = [e for b in batches for e in b]
    alerts = [e for e in events if isinstance(e, Alert)]
    chunks = [e for e in events if isinstance(e, ChunkScored)]
    assert len(alerts) == _count(store, "SELECT count(*) FROM alerts") > 0
    assert len(chunks) == _count(store, "SELECT count(*) FROM chunks") > 0
    flagged = _count(store, "SELECT count(*) FROM chunks WHERE flagged")
    assert sum(c.flagged for c in chunks) == flagged
    seen = sum(e.messages for e in events if isinstance(e, MessagesSeen))
    assert seen == _count(store, "SELECT sum(count) FROM counters WHERE kind = 'messages'") > 0
    timed = [e.end for e in events if isinstance(e, Alert | ChunkScored)]
    assert timed == sorted(timed)
    assert isinstance(events[-1], SourceProgress) and events[-1].done
    # the alerts are the stored rows, field for field
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT first_frame, last_frame, protocol, start FROM alerts").fetchall()
    assert sorted((a.first_frame, a.last_frame, a.protocol, a.start) for a in alerts) == sorted(rows)


def test_slider_starts_at_the_k_the_session_ran_with(store: Path) -> None:
    engine = StoreEngine(store)
    # the detector wrote its k into each LSTM alert's reason; the engine reads it back from the thresholds
    reasons = [a.reason for a in engine.alerts if a.detector == "lstm"]
    stated = {float(m.group(1)) for r in reasons if (m := re.search(r"at k=([\d.]+)", r))}
    assert len(stated) == 1
    assert engine.get_sensitivity("modbus", "lstm") == stated.pop()
    assert engine.get_sensitivity("mqtt", "lstm") is None  # no MQTT in this session


def test_controls_are_accepted_and_stop_ends_run(store: Path) -> None:
    engine = StoreEngine(store)
    engine.pause()
    engine.set_speed(2.0)
    engine.set_sensitivity("modbus", "lstm", 3.5)
    assert engine.paused and engine.speed == 2.0
    assert engine.get_sensitivity("modbus", "lstm") == 3.5
    engine.stop()
    got: list[list[object]] = []
    engine.run(got.append)
    assert got == []


def test_drill_down_rereads_the_alert_window_from_the_source(store: Path) -> None:
    engine = StoreEngine(store)
    alert = next(a for a in engine.alerts if a.detector == "novelty")
    df = engine.messages_for(alert)
    frames = set(df["frame"].to_list())
    assert frames  # the window holds Modbus messages ...
    assert min(frames) >= alert.first_frame and max(frames) <= alert.last_frame
    # ... exactly on the frames tshark's own Modbus filter finds in it
    assert frames == tshark_modbus_frames(SAMPLE, alert.first_frame, alert.last_frame)
    assert engine.source_path(alert) == SAMPLE.resolve()
    assert alert.source == str(SAMPLE.resolve())  # packet drill-down opens the recorded absolute path


def test_drill_down_says_when_the_source_is_gone(store: Path, tmp_path: Path) -> None:
    engine = StoreEngine(store)
    gone = tmp_path / "moved-away.pcapng"
    engine.session = dataclasses.replace(engine.session, sources=[{"path": str(gone), "size": 1, "mtime": 1}])
    with pytest.raises(UserError, match="source capture gone"):
        engine.messages_for(engine.alerts[0])


def test_changed_source_is_refused(store: Path) -> None:
    engine = StoreEngine(store)
    src = dict(engine.session.sources[0], size=1)  # recorded size no longer matches the file
    engine.session = dataclasses.replace(engine.session, sources=[src])
    with pytest.raises(UserError, match="changed since"):
        engine.messages_for(engine.alerts[0])


def test_bad_store_and_session_are_one_line_errors(tmp_path: Path, store: Path) -> None:
    with pytest.raises(UserError, match="no such store"):
        StoreEngine(tmp_path / "missing.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(UserError, match="not a spear-tui store"):
        StoreEngine(junk)
    with pytest.raises(UserError, match="no session 99"):
        StoreEngine(store, session=99)
