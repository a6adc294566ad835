"""Alerts: every alert with score vs threshold, range and talkers; Enter drills into its chunk."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from spear_tui.console.screens.base import StateScreen
from spear_tui.console.widgets.alert_list import AlertList


class AlertsScreen(StateScreen):
    BINDINGS = [Binding("e", "export", "Export evidence")]
    DEFAULT_CSS = """
    AlertsScreen #alerts-help { height: 1; color: $foreground-muted; }
    """

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Enter: the chunk's messages   n/p: next/previous alert   e: export evidence",
            id="alerts-help",
        )
        yield AlertList(id="alerts")

    def update_body(self, changed: set[str]) -> None:
        if changed & {"alerts", "all"}:
            table = self.query_one(AlertList)
            was_empty = table.row_count == 0
            table.sync(self.spear.state.alerts, self.spear.state.alerts_total)
            if was_empty and table.row_count:
                table.focus()

    def jump(self, direction: int) -> None:
        """n/p: move to the next/previous alert (wrapping at neither end) and focus the list."""
        table = self.query_one(AlertList)
        table.focus()
        if table.row_count:
            row = min(table.row_count - 1, max(0, table.cursor_row + direction))
            table.move_cursor(row=row)

    def on_data_table_row_selected(self, event: AlertList.RowSelected) -> None:
        alert = self.query_one(AlertList).alert_at(event.cursor_row)
        if alert is not None:
            from spear_tui.console.screens.chunk import ChunkScreen

            self.app.push_screen(ChunkScreen(alert))

    def action_export(self) -> None:
        """e: export the selected alert's frames (pcapng) and messages (CSV)."""
        table = self.query_one(AlertList)
        alert = table.alert_at(table.cursor_row) if table.row_count else None
        if alert is None:
            self.notify("no alert selected", markup=False)
            return
        from spear_tui.console.screens.export_dialog import ExportDialog

        self.app.push_screen(ExportDialog(alert))
