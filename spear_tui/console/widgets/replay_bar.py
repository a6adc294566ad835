"""Replay position, speed and ETA on one line: `▶ 4×  00:01:23 / 00:10:00  [████░░░░] 14%  ETA 0:02:05`.

The ETA comes from how fast capture time has actually been consumed (wall clock, over the recent
samples), so it is right at `max` speed too, where the nominal speed says nothing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget

from spear_tui.events import SourceProgress


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    s = int(seconds)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


def fmt_speed(speed: float | None) -> str:
    if speed is None:
        return "max"
    return f"{speed:g}×"


class EtaEstimator:
    """Capture-seconds per wall-second over the last few progress samples → time left."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, window: int = 20) -> None:
        self.clock = clock
        self.samples: deque[tuple[float, float]] = deque(maxlen=window)

    def add(self, position: float) -> None:
        self.samples.append((self.clock(), position))

    def reset(self) -> None:
        self.samples.clear()

    def eta(self, position: float, total: float | None) -> float | None:
        if total is None or len(self.samples) < 2:
            return None
        (w0, p0), (w1, p1) = self.samples[0], self.samples[-1]
        if w1 <= w0 or p1 <= p0:
            return None
        return max(0.0, total - position) / ((p1 - p0) / (w1 - w0))


class ReplayBar(Widget):
    DEFAULT_CSS = """
    ReplayBar { height: 1; width: 1fr; }
    ReplayBar > .replay--bar { color: $accent; }
    ReplayBar > .replay--rest { color: $foreground-muted; }
    ReplayBar > .replay--paused { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {"replay--bar", "replay--rest", "replay--paused"}

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, id: str | None = None) -> None:
        super().__init__(id=id)
        self.progress: SourceProgress | None = None
        self.paused = False
        self.speed: float | None = 1.0
        self.eta = EtaEstimator(clock)

    def update_progress(self, progress: SourceProgress | None, paused: bool, speed: float | None) -> None:
        if progress is not None and (self.progress is None or progress.position != self.progress.position):
            self.eta.add(progress.position)
        if paused != self.paused or speed != self.speed:
            self.eta.reset()
        self.progress, self.paused, self.speed = progress, paused, speed
        self.refresh()

    def render(self) -> Text:
        style = self.get_component_rich_style
        text = Text(no_wrap=True, overflow="crop")
        p = self.progress
        if self.paused:
            text.append("❚❚ paused", style("replay--paused"))
        elif p is not None and p.done:
            text.append("■ done")
        else:
            text.append("▶")
        text.append(f" {fmt_speed(self.speed)}  ")
        if p is None:
            text.append("waiting for the source…", style("replay--rest"))
            return text
        text.append(fmt_duration(p.position))
        if p.total is None:
            text.append("  live")
            return text
        text.append(f" / {fmt_duration(p.total)} ")
        frac = 1.0 if p.done else min(1.0, max(0.0, p.position / p.total)) if p.total > 0 else 0.0
        tail = f" {frac:4.0%}  ETA {fmt_duration(0.0 if p.done else self.eta.eta(p.position, p.total))}"
        bar_w = max(4, (self.size.width or 80) - len(text) - len(tail))
        filled = int(round(frac * bar_w))
        text.append("█" * filled, style("replay--bar"))
        text.append("░" * (bar_w - filled), style("replay--rest"))
        text.append(tail)
        return text
