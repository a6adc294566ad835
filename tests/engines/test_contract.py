"""The console's one engine contract (engines/contract.py): defaults say "cannot", engines override."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from spear_tui.engines.contract import Engine
from spear_tui.engines.meter import MeterEngine
from spear_tui.engines.outbox import Outbox
from spear_tui.engines.packet import PacketEngine
from spear_tui.engines.review import StoreEngine
from spear_tui.errors import UserError
from spear_tui.events import Alert, MessagesSeen


class Minimal(Engine):
    """The least an engine writes: its loop."""

    def __init__(self, events: list[object], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.events = events

    def work(self, out: Outbox) -> None:
        for ev in self.events:
            if not self._gate.hold(out, self._stop):
                return
            if isinstance(ev, Exception):
                raise ev
            out.add(ev)  # type: ignore[arg-type]


ALERT = Alert("mqtt", "novelty", 1.0, 2.0, 1, 5, 1.0, 0.0, "new topic", accept='{"known-set": []}')


def test_defaults_say_the_engine_cannot() -> None:
    eng = Minimal([])
    assert eng.messages_for(ALERT) is None and not eng.keeps_messages
    assert eng.day_series("active_power", "2025-01-01") is None and not eng.keeps_days
    assert eng.decode_as == ()
    assert eng.get_sensitivity("mqtt", "lstm") is None
    eng.set_sensitivity("mqtt", "lstm", 2.0)  # accepted, changes nothing
    assert eng.get_sensitivity("mqtt", "lstm") is None
    eng.set_rules("mqtt", "novelty", {"new-topic"})
    assert eng.get_rules("mqtt", "novelty") is None
    assert eng.accept(ALERT) is False and not eng.accepts_alerts
    assert eng.learning() is None
    with pytest.raises(UserError, match="no capture file"):
        eng.source_path(ALERT)


def test_source_path_default_is_the_file_the_alert_names(tmp_path: Path) -> None:
    cap = tmp_path / "c.pcap"
    cap.write_bytes(b"x")
    assert Minimal([]).source_path(dataclasses.replace(ALERT, source=str(cap))) == cap


def test_pause_speed_and_stop_are_done_once_in_the_base() -> None:
    eng = Minimal([MessagesSeen("mqtt", 1, 0.0, 1.0)], speed=2.0)
    assert eng.speed == 2.0 and not eng.paused
    eng.set_speed(None)
    eng.pause()
    assert eng.speed is None and eng.paused
    got: list[list[object]] = []
    worker = threading.Thread(target=eng.run, args=(got.append,))
    worker.start()
    worker.join(0.3)
    assert worker.is_alive() and got == []  # held by the pause
    eng.resume()
    worker.join(5)
    assert eng.finished.is_set() and got == [[MessagesSeen("mqtt", 1, 0.0, 1.0)]]


def test_run_never_raises_a_failure_is_one_line() -> None:
    got: list[list[object]] = []
    Minimal([MessagesSeen("mqtt", 1, 0.0, 1.0), RuntimeError("boom\nmore")]).run(got.append)
    events = [e for b in got for e in b]
    assert events[0] == MessagesSeen("mqtt", 1, 0.0, 1.0)
    assert [getattr(e, "message", None) for e in events[1:]] == ["internal error: RuntimeError: boom"]


@pytest.mark.parametrize("engine", [PacketEngine, MeterEngine, StoreEngine])
def test_every_engine_subclasses_the_contract(engine: type) -> None:
    assert issubclass(engine, Engine)


def test_capabilities_match_what_each_engine_can_answer() -> None:
    assert PacketEngine.keeps_messages and PacketEngine.accepts_alerts and not PacketEngine.keeps_days
    assert MeterEngine.keeps_days and not MeterEngine.keeps_messages and not MeterEngine.accepts_alerts
    assert StoreEngine.keeps_messages and not StoreEngine.accepts_alerts
