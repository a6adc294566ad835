"""Meter: scored days (MSE, flag), the selected day measured vs reconstructed, the MSE histogram and
the MSE threshold slider, which re-flags the stored days instantly and is saved per measurement."""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from spear_tui.console.messages import ThresholdMoved
from spear_tui.console.screens.base import StateScreen
from spear_tui.console.state import MeterTrack
from spear_tui.console.text import inert
from spear_tui.console.widgets.day_plot import DayPlot
from spear_tui.console.widgets.loss_panel import fmt_score
from spear_tui.console.widgets.mse_histogram import MseHistogram
from spear_tui.console.widgets.threshold_slider import ThresholdSlider
from spear_tui.engines.contract import Engine
from spear_tui.errors import UserError

SLIDER_STEPS = 200


class MeterScreen(StateScreen):
    BINDINGS = [Binding("m", "next_measurement", "Next measurement", show=False)]
    DEFAULT_CSS = """
    MeterScreen #meter-main { height: 1fr; }
    MeterScreen #days { width: 36; height: 1fr; }
    MeterScreen #meter-right { width: 1fr; height: 1fr; }
    MeterScreen #meter-empty { color: $foreground-muted; height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.measurement = ""
        self.shown_flags: dict[str, bool] = {}
        self.selected: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("no meter days scored yet", id="meter-empty")
        yield ThresholdSlider(
            "MSE thr", minimum=0.0, maximum=1.0, step=0.005, fmt="{:.4g}", id="meter-slider"
        )
        with Horizontal(id="meter-main"):
            yield DataTable(id="days", cursor_type="row", zebra_stripes=True)
            with Vertical(id="meter-right"):
                yield DayPlot(id="day-plot")
                yield MseHistogram(id="mse-hist")

    def on_mount(self) -> None:
        table = self.query_one("#days", DataTable)
        for c in ("date", "MSE", "flag", "full"):
            table.add_column(c, key=c)

    def _track(self) -> MeterTrack | None:
        meters = self.spear.state.meters
        if self.measurement not in meters and meters:
            self.measurement = sorted(meters)[0]
            self._reset_table()
        return meters.get(self.measurement)

    def _reset_table(self) -> None:
        self.query_one("#days", DataTable).clear()
        self.shown_flags.clear()
        self._setup_slider()

    def _setup_slider(self) -> None:
        track = self.spear.state.meters.get(self.measurement)
        slider = self.query_one("#meter-slider", ThresholdSlider)
        slider.key = f"meter/seq2seq/{self.measurement}"
        slider.label = "MSE thr"
        saved = self.spear.settings.get(slider.key)
        if track is not None and saved is not None:
            track.reflag(saved)
        self._fit_slider_range(track)
        thr = track.current_threshold() if track is not None else None
        if thr is not None and math.isfinite(thr):
            with slider.prevent(ThresholdSlider.Changed):
                slider.value = thr

    def _fit_slider_range(self, track: MeterTrack | None) -> None:
        slider = self.query_one("#meter-slider", ThresholdSlider)
        if track is None or not track.days:
            return
        mses = track.mses()
        mses = mses[np.isfinite(mses)]  # incomplete days carry NaN (never scored)
        thr = track.current_threshold()
        thr = thr if thr is not None and math.isfinite(thr) else 0.0
        top = max(float(mses.max()) if mses.size else 0.0, thr) * 1.2 or 1.0
        with slider.prevent(ThresholdSlider.Changed):
            slider.set_range(0.0, top, top / SLIDER_STEPS)

    def update_body(self, changed: set[str]) -> None:
        if not changed & {"days", "all"}:
            return
        track = self._track()
        self.query_one("#meter-empty").display = track is None
        self.query_one("#meter-main").display = track is not None
        self.query_one("#meter-slider").display = track is not None
        if track is None:
            return
        if "all" in changed:
            self._setup_slider()
        self._fit_slider_range(track)
        self._sync_days(track)

    def _sync_days(self, track: MeterTrack) -> None:
        table = self.query_one("#days", DataTable)
        flags = track.flags()
        for day, flag in zip(track.days, flags, strict=True):
            flag = bool(flag)
            if day.date not in self.shown_flags:
                table.add_row(
                    Text(day.date),
                    Text(fmt_score(day.mse), justify="right"),
                    Text("FLAG" if flag else "", style="bold red"),
                    Text("" if day.complete else "gaps"),
                    key=day.date,
                )
            elif self.shown_flags[day.date] != flag:
                table.update_cell(day.date, "flag", Text("FLAG" if flag else "", style="bold red"))
            self.shown_flags[day.date] = flag
        slider = self.query_one("#meter-slider", ThresholdSlider)
        slider.flagged, slider.total = int(flags.sum()), len(flags)
        self.query_one(MseHistogram).show(
            track.mses(),
            track.current_threshold(),
            "threshold" if track.threshold is not None else "last day's thr",
        )
        if self.selected is None and track.days:
            self._select(track.days[0].date)

    def on_threshold_slider_changed(self, event: ThresholdSlider.Changed) -> None:
        track = self.spear.state.meters.get(self.measurement)
        if track is None:
            return
        track.reflag(event.value)
        self.post_message(ThresholdMoved(event.slider.key, self.measurement, "seq2seq", event.value))
        self._sync_days(track)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value:
            self._select(event.row_key.value)

    def _select(self, date: str) -> None:
        self.selected = date
        title = inert(f"{self.measurement} {date}").plain
        track = self.spear.state.meters.get(self.measurement)
        day = next((d for d in reversed(track.days) if d.date == date), None) if track else None
        flagged = False
        if day is not None:
            thr = track.threshold if track is not None and track.threshold is not None else day.threshold
            title += f"  MSE {fmt_score(day.mse)} vs {fmt_score(thr)}"
            flagged = bool(day.mse > thr)
        engine = self.spear.engine
        if engine is None or not engine.keeps_days:
            self.query_one(DayPlot).show_note(title, "this engine keeps no day series")
            return
        self.query_one(DayPlot).show_note(title, "loading…")
        measurement = self.measurement
        self.run_worker(
            lambda: self._load(engine, measurement, date, title, flagged),
            thread=True, exclusive=True, group="day",
        )

    def _load(self, engine: Engine, measurement: str, date: str, title: str, flagged: bool = False) -> None:
        try:
            series = engine.day_series(measurement, date)
        except UserError as exc:  # a stored session whose meter file or model is gone or changed
            self.app.call_from_thread(self.query_one(DayPlot).show_note, title, str(exc))
            return
        why = ""
        if series is not None and flagged:  # say why: hours that deviate, energy against expected
            from spear_tui.detect.meter.meter_explain import explain_day, why_text

            why = "why: " + why_text(explain_day(series[0], series[1]).to_dict())
        if series is None:
            self.app.call_from_thread(self.query_one(DayPlot).show_note, title, "day not available")
        else:
            self.app.call_from_thread(self.query_one(DayPlot).show, title, series[0], series[1], why)

    def action_next_measurement(self) -> None:
        names = sorted(self.spear.state.meters)
        if len(names) > 1:
            self.measurement = names[(names.index(self.measurement) + 1) % len(names)]
            self.selected = None
            self._reset_table()
            self.update_body({"days"})
