"""Detectors (7): the novelty rules' controls, per protocol (issue 9).

A switch turns a protocol's novelty detector on/off, one checkbox per rule switches that rule, and a
slider sets the rate sensitivity (2.0 = rate rules alert at half the learned rate). Each change goes
to the engine at once (`set_rules` / `set_sensitivity`: new alerts only; alerts already raised stay)
and is saved like the LSTM slider (console/settings.py), so the next session starts the same way.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Static

from spear_tui.console.messages import RulesChanged, ThresholdMoved
from spear_tui.console.screens.base import StateScreen
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.threshold_slider import ThresholdSlider
from spear_tui.engines.contract import Engine

PROTOCOLS = ("mqtt", "modbus", "bacnet")
TITLES = {"mqtt": "MQTT", "modbus": "Modbus/TCP", "bacnet": "BACnet/IP"}
DETECTOR = "novelty"
K_MIN, K_MAX, K_STEP, DEFAULT_K = 0.1, 10.0, 0.1, 1.0


def novelty_key(protocol: str) -> str:
    return f"{protocol}/{DETECTOR}"


def on_key(protocol: str) -> str:
    return f"{protocol}/{DETECTOR}/on"


def rule_key(protocol: str, rule: str) -> str:
    return f"{protocol}/{DETECTOR}/rule/{rule}"


def all_rules(protocol: str) -> dict[str, str]:
    """Rule name -> what it alerts on (imported lazily: the novelty package loads polars)."""
    from spear_tui.detect.novelty import RULES

    return dict(RULES.get(protocol, {}))


def wanted_rules(settings: Settings, protocol: str) -> set[str]:
    """The rules the saved switches leave on (everything, when nothing was saved)."""
    if not settings.get_switch(on_key(protocol), True):
        return set()
    return {r for r in all_rules(protocol) if settings.get_switch(rule_key(protocol, r), True)}


def has_saved(settings: Settings, protocol: str) -> bool:
    keys = [on_key(protocol), *(rule_key(protocol, r) for r in all_rules(protocol))]
    return any(settings.get_switch(k) is not None for k in keys)


def apply_saved(engine: Engine, settings: Settings) -> None:
    """Give a starting engine the saved novelty switches and sensitivities (engine thread, before run)."""
    for protocol in PROTOCOLS:
        k = settings.get(novelty_key(protocol))
        if k is not None:
            engine.set_sensitivity(protocol, DETECTOR, k)
        if has_saved(settings, protocol):
            engine.set_rules(protocol, DETECTOR, wanted_rules(settings, protocol))


def running(engine: Engine, protocol: str) -> bool:
    return engine.get_rules(protocol, DETECTOR) is not None


def engine_k(engine: Engine, protocol: str) -> float:
    value = engine.get_sensitivity(protocol, DETECTOR)
    return DEFAULT_K if value is None else float(value)


class Switch(Checkbox):
    """A checkbox whose mark is blank when off: readable in 16 colours, where on/off differ only by
    the mark's colour in Textual's default."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 (Textual's name)
        return "X" if self.value else " "


class DetectorsScreen(StateScreen):
    DEFAULT_CSS = """
    DetectorsScreen #det-body { height: 1fr; }
    DetectorsScreen .det-title { background: $boost; text-style: bold; margin-top: 1; }
    DetectorsScreen Checkbox { border: none; height: 1; padding: 0 1; width: 100%; background: $surface; }
    DetectorsScreen Checkbox:focus { border: none; }
    DetectorsScreen Checkbox.rule { padding-left: 4; }
    DetectorsScreen #det-none { color: $foreground-muted; }
    """

    def __init__(self) -> None:
        super().__init__(name="detectors")
        self.shown: set[str] = set()

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="det-body"):
            yield Static(
                "no novelty detectors running (waiting for the engine, or started with --no-novelty)",
                id="det-none",
            )

    def update_body(self, changed: set[str]) -> None:
        engine = self.spear.engine
        if engine is not None:
            self._sync_sections(engine)
        if changed & {"alerts", "all"}:
            counts = self.spear.state.alerts_by_detector
            for slider in self.query(ThresholdSlider):
                protocol = slider.key.split("/")[0]
                slider.flagged = counts.get(protocol, {}).get(DETECTOR, 0)

    def _sync_sections(self, engine: Engine) -> None:
        """Mount one section per protocol whose novelty detector runs, in protocol order."""
        body = self.query_one("#det-body")
        settings = self.spear.settings
        for protocol in PROTOCOLS:
            if protocol in self.shown or not running(engine, protocol):
                continue
            self.shown.add(protocol)
            enabled = engine.get_rules(protocol, DETECTOR) or set()
            on = settings.get_switch(on_key(protocol), bool(enabled))
            saved_k = settings.get(novelty_key(protocol))
            slider = ThresholdSlider(
                f"{protocol} rate k",
                minimum=K_MIN,
                maximum=K_MAX,
                step=K_STEP,
                value=saved_k if saved_k is not None else engine_k(engine, protocol),
                key=novelty_key(protocol),
                fmt="{:.1f}",
                count_label="alerts",
                id=f"nov-k-{protocol}",
            )
            slider.flagged = self.spear.state.alerts_by_detector.get(protocol, {}).get(DETECTOR, 0)
            widgets = [
                Static(f"{TITLES[protocol]} novelty", classes="det-title"),
                Switch("novelty alerts on", bool(on), id=f"nov-on-{protocol}"),
                slider,
            ]
            for rule, what in all_rules(protocol).items():
                label = Text(f"{rule:<17}{what}", no_wrap=True, overflow="ellipsis")
                box = Switch(label, rule in enabled, id=f"nov-rule-{protocol}-{rule}", classes="rule")
                box.disabled = not on
                widgets.append(box)
            body.mount_all(widgets)
        self.query_one("#det-none").display = not self.shown

    def _push_rules(self, protocol: str) -> None:
        """Tell the engine which rules are on now (none when the protocol's switch is off)."""
        on = self.query_one(f"#nov-on-{protocol}", Checkbox).value
        rules = frozenset(
            rule
            for rule in all_rules(protocol)
            if on and self.query_one(f"#nov-rule-{protocol}-{rule}", Checkbox).value
        )
        self.post_message(RulesChanged(protocol, DETECTOR, rules))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        cid = event.checkbox.id or ""
        settings = self.spear.settings
        if cid.startswith("nov-on-"):
            protocol = cid.removeprefix("nov-on-")
            err = settings.set_switch(on_key(protocol), event.value)
            for rule in all_rules(protocol):
                self.query_one(f"#nov-rule-{protocol}-{rule}", Checkbox).disabled = not event.value
        elif cid.startswith("nov-rule-"):
            protocol, rule = cid.removeprefix("nov-rule-").split("-", 1)
            err = settings.set_switch(rule_key(protocol, rule), event.value)
        else:
            return
        if err:
            self.notify(err, severity="warning", markup=False)
        self._push_rules(protocol)

    def on_threshold_slider_changed(self, event: ThresholdSlider.Changed) -> None:
        protocol = event.slider.key.split("/")[0]
        self.post_message(ThresholdMoved(event.slider.key, protocol, DETECTOR, event.value))
