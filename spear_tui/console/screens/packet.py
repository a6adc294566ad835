"""Drill-down, step 2: one packet's full dissection by tshark (via pyshark, in a worker thread).

pyshark runs its own asyncio loop, so it is only ever called from the worker, never the UI loop; every
line of the dissection is packet content and is rendered inert.
"""

from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from spear_tui.console.screens.base import StateScreen
from spear_tui.console.text import inert
from spear_tui.errors import UserError


def render_dissection(lines: list[tuple[int, str]]) -> Text:
    out = Text(no_wrap=True, overflow="crop")
    for i, (depth, line) in enumerate(lines):
        if i:
            out.append("\n")
        out.append("  " * max(0, int(depth)))
        out.append_text(inert(line, style="bold" if depth == 0 else ""))
    return out


class PacketScreen(StateScreen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]
    DEFAULT_CSS = """
    PacketScreen #packet-head { height: 1; background: $boost; }
    PacketScreen #packet-scroll { height: 1fr; }
    """

    def __init__(self, path: str, frame: int) -> None:
        super().__init__()
        self.path = path
        self.frame = frame

    def compose_body(self) -> ComposeResult:
        head = Text(f"frame {self.frame} of ")
        head.append_text(inert(self.path or "(unknown source)"))
        yield Static(head, id="packet-head")
        with VerticalScroll(id="packet-scroll"):
            yield Static("dissecting…", id="packet-body")

    def on_mount(self) -> None:
        self.query_one("#packet-scroll").focus()
        self.run_worker(self._dissect, thread=True, exit_on_error=False, name="dissect")

    def _dissect(self) -> None:
        if not self.path or not os.path.isfile(self.path):
            self.app.call_from_thread(
                self._show_text, "no capture file to read this frame from (live source?)"
            )
            return
        try:
            from spear_tui.capture.dissect import dissect_frame
        except ImportError:
            self.app.call_from_thread(self._show_text, "packet dissection is not available in this build")
            return
        engine = self.spear.engine
        decode_as = engine.decode_as if engine is not None else ()
        try:
            lines = dissect_frame(self.path, self.frame, tuple(decode_as))
        except UserError as exc:
            self.app.call_from_thread(self._show_text, str(exc))
            return
        self.app.call_from_thread(self._show_lines, lines)

    def _show_text(self, message: str) -> None:
        self.query_one("#packet-body", Static).update(inert(message))

    def _show_lines(self, lines: list[tuple[int, str]]) -> None:
        self.query_one("#packet-body", Static).update(render_dissection(lines))
        titles = [i for i, (depth, _) in enumerate(lines) if depth == 0]
        if titles:  # open on the last layer (the MQTT/Modbus/BACnet message), not on Ethernet
            self.call_after_refresh(self.query_one("#packet-scroll").scroll_to, y=titles[-1], animate=False)
