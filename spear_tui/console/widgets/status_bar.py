"""Top line: source, elapsed wall time, messages, skipped/other frames, alerts, last engine error."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget

from spear_tui.console.state import ConsoleState
from spear_tui.console.text import inert
from spear_tui.console.widgets.replay_bar import fmt_duration


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; background: $panel; }
    StatusBar > .status--title { text-style: bold; color: $accent; }
    StatusBar > .status--error { color: $error; text-style: bold; }
    """
    COMPONENT_CLASSES = {"status--title", "status--error"}

    def __init__(
        self,
        state: ConsoleState,
        source: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        started: float | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.state = state
        self.source = source
        self.clock = clock
        self.started = clock() if started is None else started  # the app's start: same on every screen

    def render(self) -> Text:
        st = self.state
        style = self.get_component_rich_style
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("spear-tui ", style("status--title"))
        text.append_text(inert(self.source, max_len=40))
        text.append(f"  up {fmt_duration(self.clock() - self.started)}")
        if st.learning_left is not None:  # before the counters: no alerts can come while it lasts
            left = int(st.learning_left)
            text.append(f"  learning: {left // 60}:{left % 60:02d} left", style="bold")
        if st.tracks or not st.meters:
            msgs = st.messages
            text.append(f"  msgs {msgs:,}")
        if st.meters:
            days = sum(len(m.days) for m in st.meters.values())
            flagged = sum(int(m.flags().sum()) for m in st.meters.values())
            text.append(f"  days {days:,} flagged {flagged}")
        skipped = sum(st.skipped.values())
        if skipped:
            text.append(f"  skipped {skipped:,}")
        if st.other_frames:
            text.append(f"  other {st.other_frames:,}")
        text.append(f"  alerts {st.alerts_total}")
        if st.errors:
            text.append("  ")
            text.append_text(inert(st.errors[-1], style=style("status--error"), max_len=60))
        return text
