"""The meter engine: meter days → seq2seq autoencoder → DayScored events, for the console and headless use.

Two sources, one scoring path:
- file mode (`MeterEngine.from_days`): the days are cut up front (so a bad file fails before any screen
  opens); in the worker the model is loaded or trained on the user's normal days (TrainingProgress events),
  every day is scored in one vectorised call, and DayScored events go out paced (`speed` = days per second,
  None = as fast as possible) so a replay can look live;
- live mode (`MeterEngine.live`, loop in `meter_live.py`): a MeterPoller in its own thread fills day
  windows; each completed day is scored when it arrives.

Like the packet engine, events go out through the shared outbox (engines/outbox.py): durable sinks (the
alert store, so meter sessions can be reviewed) before the display, batched, and `run` never raises:
problems become one EngineError line. Scores stay in memory, so the console can plot any day
(`day_series`), a moved threshold re-flags the stored MSEs (`flags`) without retraining, and `meter scan`
reads its report from the same engine run headless. No Textual here.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spear_tui.detect.meter.calendar import resolve_calendar
from spear_tui.detect.meter.meter_threshold import AUTO, ThresholdRule, flag_days
from spear_tui.engines.contract import Engine
from spear_tui.engines.meter_live import LiveMeter, run_live
from spear_tui.engines.outbox import Outbox, Sink
from spear_tui.errors import UserError
from spear_tui.events import DayScored, SourceProgress, TrainingProgress

log = logging.getLogger(__name__)

DAY = 86_400.0
MIN_TRAIN_DAYS = 4  # the autoencoder's own minimum (MeterDetector.fit)


@dataclass(frozen=True)
class TrainPlan:
    """Train on the complete days inside [start, end] (None: open end) minus the excluded ranges."""

    start: dt.date | None = None
    end: dt.date | None = None
    exclude: tuple[tuple[dt.date, dt.date], ...] = ()
    epochs: int = 150
    seed: int = 0
    calendar: bool | None = None  # None: on when training holds two of each weekday
    holidays: str | None = None

    def mask(self, dates: Sequence[dt.date], complete: np.ndarray) -> np.ndarray:
        return np.array(
            [
                bool(c)
                and (self.start is None or d >= self.start)
                and (self.end is None or d <= self.end)
                and not any(lo <= d <= hi for lo, hi in self.exclude)
                for d, c in zip(dates, complete, strict=True)
            ],
            dtype=bool,
        )

    def check(self, dates: Sequence[dt.date], complete: np.ndarray) -> int:
        """The number of training days; a one-line UserError when too few (before any screen opens)."""
        n = int(self.mask(dates, complete).sum())
        if n < MIN_TRAIN_DAYS:
            raise UserError(
                f"need at least {MIN_TRAIN_DAYS} normal days to train the meter model, got {n} complete "
                "day(s) in the training range (check --train-from/--train-to/--exclude)"
            )
        return n


@dataclass
class DayRecord:
    """One scored day, kept for the plot: values in the meter's units, error in normalised units."""

    date: dt.date
    measured: np.ndarray  # (S,)
    reconstructed: np.ndarray  # (S,)
    error: np.ndarray  # (S,) squared error (normalised units), NaN on incomplete days
    mse: float  # NaN when incomplete
    complete: bool
    gaps: int = 0


@dataclass
class _Scored:
    records: dict[str, DayRecord] = field(default_factory=dict)  # ISO date -> record, in date order
    mses: list[float] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)  # ISO date of each entry of `mses` (weekday rule)


class MeterEngine(Engine):
    """The Engine for meter days; build with `from_days` or `live`."""

    keeps_days = True

    def __init__(
        self,
        *,
        source: str,
        measurement: str,
        model: str | Path | None = None,
        train: TrainPlan | None = None,
        rule: ThresholdRule = AUTO,
        speed: float | None = None,
        emit_interval: float = 0.1,
        days: Any = None,  # spear_tui.meter.days.MeterDays (file mode)
        live: LiveMeter | None = None,
        save_model: str | Path | None = None,
        sinks: Iterable[Sink] = (),
    ) -> None:
        if (days is None) == (live is None):
            raise ValueError("give exactly one of days= (file mode) or live= (live mode)")
        if model is None and train is None:
            raise UserError("the meter engine needs a model (--model) or normal days to train on")
        if live is not None and model is None:
            raise UserError("live meter mode scores with a saved model: give --model PATH")
        super().__init__(speed=speed, sinks=sinks, emit_interval=emit_interval)
        self.source = source
        self.measurement = measurement
        self.model_path = model
        self.train = train
        self.rule = rule
        self.days = days
        self.live_meter = live
        self.save_model = save_model
        self.detector: Any = None  # MeterDetector once loaded/trained
        self.model_info: dict[str, Any] = {}  # how the model came about (meter scan's "model")
        self.threshold_override: float | None = None
        self.scored = _Scored()
        self.poll_stats: Any = None
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_days(cls, days: Any, measurement: str, **kw: Any) -> MeterEngine:
        """File mode; `days` from spear_tui.meter.days.to_days (checked before the console opens)."""
        if measurement not in days.measurements:
            raise UserError(f"no measurement {measurement!r} (have: {', '.join(days.measurements)})")
        return cls(days=days, measurement=measurement, **kw)

    @classmethod
    def live(cls, meter: LiveMeter, measurement: str, **kw: Any) -> MeterEngine:
        if measurement not in meter.regmap.measurements:
            raise UserError(
                f"register map {meter.regmap.name!r} has no {measurement!r} "
                f"(it has: {', '.join(meter.regmap.measurements)})"
            )
        return cls(live=meter, measurement=measurement, source=meter.name, **kw)

    # ---------------------------------------------------------------- intents (any thread)
    # pause/resume/set_speed/stop: Engine's. Speed is days per second in file mode (None: no pacing);
    # live days arrive when the meter completes them.
    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def hold(self, out: Outbox) -> bool:
        """Wait here while paused (the live loop holds a completed day); False once stopped."""
        return self._gate.hold(out, self._stop)

    def set_threshold(self, measurement: str, value: float) -> None:
        """A fixed MSE threshold from the slider; days scored from now on are flagged against it."""
        if measurement == self.measurement:
            self.threshold_override = float(value)

    def set_sensitivity(self, protocol: str, detector: str, k: float) -> None:
        if detector == "seq2seq":
            self.set_threshold(protocol, k)

    def get_sensitivity(self, protocol: str, detector: str) -> float | None:
        if detector == "seq2seq" and protocol == self.measurement:
            return self.threshold_override
        return None

    # ---------------------------------------------------------------- queries (any thread)
    def day_series(self, measurement: str, date: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Measured and reconstructed samples of a scored day, in the meter's units."""
        rec = self.record(measurement, date)
        return None if rec is None else (rec.measured, rec.reconstructed)

    def day_error(self, measurement: str, date: str) -> np.ndarray | None:
        """Per-sample squared error of a scored day (normalised units, the MSE's own): *where* it deviates."""
        rec = self.record(measurement, date)
        return None if rec is None else rec.error

    def record(self, measurement: str, date: str) -> DayRecord | None:
        if measurement != self.measurement:
            return None
        with self._lock:
            return self.scored.records.get(date)

    def flags(self, threshold: float | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(dates, thresholds, flagged) of every scored day, re-flagged from the stored MSEs: with
        `threshold` (or the slider's override) as a fixed value, else with the engine's rule."""
        with self._lock:
            dates = list(self.scored.dates)
            mse = np.asarray(self.scored.mses, dtype=np.float64)
        thr = threshold if threshold is not None else self.threshold_override
        if thr is not None:
            f = flag_days(mse, float(thr))
        else:
            det = self.detector
            f = flag_days(
                mse, self.rule, det.train_mse if det is not None else None,
                dates=[dt.date.fromisoformat(d) for d in dates],
                train_weekdays=det.train_weekdays if det is not None else None,
            )
        return dates, f.thresholds, f.flagged

    def threshold_rule(self) -> str:
        """The engine's threshold rule in words, with what it calibrated on the days scored so far."""
        det = self.detector
        with self._lock:
            mse = np.asarray(self.scored.mses, dtype=np.float64)
            dates = [dt.date.fromisoformat(d) for d in self.scored.dates]
        return flag_days(
            mse, self.rule, det.train_mse if det is not None else None, dates=dates,
            train_weekdays=det.train_weekdays if det is not None else None,
        ).rule

    # ---------------------------------------------------------------- the worker
    def work(self, out: Outbox) -> None:
        from spear_tui.detect.lstm.stacked_lstm import configure_xla

        configure_xla(threads=2)  # no tshark in meter mode: XLA may use both cores
        if self.live_meter is not None:
            run_live(self, out)
        else:
            self._run_file(out)

    def load_or_train(self, out: Outbox) -> Any:
        """The MeterDetector: loaded from `model`, else trained on the plan's days (TrainingProgress)."""
        from spear_tui.detect.meter.seq2seq import MeterDetector, Seq2SeqConfig

        if self.model_path is not None:
            det = MeterDetector.load(self.model_path)
            if self.days is not None and det.cfg.samples_per_day != self.days.samples_per_day:
                raise UserError(
                    f"model {self.model_path} expects {det.cfg.samples_per_day} samples a day, "
                    f"the days have {self.days.samples_per_day}"
                )
            self.model_info = {"loaded": str(self.model_path)}
            if self.save_model is not None:
                det.save(self.save_model)
            return det
        plan = self.train
        assert plan is not None and self.days is not None
        days = self.days
        plan.check(days.dates, days.complete)
        mask = plan.mask(days.dates, days.complete)
        dates = [d for d, k in zip(days.dates, mask, strict=True) if k]
        cfg = Seq2SeqConfig(
            samples_per_day=days.samples_per_day, holidays=plan.holidays, epochs=plan.epochs, seed=plan.seed,
            calendar=resolve_calendar(plan.calendar, plan.holidays, dates),
        )
        det = MeterDetector(cfg, self.measurement)
        values = days.measurement(self.measurement)
        last: list[TrainingProgress] = []

        def progress(ev: TrainingProgress) -> None:
            ev = TrainingProgress(f"seq2seq/{self.measurement}", ev.epoch, ev.epochs, ev.loss, ev.val_loss)
            last[:] = [ev]
            out.add(ev, coalesce=True)

        fit = det.fit(values[mask], dates, progress=progress, should_stop=self._stop.is_set)
        self.model_info = {
            "trained_on_days": int(mask.sum()), "epochs": fit.epochs_run, "best_epoch": fit.best_epoch,
            "val_loss": fit.val_loss, "train_from": str(dates[0]), "train_to": str(dates[-1]),
        }  # fmt: skip
        if last:  # early stopping ends before `epochs`: a final event at 100 % so the bar closes
            ev = last[0]
            out.add(TrainingProgress(ev.model, fit.epochs_run, fit.epochs_run, ev.loss, ev.val_loss))
        if self.save_model is not None:
            det.save(self.save_model)
        return det

    def _run_file(self, out: Outbox) -> None:
        days = self.days
        n = len(days.dates)
        out.add(SourceProgress(self.source, 0.0, n * DAY, paused=self.paused))
        out.flush()
        self.detector = det = self.load_or_train(out)
        if self._stop.is_set():
            return
        values = days.measurement(self.measurement)
        scores = det.score(values, days.dates, days.complete)
        f = flag_days(
            scores.mse, self.rule, det.train_mse, dates=days.dates, train_weekdays=det.train_weekdays
        )
        gaps = days.gaps if len(days.gaps) == n else np.zeros(n, np.int32)
        last = time.monotonic()
        for i, d in enumerate(days.dates):
            if not self.hold(out):
                return
            rec = DayRecord(
                d, values[i], scores.reconstruction[i], scores.per_sample_error[i], float(scores.mse[i]),
                bool(scores.complete[i]), int(gaps[i]),
            )
            thr, flagged = float(f.thresholds[i]), bool(f.flagged[i])
            if self.threshold_override is not None:
                thr = self.threshold_override
                flagged = bool(np.isfinite(rec.mse) and rec.mse > thr)
            out.add(self.keep(rec, thr, flagged))
            out.add(SourceProgress(self.source, (i + 1) * DAY, n * DAY, paused=self.paused), coalesce=True)
            speed = self._speed
            if speed is not None and speed > 0:
                last += 1.0 / speed
                while (wait := last - time.monotonic()) > 0 and not self._stop.is_set():
                    out.tick()
                    self._stop.wait(min(wait, self.emit_interval))
                last = max(last, time.monotonic() - 1.0)  # a stall (or pause) does not cause a burst
            out.tick()
        out.add(SourceProgress(self.source, n * DAY, n * DAY, done=True))

    def keep(self, rec: DayRecord, threshold: float, flagged: bool) -> DayScored:
        """Keep a scored day for the plot and the re-flagging; the event that announces it."""
        iso = rec.date.isoformat()
        with self._lock:
            self.scored.records[iso] = rec
            self.scored.mses.append(rec.mse)
            self.scored.dates.append(iso)
        return DayScored(self.measurement, iso, rec.mse, flagged, rec.complete, threshold)

    def score_day(self, det: Any, date: dt.date, values: np.ndarray, complete: bool, gaps: int) -> DayScored:
        """Score one day as it arrives (live mode): the rule's threshold over the days seen so far."""
        s = det.score(values[None, :], [date], np.array([complete]))
        rec = DayRecord(
            date, values, s.reconstruction[0], s.per_sample_error[0], float(s.mse[0]), bool(s.complete[0]),
            int(gaps),
        )
        with self._lock:
            mses = np.asarray([*self.scored.mses, rec.mse], dtype=np.float64)
            dates = [dt.date.fromisoformat(d) for d in self.scored.dates] + [date]
        if self.threshold_override is not None:
            thr = self.threshold_override
        else:
            thr = float(flag_days(
                mses, self.rule, det.train_mse, dates=dates, train_weekdays=det.train_weekdays
            ).thresholds[-1])
        return self.keep(rec, thr, bool(np.isfinite(rec.mse) and rec.mse > thr))
