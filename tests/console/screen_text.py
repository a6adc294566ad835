"""Plain-text dump of what a running app shows (for assertions on the rendered screen)."""

from __future__ import annotations

from textual.app import App


def screen_text(app: App) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
