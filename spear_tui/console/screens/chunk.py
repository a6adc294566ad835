"""Drill-down, step 1: the messages of one alert's chunk, from the engine's retained chunk tables.

The table is fetched in a worker thread (the engine may have to concatenate its ring buffer) and shown
with every packet-derived cell inert; message types are named next to their codes ("PUBLISH (3)",
`protocols/names.py`). Enter on a message opens its full dissection.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from spear_tui.console.screens.base import StateScreen
from spear_tui.console.text import inert
from spear_tui.console.widgets.loss_panel import fmt_score
from spear_tui.errors import UserError
from spear_tui.events import Alert
from spear_tui.protocols.names import message_type_label

MAX_ROWS = 5_000


def describe(alert: Alert) -> Text:
    text = Text(no_wrap=False)
    detectors = "+".join(alert.detectors) if alert.detectors else alert.detector
    text.append(f"{alert.protocol} {detectors} ", style="bold")
    text.append(f"score {fmt_score(alert.score)} vs threshold {fmt_score(alert.threshold)}  ")
    text.append(f"frames {alert.first_frame}-{alert.last_frame}  ")
    text.append(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(alert.start)))
    text.append("\n")
    text.append_text(inert(alert.reason, max_len=200))
    if alert.talkers:
        text.append("  talkers: ")
        text.append_text(Text(", ").join(inert(t, max_len=40) for t in alert.talkers[:5]))
    return text


class ChunkScreen(StateScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "export", "Export evidence", show=False),
    ]
    DEFAULT_CSS = """
    ChunkScreen #chunk-head { height: auto; max-height: 3; background: $boost; }
    ChunkScreen #chunk-messages { height: 1fr; }
    """

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert
        self.frames: list[int] = []

    def compose_body(self) -> ComposeResult:
        yield Static(describe(self.alert), id="chunk-head")
        yield DataTable(id="chunk-messages", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.loading = True
        self.run_worker(self._fetch, thread=True, exit_on_error=False, name="chunk")

    def _fetch(self) -> None:
        engine = self.spear.engine
        if engine is None or not engine.keeps_messages:
            self.app.call_from_thread(self._show_missing, "this engine keeps no message tables")
            return
        try:
            df = engine.messages_for(self.alert)
        except UserError as exc:  # a stored session whose source capture is gone or changed
            self.app.call_from_thread(self._show_missing, str(exc))
            return
        if df is None or df.height == 0:
            self.app.call_from_thread(self._show_missing, "these messages are no longer retained")
            return
        columns = list(df.columns)
        rows = df.head(MAX_ROWS).rows()
        self.app.call_from_thread(self._show, columns, rows, df.height)

    def _show_missing(self, why: str) -> None:
        table = self.query_one(DataTable)
        table.loading = False
        # first line: the head is at most 3 rows high and a long reason would push it out of view
        head = inert(f"({why})", style="bold")
        head.no_wrap = False
        self.query_one("#chunk-head", Static).update(head.append("\n").append_text(describe(self.alert)))

    def _show(self, columns: list[str], rows: list[tuple], total: int) -> None:
        table = self.query_one(DataTable)
        table.loading = False
        for c in columns:
            table.add_column(c, key=c)
        fi = columns.index("frame") if "frame" in columns else None
        ti = columns.index("time") if "time" in columns else None
        mi = columns.index("msgtype") if "msgtype" in columns else None
        pi = columns.index("protocol") if "protocol" in columns else None
        for row in rows:
            cells = []
            for i, v in enumerate(row):
                if i == ti and isinstance(v, float):
                    cells.append(
                        Text(time.strftime("%H:%M:%S", time.gmtime(v)) + f".{int(v % 1 * 1000):03d}")
                    )
                elif i == mi and (v is None or isinstance(v, int)):
                    proto = row[pi] if pi is not None and row[pi] else self.alert.protocol
                    cells.append(inert(message_type_label(str(proto), v), max_len=60))
                else:
                    cells.append(inert("" if v is None else v, max_len=60))
            table.add_row(*cells)
            self.frames.append(int(row[fi]) if fi is not None and row[fi] is not None else -1)
        if total > len(rows):
            self.notify(f"showing the first {len(rows):,} of {total:,} messages", markup=False)
        table.focus()

    def action_export(self) -> None:
        """e: export this alert's frames (pcapng) and messages (CSV)."""
        from spear_tui.console.screens.export_dialog import ExportDialog

        self.app.push_screen(ExportDialog(self.alert))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.frames) and self.frames[event.cursor_row] >= 0:
            from spear_tui.console.screens.packet import PacketScreen

            self.app.push_screen(PacketScreen(self.alert.source, self.frames[event.cursor_row]))
