"""Live meter mode of the MeterEngine: a MeterPoller in its own thread fills day windows over Modbus/TCP,
and each completed day is scored when it arrives (the automatic threshold rolls over the days seen so far).

Polling starts before the model is built (JAX start-up takes seconds), so no sample is lost meanwhile. Failed
polls are counted (PacketsSkipped "meter"), never fatal; pausing holds completed days until resume.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spear_tui.events import PacketsSkipped, SourceProgress

if TYPE_CHECKING:
    from spear_tui.engines.meter import MeterEngine
    from spear_tui.engines.outbox import Outbox


@dataclass(frozen=True)
class LiveMeter:
    """Where and how to poll (see spear_tui.meter.poller.MeterPoller)."""

    host: str
    port: int
    regmap: Any  # spear_tui.meter.registers.RegisterMap
    interval: float = 1.0
    tz: str | None = None
    clock_address: int | None = None  # meter-sim's clock: samples carry file time, not wall time
    unit_id: int | None = None
    timeout: float = 2.0  # per request

    @property
    def name(self) -> str:
        return f"modbus://{self.host}:{self.port} ({self.regmap.name})"


def run_live(engine: MeterEngine, out: Outbox) -> None:
    """The engine's live loop (see the module docstring), through the engine's public methods."""
    from spear_tui.detect.lstm.checkpoint import load_checkpoint
    from spear_tui.meter.poller import MeterPoller, poll_in_thread

    meter = engine.live_meter
    assert meter is not None and engine.model_path is not None
    spd = int(load_checkpoint(engine.model_path, "seq2seq").config.get("samples_per_day", 96))
    completed: queue.Queue = queue.Queue()
    first: list[float] = []
    latest: list[float] = [0.0]

    def factory() -> MeterPoller:
        poller = MeterPoller(
            meter.host, meter.port, meter.regmap, unit_id=meter.unit_id, interval=meter.interval,
            clock_address=meter.clock_address, samples_per_day=spd, tz=meter.tz, timeout=meter.timeout,
        )
        engine.poll_stats = poller.stats
        return poller

    def on_sample(sample: Any) -> None:
        t = sample.time.timestamp()
        if not first:
            first.append(t)
        latest[0] = t

    stop = threading.Event()
    thread = poll_in_thread(factory, stop, on_sample=on_sample, on_day=completed.put)
    k = list(meter.regmap.measurements).index(engine.measurement)
    failures = 0
    try:
        engine.detector = det = engine.load_or_train(out)
        while not engine.stopped:
            try:
                day = completed.get(timeout=engine.emit_interval)
            except queue.Empty:
                day = None
            if day is not None:  # paused: hold the day, score it on resume
                if not engine.hold(out):
                    break
                out.add(engine.score_day(det, day.date, day.values[:, k], bool(day.complete), int(day.gaps)))
            stats = engine.poll_stats
            if stats is not None and stats.failures > failures:
                why = f"poll failed: {stats.last_error}"
                out.add(PacketsSkipped("meter", stats.failures - failures, why))
                failures = stats.failures
            if first:
                progress = SourceProgress(engine.source, latest[0] - first[0], None, paused=engine.paused)
                out.add(progress, coalesce=True)
            out.tick()
    finally:
        stop.set()
        thread.join(timeout=5)
