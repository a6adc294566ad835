"""Alerts: every alert with score vs threshold, range and talkers; Enter drills into its chunk."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from spear_tui.console.screens.base import StateScreen
from spear_tui.console.widgets.alert_list import FILTERS, SEVERITIES, AlertList

HELP = (
    "Enter: messages of the alert's chunk   n/p: next/previous alert   e: export   f: detector filter   "
    "s: severity filter   a: accept as normal"
)


class AlertsScreen(StateScreen):
    BINDINGS = [
        Binding("e", "export", "Export evidence", show=False),
        Binding("f", "cycle_filter", "Detector filter"),
        Binding("s", "cycle_severity", "Severity filter", show=False),
        Binding("a", "accept", "Accept as normal", show=False),
    ]
    DEFAULT_CSS = """
    AlertsScreen #alerts-help { height: 1; color: $foreground-muted; }
    """

    def compose_body(self) -> ComposeResult:
        yield Static(id="alerts-help")
        yield AlertList(id="alerts")

    def on_mount(self) -> None:
        mode = getattr(self.app, "alert_filter", "all")
        self.query_one(AlertList).detector_filter = mode
        self.query_one(AlertList).lowest_severity = getattr(self.app, "severity_filter", "low")
        self._update_head()

    def _update_head(self) -> None:
        """The detector filter first (so it survives truncation at 80 columns), then the keys."""
        table = self.query_one(AlertList)
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append("detector ")
        head.append(table.detector_filter, style="bold reverse" if table.detector_filter != "all" else "bold")
        if table.lowest_severity != "low":
            head.append("  severity ")
            head.append(f"{table.lowest_severity}+", style="bold reverse")
        if table.detector_filter != "all" or table.lowest_severity != "low":
            head.append(f" ({table.row_count} shown)")
        head.append("   " + HELP)
        self.query_one("#alerts-help", Static).update(head)

    def action_cycle_filter(self) -> None:
        """f: all -> lstm -> novelty -> both (LSTM and novelty agree) -> all."""
        table = self.query_one(AlertList)
        mode = FILTERS[(FILTERS.index(table.detector_filter) + 1) % len(FILTERS)]
        self.app.alert_filter = mode  # type: ignore[attr-defined]  # kept when the screen is left
        table.later = self.spear.state.later_agree
        table.set_filter(mode, self.spear.state.alerts, self.spear.state.alerts_total)
        self._update_head()

    def action_cycle_severity(self) -> None:
        """s: every severity -> medium and high -> high only -> every severity."""
        table = self.query_one(AlertList)
        lowest = SEVERITIES[(SEVERITIES.index(table.lowest_severity) + 1) % len(SEVERITIES)]
        self.app.severity_filter = lowest  # type: ignore[attr-defined]
        table.later = self.spear.state.later_agree
        table.set_severity(lowest, self.spear.state.alerts, self.spear.state.alerts_total)
        self._update_head()

    def _selected(self):
        """The alert under the cursor, or None (and the user is told)."""
        table = self.query_one(AlertList)
        alert = table.alert_at(table.cursor_row) if table.row_count else None
        if alert is None:
            self.notify("no alert selected", markup=False)
        return alert

    def action_accept(self) -> None:
        """a: accept the selected alert as normal (its tuples join the baseline; recorded in the site)."""
        alert = self._selected()
        if alert is None:
            return
        self.notify(self.spear.accept_alert(alert), markup=False)

    def update_body(self, changed: set[str]) -> None:
        if changed & {"alerts", "all"}:
            table = self.query_one(AlertList)
            was_empty = table.row_count == 0
            table.sync(self.spear.state.alerts, self.spear.state.alerts_total, self.spear.state.later_agree)
            if was_empty and table.row_count:
                table.focus()
            self._update_head()

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
        alert = self._selected()
        if alert is None:
            return
        from spear_tui.console.screens.export_dialog import ExportDialog

        self.app.push_screen(ExportDialog(alert))
