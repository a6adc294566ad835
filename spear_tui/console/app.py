"""The console application: wires an engine (run in a worker thread) to the screens.

Threading: the engine's `run(emit)` blocks in a worker thread; `emit` only appends to a deque, and a
10 Hz timer on the UI loop drains it, folds the events into `ConsoleState` and refreshes the visible
screen. So the engine never waits on the UI (`call_from_thread` would block it) and the UI never waits
on the engine. Nothing heavy is imported here: the engine factory imports JAX in the worker.

The engine is an `Engine` (spear_tui.engines.contract): the app calls its methods, never probes it.
Screens post intents (console/messages.py: a moved slider, switched rules, an accepted alert) and the
app acts on the engine and saves the settings.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from spear_tui.console.messages import AcceptRequested, RulesChanged, ThresholdMoved
from spear_tui.console.screens.base import StateScreen
from spear_tui.console.settings import Settings
from spear_tui.console.state import ConsoleState
from spear_tui.engines.contract import Engine, EngineFactory
from spear_tui.errors import UserError
from spear_tui.events import Alert

SPEEDS: tuple[float | None, ...] = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 50.0, 100.0, None)
PACKET_MODES = ("overview", "mqtt", "modbus", "bacnet", "incidents", "meter", "detectors")


def lstm_key(protocol: str, detector: str = "lstm") -> str:
    """Settings key of a protocol's LSTM view's k: `mqtt/lstm` (flow), `mqtt/rhythm`."""
    return f"{protocol}/{detector}"


def meter_key(measurement: str) -> str:
    return f"meter/seq2seq/{measurement}"


class SpearApp(App[int]):
    """`SpearApp(engine_factory, source=...)`; `kind="meter"` opens on the meter screen."""

    TITLE = "spear-tui"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("1", "show('overview')", "Overview", key_display="1"),
        Binding("2", "show('mqtt')", "MQTT", show=False),
        Binding("3", "show('modbus')", "Modbus", show=False),
        Binding("4", "show('bacnet')", "BACnet", show=False),
        Binding("5", "show('incidents')", "Incidents", key_display="5"),
        Binding("6", "show('meter')", "Meter", show=False),
        Binding("7", "show('detectors')", "Detectors", show=False),
        Binding("space", "toggle_pause", "Pause", key_display="␣"),
        # one footer entry for both speed keys: at 80 columns the footer has no room for two
        Binding("plus,equals_sign", "faster", "Speed", key_display="+/-"),
        Binding("minus", "slower", "Slower", key_display="-", show=False),
        Binding("n", "next_alert", "Next incident", show=False),
        Binding("p", "previous_alert", "Prev incident", show=False),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        engine_factory: EngineFactory,
        *,
        source: str = "",
        kind: str = "packets",
        settings: Settings | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_hz: float = 10.0,
        site: Any = None,
    ) -> None:
        if os.environ.get("TEXTUAL_COLOR_SYSTEM", "").lower() in ("standard", "16", "windows"):
            self._ansi = True
        else:
            self._ansi = False
        super().__init__()
        self.engine_factory = engine_factory
        self.source = source
        self.kind = kind
        self.alert_filter = "all"  # the Incidents screen's detector filter (f), kept across screen switches
        self.severity_filter = "low"  # the Incidents screen's lowest severity shown (s)
        self.incident_order = "newest"  # the Incidents screen's order (o)
        self.site = site  # spear_tui.site.Site the detectors judge by (accepting records into it), or None
        self.settings = settings if settings is not None else Settings()
        self.clock = clock
        self.started = clock()
        self.refresh_hz = refresh_hz
        self.state = ConsoleState()
        self.engine: Engine | None = None
        self.fatal: str | None = None
        self._inbox: deque[Any] = deque()
        self._stopping = False
        self._last_status = 0.0
        from spear_tui.console.screens import make_modes

        self._modes.update(make_modes(kind))
        if self._ansi:
            self.theme = "ansi-dark"

    # -- engine side (worker thread) --------------------------------------------------------------
    def emit(self, events: Iterable[Any]) -> None:
        """Called by the engine from its thread: O(1), never blocks on the UI."""
        self._inbox.extend(events)

    def _run_engine(self) -> None:
        try:
            engine = self.engine_factory()
        except UserError as exc:
            self.fatal = str(exc)
            self.call_from_thread(self.exit, None, 2)
            return
        self.engine = engine
        if self._stopping:
            return
        self._apply_saved_sensitivities(engine)
        engine.run(self.emit)

    def _apply_saved_sensitivities(self, engine: Engine) -> None:
        from spear_tui.detect.lstm.views import lstm_views

        for protocol in ("mqtt", "modbus", "bacnet"):
            for view in lstm_views(protocol):
                k = self.settings.get(lstm_key(protocol, view))
                if k is not None:
                    engine.set_sensitivity(protocol, view, k)
        if self.kind != "meter":
            from spear_tui.console.screens.detectors import apply_saved

            apply_saved(engine, self.settings)

    # -- UI side ----------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.switch_mode("meter" if self.kind == "meter" else "overview")
        self.set_interval(1.0 / self.refresh_hz, self.drain)
        self.run_worker(self._run_engine, thread=True, exit_on_error=False, name="engine", group="engine")

    def drain(self) -> None:
        """Fold everything the engine emitted since the last tick into the state; refresh once."""
        inbox = self._inbox
        n = len(inbox)
        batch = [inbox.popleft() for _ in range(n)]
        changed = self.state.apply(batch) if batch else set()
        now = self.clock()
        if now - self._last_status >= 1.0:  # elapsed time ticks once a second even when idle
            changed.add("clock")
            self._last_status = now
            self._poll_learning()
        if "errors" in changed:
            self.notify(self.state.errors[-1], severity="error", markup=False)
        if changed:
            self.refresh_screen(changed)

    def _poll_learning(self) -> None:
        """The learning period left (an engine without a site learns first); shown in the status line."""
        info = self.engine.learning() if self.engine is not None else None
        if info is None:
            return
        was, self.state.learning_left = self.state.learning_left, info["left"]
        if was is not None and info["left"] is None and info["learned"]:  # the period just ended
            self.notify("learning done: " + "; ".join(info["learned"]), markup=False, timeout=15)

    def accept_alert(self, alert: Alert) -> str:
        """Accept an alert as normal: the running detector stops alerting on it at once and, with a
        site, the site's manifest records it (who/when). Returns the line to show the user."""
        engine = self.engine  # a stored session (review) has no running detector to tell
        live = engine is not None and engine.accepts_alerts
        if not alert.accept:
            return "this alert has nothing to accept (only novelty alerts about something new)"
        if not live and self.site is None:
            return "no site to accept into: open the review with --site NAME"
        if self.site is not None:
            from spear_tui.site.accept import accept_alert

            key = f"console:{self.source}@{alert.start:.6f}#{alert.first_frame}"
            try:
                accept_alert(self.site, alert, key)
            except UserError as exc:
                return str(exc)
        if live and engine is not None:
            engine.accept(alert)
        where = f"site {self.site.name}" if self.site is not None else "this session (no --site: not saved)"
        what = alert.reason if len(alert.reason) <= 70 else alert.reason[:69] + "…"
        return f"accepted as normal on {where}: {what}"

    def refresh_screen(self, changed: set[str]) -> None:
        if isinstance(self.screen, StateScreen):
            self.screen.refresh_state(changed)

    # -- intents from the screens -----------------------------------------------------------------
    def on_threshold_moved(self, message: ThresholdMoved) -> None:
        """Save the slider and move the engine's detector (new scores only; the screen re-flagged)."""
        err = self.settings.set(message.key, message.value)
        if err:
            self.notify(err, severity="warning", markup=False)
        if self.engine is not None:
            self.engine.set_sensitivity(message.protocol, message.detector, message.value)

    def on_rules_changed(self, message: RulesChanged) -> None:
        if self.engine is not None:
            self.engine.set_rules(message.protocol, message.detector, set(message.rules))

    def on_accept_requested(self, message: AcceptRequested) -> None:
        self.notify(self.accept_alert(message.alert), markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "engine":
            return
        if event.state == WorkerState.ERROR:
            err = event.worker.error
            self.state.errors.append(f"engine stopped: {type(err).__name__}: {err}")
            self.notify(self.state.errors[-1], severity="error", markup=False, timeout=10)
            self.refresh_screen({"errors"})

    # -- actions ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide bindings to screens this console does not have (the meter console has no packet views)."""
        if action == "show" and parameters and parameters[0] not in self._modes:
            return False
        if action in ("next_alert", "previous_alert") and "incidents" not in self._modes:
            return False
        return True

    def action_show(self, mode: str) -> None:
        if mode in self._modes and self.current_mode != mode:
            self.switch_mode(mode)

    def action_toggle_pause(self) -> None:
        if self.engine is None:
            return
        if self.engine.paused:
            self.engine.resume()
        else:
            self.engine.pause()
        self.refresh_screen({"progress"})

    def _step_speed(self, direction: int) -> None:
        if self.engine is None:
            return
        cur = self.engine.speed
        i = (
            SPEEDS.index(cur)
            if cur in SPEEDS
            else min(range(len(SPEEDS) - 1), key=lambda j: abs((SPEEDS[j] or 0) - (cur or 0)))
        )
        new = SPEEDS[min(len(SPEEDS) - 1, max(0, i + direction))]
        self.engine.set_speed(new)
        self.refresh_screen({"progress"})

    def action_faster(self) -> None:
        self._step_speed(1)

    def action_slower(self) -> None:
        self._step_speed(-1)

    async def _jump_alert(self, direction: int) -> None:
        if self.current_mode != "incidents":
            await self.switch_mode("incidents")
        if isinstance(self.screen, StateScreen):
            self.screen.jump(direction)

    async def action_next_alert(self) -> None:
        await self._jump_alert(1)

    async def action_previous_alert(self) -> None:
        await self._jump_alert(-1)

    def action_help(self) -> None:
        from spear_tui.console.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.stop_engine()
        self.exit(0, 0)

    def stop_engine(self) -> None:
        self._stopping = True
        if self.engine is not None:
            self.engine.stop()

    def on_unmount(self) -> None:
        self.stop_engine()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, title in (
            ("overview", "Overview"),
            ("mqtt", "MQTT view"),
            ("modbus", "Modbus view"),
            ("bacnet", "BACnet view"),
            ("incidents", "Incidents"),
            ("meter", "Meter"),
            ("detectors", "Detectors (novelty switches)"),
        ):
            if mode in self._modes:
                yield SystemCommand(
                    f"Show {title}", f"Switch to the {title} screen", lambda m=mode: self.action_show(m)
                )
        yield SystemCommand("Pause / resume", "Pause or resume the replay (space)", self.action_toggle_pause)
        yield SystemCommand("Faster", "Replay faster (+)", self.action_faster)
        yield SystemCommand("Slower", "Replay slower (-)", self.action_slower)
        yield SystemCommand("Next incident", "Jump to the next incident (n)", self.action_next_alert)
        yield SystemCommand(
            "Previous incident", "Jump to the previous incident (p)", self.action_previous_alert
        )
        yield SystemCommand("Help", "Screens and keys (? or F1)", self.action_help)
        if isinstance(screen, StateScreen):
            yield from screen.screen_commands()


def run_console(
    engine_factory: EngineFactory, *, source: str = "", settings: Settings | None = None, site: Any = None
) -> int:
    """Run the packet console until the user quits. A UserError raised by the factory (in the worker)
    is re-raised here, after the terminal is restored, so the CLI prints it as one line. With a site,
    thresholds and switches are the site's own (its settings.json)."""
    if settings is None and site is not None and not site.sample:
        settings = Settings(site.settings_path)
    app = SpearApp(engine_factory, source=source, settings=settings, site=site)
    code = app.run()
    if app.fatal is not None:
        raise UserError(app.fatal)
    return int(code or 0)


def run_meter_console(
    engine_factory: EngineFactory, *, source: str = "", settings: Settings | None = None
) -> int:
    """The same console opened on the meter screen, for `spear-tui meter`."""
    app = SpearApp(engine_factory, source=source, kind="meter", settings=settings)
    code = app.run()
    if app.fatal is not None:
        raise UserError(app.fatal)
    return int(code or 0)
