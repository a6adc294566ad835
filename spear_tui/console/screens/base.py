"""Chrome every console screen shares: status line on top, training and replay bars and footer below.

Screens implement `compose_body()` and `update_body(changed)`; the app calls `refresh_state(changed)`
on the visible screen after each drained batch, and a screen coming back into view refreshes fully.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from spear_tui.console.widgets.replay_bar import ReplayBar
from spear_tui.console.widgets.status_bar import StatusBar
from spear_tui.console.widgets.training_bar import TrainingBar

if TYPE_CHECKING:
    from spear_tui.console.app import SpearApp

ALL = frozenset({"all", "chunks", "messages", "alerts", "days", "progress", "training", "summary", "errors"})


class StateScreen(Screen):
    @property
    def spear(self) -> SpearApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.spear
        yield StatusBar(app.state, app.source, clock=app.clock, started=app.started, id="status")
        yield from self.compose_body()
        yield TrainingBar(id="training")
        yield ReplayBar(clock=app.clock, id="replay")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        self.refresh_state(set(ALL))

    def refresh_state(self, changed: set[str]) -> None:
        if not self.is_mounted:
            return
        app = self.spear
        self.query_one(StatusBar).refresh()
        if changed & {"progress", "all"}:
            eng = app.engine
            self.query_one(ReplayBar).update_progress(
                app.state.progress,
                bool(eng.paused) if eng is not None else False,
                eng.speed if eng is not None else 1.0,
            )
        if changed & {"training", "all"}:
            self.query_one(TrainingBar).update_training(app.state.training)
        self.update_body(changed)

    def update_body(self, changed: set[str]) -> None:
        pass

    def jump(self, direction: int) -> None:
        """n/p: move to the next (1) or previous (-1) alert; screens with an alert list override it."""

    def screen_commands(self) -> Iterable[SystemCommand]:
        """Command-palette entries for this screen's own key bindings (so every action has one)."""
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding):
                continue
            keys = binding.key_display or binding.key.split(",")[0]
            yield SystemCommand(
                binding.description,
                f"{binding.description} ({keys})",
                partial(self.run_action, binding.action),
            )
