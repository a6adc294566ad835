"""Store round trip, session bookkeeping and refusal of files that are not (our version of) a store."""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from pathlib import Path

import pytest

from spear_tui import __version__
from spear_tui.errors import UserError
from spear_tui.events import (
    Alert,
    ChunkScored,
    DayScored,
    EngineError,
    MessagesSeen,
    PacketsSkipped,
    SourceProgress,
)
from spear_tui.store import AlertStore, open_store
from spear_tui.store.schema import APPLICATION_ID, VERSION

REAL = Path(__file__).parents[1] / "data" / "real"


def _alert(i: int, **kw: object) -> Alert:
    base = dict(
        protocol="modbus", detector="novelty", start=100.0 + i, end=101.0 + i, first_frame=i,
        last_frame=i + 5, score=3.0, threshold=1.0, reason=f"new function code {i}",
        talkers=("10.0.0.1", "10.0.0.2"),
        severity="high", file=1, source="b.pcap", detectors=("novelty", "lstm"),
    )  # fmt: skip
    base.update(kw)
    return Alert(**base)  # type: ignore[arg-type]


def test_round_trip_of_every_stored_event_kind(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    chunk = ChunkScored("mqtt", 7, 1.0, 2.0, 10, 60, 0.25, 0.125, True, 0.2, file=1, talkers=("a", "b"))
    nan_chunk = ChunkScored("mqtt", 8, 2.0, 3.0, 61, 99, math.nan, 0.5, False, None)
    day = DayScored("kwh", "2014-11-27", 0.75, True, False, 0.5)
    with AlertStore(path, {"command": "scan", "sources": ["a.pcap", "b.pcap"], "decode_as": []}) as store:
        ids = store.write([
            chunk, nan_chunk, day, _alert(1), SourceProgress("x", 1.0, None),
            MessagesSeen("mqtt", 40, 1.0, 2.0), MessagesSeen("mqtt", 2, 2.0, 3.0),
            PacketsSkipped("mqtt", 3, "malformed"), EngineError("tshark died"), _alert(2, severity="low"),
        ])  # fmt: skip
        assert ids == [1, 2]
        assert store.write([SourceProgress("x", 2.0, None)]) == []
    with open_store(path) as r:
        assert r.alerts() == {1: _alert(1), 2: _alert(2, severity="low")}
        assert list(r.alerts(min_severity="medium")) == [1]
        assert list(r.alerts(after_id=1)) == [2]
        assert r.alerts(protocol="mqtt") == {}
        c = r.chunks()
        assert c[0] == chunk
        assert math.isnan(c[1].score) and c[1].threshold is None and c[1].train_loss == 0.5
        assert r.days() == [day]
        assert r.counters() == {"mqtt": {"messages": 42, "skipped": {"malformed": 3}}}
        assert r.errors() == ["tshark died"]
        (s,) = r.sessions()
        assert not s.interrupted
        assert s.meta == {"command": "scan", "decode_as": [], "spear_tui_version": __version__}
        rec = r.alert(2)
        assert rec.source["path"] == "b.pcap" and rec.session.id == s.id  # Alert.file=1 -> 2nd source
        with pytest.raises(UserError, match="no alert 9"):
            r.alert(9)


def test_sources_record_absolute_path_size_and_mtime(tmp_path: Path) -> None:
    cap = REAL / "modbus" / "iti_bro_modbusSmall.pcap"
    with AlertStore(tmp_path / "s.db", {"sources": [str(cap), "eth0"]}):
        pass
    (s,) = open_store(tmp_path / "s.db").sessions()
    assert s.sources[0] == {
        "path": str(cap.resolve()),
        "size": cap.stat().st_size,
        "mtime": cap.stat().st_mtime,
    }
    assert s.sources[1]["path"] == "eth0" and s.sources[1]["size"] is None
    with AlertStore(tmp_path / "s.db", {"files": [str(cap)]}):  # PacketSource.files under its own name
        pass
    assert open_store(tmp_path / "s.db").sessions()[1].sources[0]["path"] == str(cap.resolve())


def test_sessions_append_and_reader_sees_commits_of_a_running_writer(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with AlertStore(path, {"n": 1}) as first:
        first.write([_alert(1)])
    second = AlertStore(path, {"n": 2})
    reader = open_store(path)
    assert [s.meta["n"] for s in reader.sessions()] == [1, 2]
    assert reader.sessions()[1].interrupted  # still open
    second.write([_alert(2), _alert(3)])
    assert list(reader.alerts(session=second.session)) == [2, 3]  # visible without closing the writer
    assert list(reader.alerts(session=1)) == [1]
    second.close()
    second.close()  # idempotent
    with pytest.raises(UserError, match="closed"):
        second.write([_alert(4)])
    reader.close()


def test_write_from_another_thread(tmp_path: Path) -> None:
    import threading

    store = AlertStore(tmp_path / "s.db", {})
    out: list[int] = []
    t = threading.Thread(target=lambda: out.extend(store.write([_alert(1)])))
    t.start()
    t.join()
    store.close()
    assert out == [1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not a spear-tui store"),  # empty file: SQLite would call it an empty database
        (b"hello, this is text\n" * 50, "is not a spear-tui store (not an SQLite database)"),
        (bytes(range(256)) * 64, "is not a spear-tui store (not an SQLite database)"),
    ],
)
def test_non_store_files_are_refused_in_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(UserError) as err:
        open_store(path)
    assert message in str(err.value) and "\n" not in str(err.value)
    if content:  # the writer must not adopt (or clobber) it either; an empty file becomes a new store
        with pytest.raises(UserError, match="is not a spear-tui store"):
            AlertStore(path, {})
        assert path.read_bytes() == content


def test_empty_file_becomes_a_store_for_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.touch()
    AlertStore(path, {}).close()
    assert len(open_store(path).sessions()) == 1


def test_foreign_sqlite_and_newer_version_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE alerts (x)")
    for opener in (open_store, lambda p: AlertStore(p, {})):
        with pytest.raises(UserError, match="is not a spear-tui store$"):
            opener(foreign)
    newer = tmp_path / "newer.db"
    AlertStore(newer, {}).close()
    c = sqlite3.connect(newer)
    c.execute(f"PRAGMA user_version={VERSION + 1}")
    c.close()
    assert sqlite3.connect(newer).execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    with pytest.raises(UserError, match=f"version {VERSION + 1} store, newer than this spear-tui"):
        open_store(newer)
    with pytest.raises(UserError, match="newer"):
        AlertStore(newer, {})


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such store"):
        open_store(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()  # the reader never creates files
    with pytest.raises(UserError, match="is a directory"):
        open_store(tmp_path)
    with pytest.raises(UserError, match="cannot open store"):
        AlertStore(tmp_path / "no" / "such" / "dir" / "s.db", {})


def test_awkward_file_names(tmp_path: Path) -> None:
    """Names are passed to SQLite as URIs: '?', '#', '%' and spaces must not be read as URI syntax."""
    for name in ("a?mode=ro.db", "b#frag.db", "c%20d.db", "e f.db"):
        path = tmp_path / name
        with AlertStore(path, {}) as store:
            store.write([_alert(1)])
        assert path.exists() and list(open_store(path).alerts()) == [1]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == sorted(
        ["a?mode=ro.db", "b#frag.db", "c%20d.db", "e f.db"]
    )


def test_chunk_detector_round_trip_and_a_version_2_store_reads_as_the_flow_lstm(tmp_path: Path) -> None:
    """ChunkScored.detector (MQTT's flow "lstm" and "rhythm" views) is stored; a version 2 store (no
    such column) reads its chunks as the flow LSTM's and is upgraded by the next writer."""
    path = tmp_path / "v.db"
    flow = ChunkScored("mqtt", 0, 1.0, 2.0, 1, 50, 0.25, 0.125, False, None, talkers=("a",), messages=500)
    rhythm = dataclasses.replace(flow, score=0.5, detector="rhythm")
    with AlertStore(path, {"command": "scan"}) as store:
        store.write([flow, rhythm])
    with open_store(path) as r:
        assert r.chunks() == [flow, rhythm] and [c.detector for c in r.chunks()] == ["lstm", "rhythm"]
    old = tmp_path / "v2.db"
    with AlertStore(old, {"command": "scan"}) as store:
        store.write([flow])
    c = sqlite3.connect(old)
    for col in ("eid", "chunk"):  # what a version 2 store looks like
        c.execute(f"ALTER TABLE alerts DROP COLUMN {col}")
    c.execute("ALTER TABLE chunks DROP COLUMN messages")
    c.execute("ALTER TABLE chunks DROP COLUMN detector")
    c.execute("DROP TABLE incidents")
    c.execute("DROP TABLE rules")
    c.execute("PRAGMA user_version=2")
    c.commit()
    c.close()
    with open_store(old) as r:
        assert r.chunks() == [dataclasses.replace(flow, messages=0)]  # the flow LSTM's
    with AlertStore(old, {"command": "scan"}) as store:  # a writer upgrades it
        store.write([rhythm])
    with open_store(old) as r:
        assert [(c.detector, c.score) for c in r.chunks()] == [("lstm", 0.25), ("rhythm", 0.5)]
