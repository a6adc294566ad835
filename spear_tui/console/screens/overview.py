"""Overview: one loss panel + sensitivity slider per protocol model, meter summary, latest incidents.

A protocol can have several models (MQTT: the flow LSTM and its rhythm view); each gets its own panel
(`#panel-mqtt`, `#panel-mqtt-rhythm`), slider (`#slider-mqtt`, `#slider-mqtt-rhythm`) and settings key
(`mqtt/lstm`, `mqtt/rhythm`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from spear_tui.console.messages import ThresholdMoved
from spear_tui.console.screens.base import StateScreen
from spear_tui.console.text import inert
from spear_tui.console.widgets.incident_list import IncidentList
from spear_tui.console.widgets.loss_panel import LossPanel, fmt_score
from spear_tui.console.widgets.threshold_slider import ThresholdSlider
from spear_tui.engines.contract import Engine

PROTOCOLS = ("mqtt", "modbus", "bacnet")  # display order (schema.PROTOCOLS; not imported: it loads polars)

DEFAULT_K = 3.0
K_MIN, K_MAX, K_STEP = 0.5, 10.0, 0.1


def engine_sensitivity(engine: Engine | None, protocol: str, detector: str = "lstm") -> float:
    """The k the engine's LSTM detector uses now, so the slider starts where the detector is."""
    value = engine.get_sensitivity(protocol, detector) if engine is not None else None
    return DEFAULT_K if value is None else float(value)


def widget_suffix(protocol: str, detector: str) -> str:
    """`mqtt` for a protocol's flow LSTM, `mqtt-rhythm` for another view (panel and slider ids)."""
    return protocol if detector == "lstm" else f"{protocol}-{detector}"


def slider_label(protocol: str, detector: str) -> str:
    return f"{protocol} k" if detector == "lstm" else f"{protocol} {detector} k"


class OverviewScreen(StateScreen):
    DEFAULT_CSS = """
    OverviewScreen #panels { height: auto; max-height: 75%; }
    OverviewScreen.-tall LossPanel { height: 7; }
    OverviewScreen.-tall ThresholdSlider { margin-bottom: 1; }
    OverviewScreen.-many LossPanel { height: 3; }
    OverviewScreen.-tall.-many LossPanel { height: 5; }
    OverviewScreen.-tall.-many ThresholdSlider { margin-bottom: 0; }
    OverviewScreen #meter-summary { height: auto; color: $foreground; }
    OverviewScreen #waiting { color: $foreground-muted; }
    OverviewScreen IncidentList { height: 1fr; min-height: 3; }
    """

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="panels", can_focus=False):
            yield Static("waiting for traffic…", id="waiting")
        yield Static(id="meter-summary")
        yield IncidentList(id="overview-incidents")

    def on_resize(self) -> None:
        """Taller charts when the terminal has room for them (>= 36 rows); 80x24 keeps 4-row panels."""
        self.set_class(self.size.height >= 36, "-tall")

    def _order(self, key: tuple[str, str]) -> tuple[int, str, bool, str]:
        protocol, detector = key
        rank = PROTOCOLS.index(protocol) if protocol in PROTOCOLS else len(PROTOCOLS)
        return (rank, protocol, detector != "lstm", detector)

    def _sync_panels(self) -> None:
        """Mount a panel + slider for each model that appeared since the last refresh, in protocol order
        (a model that appears later than one shown after it goes in its place, not at the end)."""
        app = self.spear
        box = self.query_one("#panels")
        shown = {(p.track.protocol, p.track.detector) for p in self.query(LossPanel)}
        for pair in sorted(set(app.state.tracks) - shown, key=self._order):
            protocol, detector = pair
            track = app.state.tracks[pair]
            key = f"{protocol}/{detector}"
            saved = app.settings.get(key)
            k = saved
            if k is None:
                k = engine_sensitivity(app.engine, protocol, detector)
            suffix = widget_suffix(protocol, detector)
            slider = ThresholdSlider(
                slider_label(protocol, detector),
                minimum=K_MIN,
                maximum=K_MAX,
                step=K_STEP,
                value=k,
                key=key,
                fmt="{:.1f}",
                id=f"slider-{suffix}",
            )
            if saved is not None:
                app.state.reflag(protocol, saved, detector)
            slider.flagged, slider.total = track.flagged, track.scores.n
            panel = LossPanel(track, id=f"panel-{suffix}")
            after = [p for p in self.query(LossPanel) if self._order(pair) < self._order(_key(p))]
            if after:
                box.mount(panel, before=after[0])
                box.mount(slider, before=after[0])
            else:
                box.mount(panel)
                box.mount(slider)
        self.query_one("#waiting").display = not app.state.tracks
        # More models than protocols (MQTT's rhythm view): 2-row charts, so every panel and slider
        # still fits at 80x24 without scrolling
        self.set_class(len(app.state.tracks) > len(PROTOCOLS), "-many")

    def update_body(self, changed: set[str]) -> None:
        app = self.spear
        if changed & {"chunks", "messages", "alerts", "all"}:
            self._sync_panels()
            for panel in self.query(LossPanel):
                panel.refresh()
            for slider in self.query(ThresholdSlider):
                track = app.state.tracks.get(_slider_key(slider))
                if track is not None:
                    slider.flagged, slider.total = track.flagged, track.scores.n
        if changed & {"days", "all"}:
            self._update_meter_summary()
        if changed & {"alerts", "all"}:
            self.query_one(IncidentList).show(app.state.incidents())

    def _update_meter_summary(self) -> None:
        meters = self.spear.state.meters
        widget = self.query_one("#meter-summary", Static)
        widget.display = bool(meters)
        lines = Text()
        for i, (name, m) in enumerate(sorted(meters.items())):
            if i:
                lines.append("\n")
            lines.append("meter ", style="bold")
            lines.append_text(inert(name, max_len=30))
            thr = fmt_score(m.current_threshold())
            lines.append(f": {len(m.days)} days, {int(m.flags().sum())} flagged (MSE > {thr})")
        widget.update(lines)

    def on_threshold_slider_changed(self, event: ThresholdSlider.Changed) -> None:
        app = self.spear
        protocol, detector = _slider_key(event.slider)
        track = app.state.tracks.get((protocol, detector))
        if track is None:
            return
        event.slider.flagged = app.state.reflag(protocol, event.value, detector)
        event.slider.total = track.scores.n
        self.post_message(ThresholdMoved(event.slider.key, protocol, detector, event.value))
        self.query_one(f"#panel-{widget_suffix(protocol, detector)}", LossPanel).refresh()
        self.query_one(IncidentList).show(app.state.incidents())

    def on_data_table_row_selected(self, event: IncidentList.RowSelected) -> None:
        inc = self.query_one(IncidentList).incident_at(event.cursor_row)
        if inc is not None:
            from spear_tui.console.screens.incident_alerts import IncidentAlertsScreen

            self.app.push_screen(IncidentAlertsScreen(inc))


def _key(panel: LossPanel) -> tuple[str, str]:
    return (panel.track.protocol, panel.track.detector)


def _slider_key(slider: ThresholdSlider) -> tuple[str, str]:
    """(protocol, detector) of a model's slider, from its settings key `protocol/detector`."""
    protocol, _, detector = slider.key.partition("/")
    return (protocol, detector or "lstm")
