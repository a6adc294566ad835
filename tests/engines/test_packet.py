"""The engine on real captures: event flow, sink ordering, failures as one EngineError, stopping."""

from __future__ import annotations

import threading
from pathlib import Path

import polars as pl
import pytest

from spear_tui.capture.source import open_capture_files
from spear_tui.engines.packet import PacketEngine
from spear_tui.errors import UserError
from spear_tui.events import Alert, EngineError, MessagesSeen, SourceProgress, SummaryUpdated

MODBUS = Path(__file__).parents[1] / "data" / "real" / "modbus" / "iti_modbus_test.pcap"


class CountingDetector:
    """A real detector is tested elsewhere; this one records what the engine hands detectors."""

    name = "count"

    def __init__(self, protocol: str, alert_every: int = 0) -> None:
        self.protocol = protocol
        self.sensitivity = 1.0
        self.rows = 0
        self.frames: list[int] = []
        self.alert_every = alert_every

    def feed(self, table: pl.DataFrame) -> list:
        self.rows += table.height
        self.frames.extend(table["frame"].to_list())
        if self.alert_every and table.height:
            return [
                Alert(
                    self.protocol,
                    self.name,
                    float(table["time"][0]),
                    float(table["time"][-1]),
                    int(table["frame"][0]),
                    int(table["frame"][-1]),
                    1.0,
                    0.5,
                    "batch seen",
                )
            ]
        return []

    def flush(self) -> list:
        return []


def _direct_counts(path) -> dict[str, int]:
    source = open_capture_files([path])
    counts: dict[str, int] = {}
    for batch in source.batches():
        for p, t in batch.tables.items():
            counts[p] = counts.get(p, 0) + t.height
    return counts


def test_every_message_reaches_detectors_and_events_once():
    expected = _direct_counts(MODBUS)
    det = CountingDetector("modbus")
    engine = PacketEngine(open_capture_files([MODBUS]), {"modbus": [det]})
    events: list = []
    engine.run(events.extend)
    seen = sum(e.messages for e in events if isinstance(e, MessagesSeen) and e.protocol == "modbus")
    assert expected["modbus"] > 0
    assert (
        det.rows == seen == expected["modbus"] == engine.summary.to_json()["protocols"]["modbus"]["messages"]
    )
    assert isinstance(events[-1], SourceProgress) and events[-1].done
    assert any(isinstance(e, SummaryUpdated) and e.protocol == "modbus" for e in events)
    assert engine.finished.is_set()


def test_durable_sinks_get_each_batch_before_the_display():
    order: list[tuple[str, int]] = []
    engine = PacketEngine(
        open_capture_files([MODBUS]),
        {"modbus": [CountingDetector("modbus", alert_every=1)]},
        sinks=[lambda batch: order.append(("store", id(batch)))],
    )
    engine.run(lambda batch: order.append(("display", id(batch))))
    assert order, "no batch delivered"
    for i in range(0, len(order), 2):
        assert order[i][0] == "store" and order[i + 1] == ("display", order[i][1])


def test_alerts_are_pinned_for_drill_down_and_name_their_source():
    engine = PacketEngine(
        open_capture_files([MODBUS]), {"modbus": [CountingDetector("modbus", alert_every=1)]}
    )
    events: list = []
    engine.run(events.extend)
    alerts = [e for e in events if isinstance(e, Alert)]
    assert alerts
    for a in alerts:
        assert a.source.endswith("iti_modbus_test.pcap")
        assert a.detectors == ("count",)
        msgs = engine.messages_for(a)
        assert msgs is not None
        assert msgs["frame"].min() >= a.first_frame and msgs["frame"].max() <= a.last_frame


def test_failing_store_becomes_one_engine_error_and_stops():
    def disk_full(batch):
        raise UserError("alerts.db: disk full")

    shown: list = []
    engine = PacketEngine(open_capture_files([MODBUS]), {}, sinks=[disk_full])
    engine.run(shown.extend)  # must not raise
    errors = [e for e in shown if isinstance(e, EngineError)]
    assert [e.message for e in errors] == ["alerts.db: disk full"]


def test_detector_crash_is_reported_not_raised():
    class Broken(CountingDetector):
        def feed(self, table):
            raise ValueError("bad\nsecond line")

    shown: list = []
    PacketEngine(open_capture_files([MODBUS]), {"modbus": [Broken("modbus")]}).run(shown.extend)
    errors = [e for e in shown if isinstance(e, EngineError)]
    assert len(errors) == 1 and "\n" not in errors[0].message and "ValueError" in errors[0].message


def test_stop_from_another_thread_ends_a_paced_replay():
    engine = PacketEngine(open_capture_files([MODBUS]), {}, speed=0.001)  # would take days
    worker = threading.Thread(target=engine.run, args=(lambda b: None,))
    worker.start()
    engine.stop()
    worker.join(timeout=20)
    assert not worker.is_alive()
    assert engine.finished.is_set()


@pytest.mark.parametrize("protocol", ["mqtt"])
def test_sensitivity_reaches_the_detector(protocol):
    det = CountingDetector(protocol)
    engine = PacketEngine(open_capture_files([MODBUS]), {protocol: [det]})
    engine.set_sensitivity(protocol, "count", 4.5)
    assert det.sensitivity == 4.5 == engine.get_sensitivity(protocol, "count")
    assert engine.get_sensitivity(protocol, "lstm") is None


def test_time_windowed_detectors_are_advanced_to_each_batch_position():
    class Windowed(CountingDetector):
        def __init__(self, protocol):
            super().__init__(protocol)
            self.advanced: list[float] = []

        def advance(self, now):
            self.advanced.append(now)
            return []

    det = Windowed("mqtt")  # no MQTT in this capture: it is advanced all the same
    source = open_capture_files([MODBUS], batch_messages=50)
    PacketEngine(source, {"mqtt": [det]}).run(lambda b: None)
    assert len(det.advanced) >= 2
    assert det.advanced == sorted(det.advanced)
    assert det.advanced[-1] <= source.end_time + 1e-6
