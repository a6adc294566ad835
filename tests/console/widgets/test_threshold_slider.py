"""The slider through real key presses and mouse events in a headless app."""

from __future__ import annotations

from textual.app import App, ComposeResult

from spear_tui.console.widgets.threshold_slider import ThresholdSlider


class Host(App):
    def __init__(self) -> None:
        super().__init__()
        self.changes: list[float] = []

    def compose(self) -> ComposeResult:
        yield ThresholdSlider("k", minimum=0.5, maximum=10.0, step=0.1, value=3.0, id="s")

    def on_threshold_slider_changed(self, event: ThresholdSlider.Changed) -> None:
        self.changes.append(event.value)


async def test_keys_fine_coarse_and_ends() -> None:
    app = Host()
    async with app.run_test(size=(60, 3)) as pilot:
        s = app.query_one(ThresholdSlider)
        s.focus()
        await pilot.press("right")
        assert abs(s.value - 3.1) < 1e-9
        await pilot.press("left", "left")
        assert abs(s.value - 2.9) < 1e-9
        await pilot.press("shift+right")
        assert abs(s.value - 3.9) < 1e-9
        await pilot.press("shift+left", "shift+left")
        assert abs(s.value - 1.9) < 1e-9
        await pilot.press("end")
        assert s.value == 10.0
        await pilot.press("right")
        assert s.value == 10.0  # clamped
        await pilot.press("home", "shift+left")
        assert s.value == 0.5
        await pilot.pause()
        assert app.changes[0] == 3.1 and app.changes[-1] == 0.5
        assert len(app.changes) == 8  # one per actual move (the clamped presses send nothing)


async def test_mouse_click_and_drag() -> None:
    app = Host()
    async with app.run_test(size=(60, 3)) as pilot:
        s = app.query_one(ThresholdSlider)
        await pilot.pause()
        x0, w = s._track_x, s._track_w
        await pilot.click(ThresholdSlider, offset=(x0 + w - 1, 0))
        assert s.value == 10.0
        await pilot.click(ThresholdSlider, offset=(x0, 0))
        assert s.value == 0.5
        mid = x0 + (w - 1) // 2
        await pilot.mouse_down(ThresholdSlider, offset=(x0, 0))
        await pilot.hover(ThresholdSlider, offset=(mid, 0))
        await pilot.mouse_up(ThresholdSlider, offset=(mid, 0))
        expected = 0.5 + ((mid - x0) / (w - 1)) * 9.5
        assert abs(s.value - expected) <= 0.051
        assert s.has_focus


async def test_renders_value_and_flagged_count() -> None:
    app = Host()
    async with app.run_test(size=(60, 3)) as pilot:
        s = app.query_one(ThresholdSlider)
        s.flagged, s.total = 4, 120
        await pilot.pause()
        line = s.render().plain
        assert "3.00" in line and "flagged 4/120" in line and "●" in line
        assert len(line) <= 60
