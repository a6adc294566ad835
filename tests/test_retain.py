import polars as pl

from spear_tui.events import Alert
from spear_tui.retain import MessageRetainer


def _table(first: int, n: int, file: int = 0) -> pl.DataFrame:
    frames = list(range(first, first + n))
    return pl.DataFrame({"frame": frames, "file": [file] * n, "time": [float(f) for f in frames]})


def _alert(first: int, last: int, file: int = 0) -> Alert:
    return Alert("mqtt", "lstm", float(first), float(last), first, last, 1.0, 0.5, "test", file=file)


def test_ring_is_bounded_and_keeps_the_newest():
    r = MessageRetainer(ring_messages=1000)
    for i in range(50):
        r.add("mqtt", _table(i * 100, 100))
    assert r.window("mqtt", 0, 0, 99) is None  # evicted
    newest = r.window("mqtt", 0, 4900, 4999)
    assert newest is not None and newest.height == 100
    assert sum(t.height for t in r._ring["mqtt"]) <= 1000


def test_pinned_alert_window_survives_eviction_and_respects_file():
    r = MessageRetainer(ring_messages=500)
    r.add("mqtt", _table(1, 300, file=0))
    r.add("mqtt", _table(1, 300, file=1))
    alert = _alert(10, 19, file=1)
    r.pin(alert)
    for i in range(20):
        r.add("mqtt", _table(1000 + i * 100, 100))
    got = r.messages_for(alert)
    assert got is not None
    assert got["frame"].to_list() == list(range(10, 20))
    assert set(got["file"].to_list()) == {1}
