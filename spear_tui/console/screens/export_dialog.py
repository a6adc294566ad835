"""Evidence export from the console (`e` on the alerts list or the drill-down): a small dialog.

The user confirms (or edits) an output path; the alert's frame window is cut from its source capture
into a pcapng (byte-for-byte, editcap) with its messages as CSV next to it, in a worker thread so the
UI never blocks. The result (or the one-line reason it failed) is shown in the dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from spear_tui.console.text import inert
from spear_tui.engines.contract import Engine
from spear_tui.errors import UserError
from spear_tui.events import Alert

if TYPE_CHECKING:
    from spear_tui.console.app import SpearApp


def default_output(alert: Alert) -> str:
    """`./evidence-<protocol>-<first>-<last>.pcapng`: the frame window names the alert uniquely."""
    return f"./evidence-{alert.protocol}-{alert.first_frame}-{alert.last_frame}.pcapng"


def export_for(engine: Engine, alert: Alert, out_pcapng: str) -> str:
    """Run the export (blocking; call from a worker). Returns the result line; raises UserError."""
    from spear_tui.evidence import export_evidence

    out = Path(out_pcapng).expanduser()
    if out.suffix.lower() not in (".pcapng", ".pcap"):
        out = out.with_name(out.name + ".pcapng")
    csv = out.with_suffix(".csv")
    ev = export_evidence(
        engine.source_path(alert), alert.first_frame, alert.last_frame, out,
        out_csv=csv, decode_as=engine.decode_as, file_index=alert.file,
    )  # fmt: skip
    return f"wrote {ev.frames} frames to {out} and {ev.messages} messages to {csv}"


class ExportDialog(ModalScreen[str | None]):
    """Enter exports, Escape closes; dismisses with the last result line (None if nothing exported)."""

    BINDINGS = [Binding("escape", "close", "Close")]
    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog > Vertical {
        width: 76; height: auto; max-width: 100%; border: round $accent; background: $surface; padding: 0 1;
    }
    ExportDialog #export-result { height: auto; min-height: 1; }
    """

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert
        self.result: str | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        a = self.alert
        head = Text(f"Export evidence: {a.protocol} frames {a.first_frame}-{a.last_frame}\n", style="bold")
        head.append("pcapng path (a .csv of the messages is written beside it); Enter: export, Esc: close")
        with Vertical():
            yield Static(head, id="export-head")
            yield Input(value=default_output(a), id="export-path")
            yield Static("", id="export-result")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.busy:
            return
        path = event.value.strip()
        if not path:
            self._show("give an output path", error=True)
            return
        self.busy = True
        self._show("exporting ...")
        engine = cast("SpearApp", self.app).engine
        self.run_worker(lambda: self._export(engine, path), thread=True, exit_on_error=False, name="export")

    def _export(self, engine: Engine | None, path: str) -> None:
        try:
            if engine is None:
                raise UserError("the engine has not started yet: nothing to export")
            line, error = export_for(engine, self.alert, path), False
        except UserError as exc:
            line, error = f"error: {exc}", True
        except OSError as exc:
            line, error = f"error: {exc.strerror or exc}", True
        self.app.call_from_thread(self._done, line, error)

    def _done(self, line: str, error: bool) -> None:
        self.busy = False
        if not error:
            self.result = line
        self._show(line, error=error)

    def _show(self, line: str, error: bool = False) -> None:
        text = inert(line, max_len=400)  # paths and tshark messages may carry anything
        text.no_wrap = False
        if error:
            text.stylize("bold red")
        self.query_one("#export-result", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(self.result)
