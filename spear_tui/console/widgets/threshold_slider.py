"""A float slider for detector thresholds: ←/→ fine, shift+←/→ coarse, home/end, mouse click and drag.

Textual has no slider and `textual-slider` is integer-only, so this is a small one of our own. It only
moves a value and says so (`ThresholdSlider.Changed`); what the value means (sensitivity k, MSE) and
how many chunks/days it flags is decided by the screen, which writes the count back into `flagged`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

LABEL_WIDTH = 14


class ThresholdSlider(Widget, can_focus=True):
    """One line: `label  [━━━━●────]  value  flagged N`."""

    BINDINGS = [
        Binding("left", "step(-1)", "Lower", key_display="←", show=False),
        Binding("right", "step(1)", "Raise", key_display="→", show=False),
        Binding("shift+left", "step(-10)", "Lower ×10", key_display="⇧←", show=False),
        Binding("shift+right", "step(10)", "Raise ×10", key_display="⇧→", show=False),
        Binding("home", "jump(0)", "Min", show=False),
        Binding("end", "jump(1)", "Max", show=False),
    ]

    DEFAULT_CSS = """
    ThresholdSlider {
        height: 1;
        width: 1fr;
    }
    ThresholdSlider > .slider--track { color: $foreground-muted; }
    ThresholdSlider > .slider--fill { color: $accent; }
    ThresholdSlider > .slider--knob { color: $warning; text-style: bold; }
    ThresholdSlider:focus > .slider--knob { color: $warning; text-style: bold reverse; }
    ThresholdSlider > .slider--label { color: $foreground; }
    ThresholdSlider:focus > .slider--label { text-style: bold reverse; }
    """
    COMPONENT_CLASSES = {"slider--track", "slider--fill", "slider--knob", "slider--label"}

    value: reactive[float] = reactive(0.0)
    """Current value, always clamped to [minimum, maximum] and snapped to `step`."""
    flagged: reactive[int | None] = reactive(None)
    """How many chunks/days the current value flags (set by the owner after re-flagging)."""
    total: reactive[int | None] = reactive(None)
    """Out of how many (shown as `flagged N/total`)."""

    @dataclass
    class Changed(Message):
        slider: ThresholdSlider
        value: float

        @property
        def control(self) -> ThresholdSlider:
            return self.slider

    def __init__(
        self,
        label: str,
        *,
        minimum: float,
        maximum: float,
        step: float,
        value: float | None = None,
        coarse: int = 10,
        fmt: str = "{:.2f}",
        key: str = "",
        count_label: str = "flagged",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.label = label
        if not (math.isfinite(minimum) and math.isfinite(maximum)):
            raise ValueError(f"slider bounds must be finite, got {minimum}..{maximum}")
        self.minimum = float(minimum)
        self.maximum = float(max(maximum, minimum))
        self.step = float(step)
        self.coarse = coarse
        self.fmt = fmt
        self.key = key  # which model this slider belongs to (settings key)
        self.count_label = count_label  # what `flagged` counts ("flagged" chunks/days, novelty "alerts")
        self._track_x = LABEL_WIDTH + 1
        self._track_w = 10
        self._dragging = False
        self.set_reactive(ThresholdSlider.value, self._clamp(minimum if value is None else value))

    def _clamp(self, v: float) -> float:
        if not math.isfinite(v):
            v = self.minimum
        v = min(self.maximum, max(self.minimum, v))
        if self.step > 0:
            v = self.minimum + round((v - self.minimum) / self.step) * self.step
            v = min(self.maximum, max(self.minimum, v))
        return round(v, 12)

    def validate_value(self, v: float) -> float:
        return self._clamp(float(v))

    def watch_value(self, old: float, new: float) -> None:
        if old != new:
            self.post_message(self.Changed(self, new))

    def set_range(self, minimum: float, maximum: float, step: float | None = None) -> None:
        """Change the bounds (e.g. when new MSEs arrive) without emitting Changed unless value moves.
        Non-finite bounds (a NaN MSE of an incomplete day) are ignored."""
        if not (math.isfinite(minimum) and math.isfinite(maximum)):
            return
        if step is not None and not (math.isfinite(step) and step > 0):
            step = None
        self.minimum, self.maximum = float(minimum), float(max(maximum, minimum))
        if step is not None:
            self.step = float(step)
        self.value = self._clamp(self.value)
        self.refresh()

    def action_step(self, n: int) -> None:
        self.value = self.value + n * self.step

    def action_jump(self, end: int) -> None:
        self.value = self.maximum if end else self.minimum

    # -- mouse -----------------------------------------------------------------------------------
    def _value_at(self, x: int) -> float:
        frac = (x - self._track_x) / max(1, self._track_w - 1)
        return self.minimum + min(1.0, max(0.0, frac)) * (self.maximum - self.minimum)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self._track_x <= event.x < self._track_x + self._track_w:
            self.focus()
            self._dragging = True
            self.capture_mouse()
            self.value = self._value_at(event.x)
            event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.value = self._value_at(event.x)
            event.stop()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
            event.stop()

    # -- render ----------------------------------------------------------------------------------
    def render(self) -> Text:
        width = self.size.width or 60
        value_s = self.fmt.format(self.value)
        tail = f" {value_s:>8}"
        if self.flagged is not None:
            tail += f"  {self.count_label} {self.flagged}"
            tail += f"/{self.total}" if self.total is not None else ""
        label = self.label[:LABEL_WIDTH].ljust(LABEL_WIDTH)
        self._track_x = LABEL_WIDTH + 1
        self._track_w = max(5, width - LABEL_WIDTH - 1 - len(tail) - 2)
        span = self.maximum - self.minimum
        frac = 0.0 if span <= 0 else (self.value - self.minimum) / span
        knob = round(frac * (self._track_w - 1))
        style = self.get_component_rich_style
        text = Text(no_wrap=True, overflow="crop")
        text.append(label, style("slider--label"))
        text.append(" ")
        text.append("━" * knob, style("slider--fill"))
        text.append("●", style("slider--knob"))
        text.append("─" * (self._track_w - knob - 1), style("slider--track"))
        text.append(tail)
        return text
