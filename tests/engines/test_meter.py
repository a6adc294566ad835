"""MeterEngine on the sample meter year: every local day scored once, series kept for the plot, threshold
re-flags from stored MSEs, pacing/pause/stop, training progress, errors as one EngineError line.

Expected values come from the sample CSV read with the csv module and from its labels file, not from the
engine: which days exist, which one the logger outage made incomplete, the measured samples of a day.
The model is the shipped one (models/meter*.msgpack) when present; otherwise a small one is trained once
here (a few epochs) so the wiring is still tested.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import threading
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from spear_tui.engines.meter import MeterEngine, TrainPlan
from spear_tui.events import DayScored, EngineError, SourceProgress, TrainingProgress
from spear_tui.meter.days import to_days
from spear_tui.meter.files import read_meter_file

ROOT = Path(__file__).resolve().parents[2]
METER = ROOT / "sample_captures" / "meter"
PARQUET = METER / "office_2025.parquet"
CSV = METER / "office_2025.csv"
TZ = "Europe/Athens"


def csv_days(column: str = "active_power_kw") -> dict[str, list[float]]:
    """Local date -> the column's values in file order (the CSV carries local time with its offset)."""
    out: dict[str, list[float]] = defaultdict(list)
    with CSV.open() as fh:
        for row in csv.DictReader(fh):
            out[row["time"][:10]].append(float(row[column]))
    return dict(out)


def labels() -> dict[str, str]:
    data = json.loads((METER / "office_2025.labels.json").read_text())
    return {i["date"]: i["kind"] for i in data["incidents"]}


def meter_model(tmp_dir: Path, days=None) -> Path:
    """The shipped active-power model, else a small one trained on January (3 epochs)."""
    from spear_tui.commands._meter_console import checkpoint_info, shipped_models

    for path in shipped_models():
        if checkpoint_info(path)[1] == "active_power":
            return path
    from spear_tui.detect.meter.seq2seq import MeterDetector, Seq2SeqConfig

    days = days if days is not None else year_days()
    jan = [i for i, d in enumerate(days.dates) if d.month == 1 and days.complete[i]]
    det = MeterDetector(Seq2SeqConfig(epochs=3), "active_power")
    det.fit(days.measurement("active_power")[jan], [days.dates[i] for i in jan])
    path = tmp_dir / "meter_active_power.msgpack"
    det.save(path)
    return path


def year_days():
    return to_days(read_meter_file(PARQUET, tz=TZ), tz=TZ)


def first_days(days, n: int):
    return dataclasses.replace(
        days, dates=days.dates[:n], values=days.values[:n], complete=days.complete[:n],
        filled=days.filled[:n], gaps=days.gaps[:n],
    )


class Sink:
    def __init__(self) -> None:
        self.batches: list[list] = []

    def __call__(self, batch: list) -> None:
        self.batches.append(list(batch))

    def events(self, kind: type) -> list:
        return [e for b in self.batches for e in b if isinstance(e, kind)]


@pytest.fixture(scope="module")
def days():
    return year_days()


@pytest.fixture(scope="module")
def model(tmp_path_factory, days) -> Path:
    return meter_model(tmp_path_factory.mktemp("meter-model"), days)


@pytest.fixture(scope="module")
def year_run(days, model):
    eng = MeterEngine.from_days(days, "active_power", source=PARQUET.name, model=model)
    sink = Sink()
    eng.run(sink)
    return eng, sink


def test_every_local_day_is_scored_once(year_run) -> None:
    eng, sink = year_run
    scored = sink.events(DayScored)
    want = csv_days()
    assert [d.date for d in scored] == sorted(want)  # 365 local days, in order, each once
    assert not sink.events(EngineError)
    progress = sink.events(SourceProgress)
    assert progress[-1].done and progress[-1].position == progress[-1].total == len(want) * 86_400


def test_outage_day_is_incomplete_and_never_flagged(year_run) -> None:
    eng, sink = year_run
    scored = {d.date: d for d in sink.events(DayScored)}
    outage = [d for d, kind in labels().items() if kind == "outage"]
    assert outage
    for date in outage:
        assert not scored[date].complete and np.isnan(scored[date].mse) and not scored[date].flagged
    assert all(np.isfinite(d.mse) for d in scored.values() if d.complete)


def test_day_series_is_the_file_day_and_error_is_in_mse_units(year_run) -> None:
    eng, _ = year_run
    want = csv_days()
    for date in ("2025-01-02", "2025-07-09"):  # an ordinary weekday; the stuck-meter day
        measured, recon = eng.day_series("active_power", date)
        np.testing.assert_allclose(measured, want[date], rtol=1e-6)
        rec = eng.record("active_power", date)
        err = eng.day_error("active_power", date)
        det = eng.detector
        # per-sample error = squared deviation in the model's normalised units, and its mean is the MSE
        np.testing.assert_allclose(err, ((measured - recon) / det.std) ** 2, rtol=1e-3, atol=1e-6)
        assert float(np.mean(err)) == pytest.approx(rec.mse, rel=1e-4)
    assert eng.day_series("active_power", "1999-01-01") is None
    assert eng.day_series("voltage_l1", "2025-01-02") is None


def test_reflag_from_stored_mses(year_run) -> None:
    eng, sink = year_run
    scored = sink.events(DayScored)
    mse = np.array([d.mse for d in scored])
    dates, thr, flagged = eng.flags()
    assert flagged.tolist() == [d.flagged for d in scored]  # the rule the events used
    assert thr.tolist() == pytest.approx([d.threshold for d in scored])
    for t in np.nanquantile(mse, [0.5, 0.9, 0.99]):
        _, _, f = eng.flags(float(t))
        assert f.tolist() == [bool(np.isfinite(m) and m > t) for m in mse]


def test_paced_days_arrive_over_many_batches_and_pause_holds_them(days, model) -> None:
    few = first_days(days, 12)
    eng = MeterEngine.from_days(few, "active_power", source="x", model=model, speed=6.0, emit_interval=0.05)
    sink = Sink()
    eng.pause()
    worker = threading.Thread(target=eng.run, args=(sink,))
    worker.start()
    try:
        # paused before the first day: nothing scored is emitted however long the model takes to load
        for _ in range(400):
            if eng.detector is not None and len(sink.batches) >= 1:
                break
            threading.Event().wait(0.05)
        threading.Event().wait(0.3)
        assert not sink.events(DayScored)
        eng.resume()
        eng.set_speed(6.0)
        worker.join(60)
        assert not worker.is_alive()
    finally:
        eng.stop()
    batches_with_days = [b for b in sink.batches if any(isinstance(e, DayScored) for e in b)]
    assert len(sink.events(DayScored)) == 12
    assert len(batches_with_days) >= 4  # paced, not one burst


def test_fixed_threshold_and_stop(days, model) -> None:
    few = first_days(days, 20)
    eng = MeterEngine.from_days(few, "active_power", source="x", model=model)
    ref = Sink()
    eng.run(ref)
    mse = np.array([d.mse for d in ref.events(DayScored)])
    thr = float(np.nanmedian(mse))
    eng2 = MeterEngine.from_days(few, "active_power", source="x", model=model)
    eng2.set_sensitivity("active_power", "seq2seq", thr)  # what the console's slider persists
    assert eng2.get_sensitivity("active_power", "seq2seq") == thr
    sink = Sink()
    eng2.run(sink)
    got = sink.events(DayScored)
    assert [d.flagged for d in got] == [bool(m > thr) for m in mse]
    assert {d.threshold for d in got} == {thr}
    eng3 = MeterEngine.from_days(few, "active_power", source="x", model=model, speed=0.5)
    stopper = threading.Timer(0.1, eng3.stop)
    stopper.start()
    eng3.run(Sink())  # returns after stop() instead of pacing 40 s
    assert eng3.finished.is_set()


def test_training_emits_progress_and_ends_at_full_bar(days) -> None:
    few = first_days(days, 14)
    plan = TrainPlan(epochs=2)
    eng = MeterEngine.from_days(few, "active_power", source="x", train=plan)
    sink = Sink()
    eng.run(sink)
    progress = sink.events(TrainingProgress)
    assert progress and all(p.model == "seq2seq/active_power" for p in progress)
    assert progress[-1].epoch == progress[-1].epochs  # the console hides the bar only at 100 %
    assert len(sink.events(DayScored)) == 14
    assert eng.detector.train_mse.size == int(few.complete.sum())
    assert eng.detector.cfg.calendar is True  # two of each weekday: calendar conditioning by default
    assert eng.detector.train_weekdays.size == eng.detector.train_mse.size
    dates, thr, flagged = eng.flags()  # re-flagging with the weekday rule needs every day's date
    assert len(dates) == 14 and thr.shape == flagged.shape == (14,)


def test_short_training_span_trains_without_calendar(days) -> None:
    few = first_days(days, 6)  # under two of each weekday
    eng = MeterEngine.from_days(few, "active_power", source="x", train=TrainPlan(epochs=1))
    eng.run(Sink())
    assert eng.detector.cfg.calendar is False
    forced = MeterEngine.from_days(few, "active_power", source="x", train=TrainPlan(epochs=1, calendar=True))
    forced.run(Sink())
    assert forced.detector.cfg.calendar is True


def test_bad_model_is_one_engine_error(tmp_path: Path, days) -> None:
    bad = tmp_path / "bad.msgpack"
    bad.write_bytes(b"\x93not a checkpoint")
    eng = MeterEngine.from_days(first_days(days, 3), "active_power", source="x", model=bad)
    sink = Sink()
    eng.run(sink)  # never raises
    errors = sink.events(EngineError)
    assert len(errors) == 1 and "\n" not in errors[0].message and "bad.msgpack" in errors[0].message
    assert not sink.events(DayScored)


def test_engine_agrees_with_meter_scan(year_run, model, capsys: pytest.CaptureFixture) -> None:
    """The console's days and `meter scan --json` (its own path from file to flags) cannot disagree."""
    from spear_tui import cli

    code = cli.main(["meter", "scan", str(PARQUET), "--tz", TZ, "--model", str(model), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == (1 if out["flagged"] else 0)
    _, sink = year_run
    scored = sink.events(DayScored)
    assert [d.date for d in scored] == [d["date"] for d in out["days"]]
    assert [d.flagged for d in scored] == [d["flagged"] for d in out["days"]]
    assert [d.complete for d in scored] == [d["complete"] for d in out["days"]]
    for d, s in zip(scored, out["days"], strict=True):
        assert (s["mse"] is None) == np.isnan(d.mse)
        if s["mse"] is not None:
            assert d.mse == pytest.approx(s["mse"], abs=2e-6)


def test_live_meter_that_does_not_answer_is_counted_not_fatal(model) -> None:
    import socket

    from spear_tui.engines.meter import LiveMeter
    from spear_tui.events import PacketsSkipped
    from spear_tui.meter.registers import load_map

    with socket.socket() as s:  # a port nobody listens on: every poll fails to connect
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    meter = LiveMeter("127.0.0.1", port, load_map("generic"), interval=0.05, timeout=0.2)
    eng = MeterEngine.live(meter, "active_power", model=model)
    sink = Sink()
    worker = threading.Thread(target=eng.run, args=(sink,))
    worker.start()
    try:
        for _ in range(600):
            if sum(e.count for e in sink.events(PacketsSkipped)) >= 3:
                break
            threading.Event().wait(0.05)
    finally:
        eng.stop()
        worker.join(20)
    assert not worker.is_alive()
    skipped = sink.events(PacketsSkipped)
    assert sum(e.count for e in skipped) >= 3 and all("connect failed" in e.reason for e in skipped)
    assert not sink.events(EngineError) and not sink.events(DayScored)


def test_shipped_model_flags_the_labelled_incident_days(year_run, model) -> None:
    """With the shipped model (day-of-week calendar, no holiday calendar), every labelled active-power
    incident day (weekday holidays, the stuck meter, the night left on) is flagged by the engine."""
    from spear_tui.commands._meter_console import shipped_models

    if model not in shipped_models():
        pytest.skip("no shipped meter model in models/: the fallback model is not expected to rank days")
    _, sink = year_run
    flagged = {d.date for d in sink.events(DayScored) if d.flagged}
    want = {date for date, kind in labels().items() if kind in ("holiday", "stuck", "night_load")}
    assert len(want) >= 12 and want <= flagged
    assert len(flagged) <= len(want) + 3  # and not much else
