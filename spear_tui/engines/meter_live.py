"""Live meter mode of the MeterEngine: a MeterPoller in its own thread fills day windows over Modbus/TCP,
and each completed day is scored when it arrives (the automatic threshold rolls over the days seen so far).

Polling starts before the model is built (JAX start-up takes seconds), so no sample is lost meanwhile. Failed
polls are counted (PacketsSkipped "meter"), never fatal; pausing holds completed days until resume.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from spear_tui.detect.meter_threshold import flag_days
from spear_tui.events import DayScored, PacketsSkipped, SourceProgress

if TYPE_CHECKING:
    from spear_tui.engines.meter import MeterEngine


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


def run_live(self: MeterEngine, out: Any) -> None:
    """The engine's live loop (see the module docstring); `self` is the MeterEngine."""
    from spear_tui.detect.checkpoint import load_checkpoint
    from spear_tui.meter.poller import MeterPoller, poll_in_thread

    meter = self.live_meter
    assert meter is not None and self.model_path is not None
    spd = int(load_checkpoint(self.model_path, "seq2seq").config.get("samples_per_day", 96))
    completed: queue.Queue = queue.Queue()
    first: list[float] = []
    latest: list[float] = [0.0]

    def factory() -> MeterPoller:
        poller = MeterPoller(
            meter.host, meter.port, meter.regmap, unit_id=meter.unit_id, interval=meter.interval,
            clock_address=meter.clock_address, samples_per_day=spd, tz=meter.tz, timeout=meter.timeout,
        )
        self.poll_stats = poller.stats
        return poller

    def on_sample(sample: Any) -> None:
        t = sample.time.timestamp()
        if not first:
            first.append(t)
        latest[0] = t

    stop = threading.Event()
    thread = poll_in_thread(factory, stop, on_sample=on_sample, on_day=completed.put)
    k = list(meter.regmap.measurements).index(self.measurement)
    failures = 0
    try:
        self.detector = det = self._load_or_train(out)
        while not self._stop.is_set():
            try:
                day = completed.get(timeout=self.emit_interval)
            except queue.Empty:
                day = None
            if day is not None and not self.paused:
                out.add(_score_live(self, det, day, k))
            elif day is not None:  # paused: hold the day, score it on resume
                while self.paused and not self._stop.is_set():
                    out.tick()
                    time.sleep(0.05)
                out.add(_score_live(self, det, day, k))
            stats = self.poll_stats
            if stats is not None and stats.failures > failures:
                why = f"poll failed: {stats.last_error}"
                out.add(PacketsSkipped("meter", stats.failures - failures, why))
                failures = stats.failures
            if first:
                out.add(SourceProgress(self.source, latest[0] - first[0], None, paused=self.paused),
                        coalesce=True)
            out.tick()
    finally:
        stop.set()
        thread.join(timeout=5)


def _score_live(self: MeterEngine, det: Any, day: Any, k: int) -> DayScored:
    from spear_tui.engines.meter import DayRecord

    values = day.values[:, k][None, :]
    s = det.score(values, [day.date], np.array([day.complete]))
    rec = DayRecord(
        day.date, values[0].astype(np.float32), s.reconstruction[0].astype(np.float32),
        s.per_sample_error[0], float(s.mse[0]), bool(s.complete[0]), int(day.gaps),
    )
    with self._lock:
        mses = np.asarray([*self.scored.mses, rec.mse], dtype=np.float64)
        dates = [dt.date.fromisoformat(d) for d in self.scored.dates] + [day.date]
    if self.threshold_override is not None:
        thr = self.threshold_override
    else:
        thr = float(flag_days(
            mses, self.rule, det.train_mse, dates=dates, train_weekdays=det.train_weekdays
        ).thresholds[-1])
    return self._store(rec, thr, bool(np.isfinite(rec.mse) and rec.mse > thr))
