"""One incident's alerts, each with its reason under the table; Enter opens the chunk's messages."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from spear_tui.console.messages import AcceptRequested
from spear_tui.console.screens.base import StateScreen
from spear_tui.console.text import inert
from spear_tui.console.widgets.alert_list import AlertList
from spear_tui.events import Alert, Incident


def detail(alert: Alert | None) -> Text:
    if alert is None:
        return Text("the alerts of this incident are no longer held (the console keeps the latest)")
    return inert(alert.reason, max_len=400)


class IncidentAlertsScreen(StateScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "export", "Export evidence", show=False),
        Binding("a", "accept", "Accept as normal", show=False),
    ]
    DEFAULT_CSS = """
    IncidentAlertsScreen #incident-head { height: 1; background: $boost; }
    IncidentAlertsScreen #alert-detail { height: 4; background: $boost; padding: 0 1; }
    """

    def __init__(self, incident: Incident) -> None:
        super().__init__()
        self.incident = incident

    def compose_body(self) -> ComposeResult:
        yield Static(id="incident-head")
        yield AlertList(id="incident-alerts")
        yield Static(id="alert-detail")

    def _current(self) -> Incident:
        """The incident as it is now (it may have grown, or merged into another, since it was opened)."""
        inc = self.incident
        for other in self.spear.state.incidents():
            same = other.id == inc.id or inc.id in other.absorbed
            # ids are renumbered when a slider re-groups a protocol: the frames must overlap too
            if same and other.protocol == inc.protocol and other.file == inc.file and (
                other.first_frame <= inc.last_frame and inc.first_frame <= other.last_frame
            ):
                return other
        return inc

    def update_body(self, changed: set[str]) -> None:
        if not changed & {"alerts", "all"}:
            return
        self.incident = inc = self._current()
        table = self.query_one(AlertList)
        table.show(self.spear.state.alerts_of(inc))
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"{inc.protocol} incident #{inc.id}: ", style="bold")
        head.append(f"{len(inc.alerts)} alert(s), {'+'.join(inc.detectors)}, {inc.severity}   ")
        head.append("Enter: messages  e: export  a: accept  Esc: back", style="dim")
        self.query_one("#incident-head", Static).update(head)
        self.query_one("#alert-detail", Static).update(detail(table.selected_alert()))
        table.focus()

    def on_data_table_row_highlighted(self, event: AlertList.RowHighlighted) -> None:
        self.query_one("#alert-detail", Static).update(
            detail(self.query_one(AlertList).alert_at(event.cursor_row))
        )

    def _selected(self) -> Alert | None:
        alert = self.query_one(AlertList).selected_alert()
        if alert is None:
            self.notify("no alert selected", markup=False)
        return alert

    def on_data_table_row_selected(self, event: AlertList.RowSelected) -> None:
        alert = self.query_one(AlertList).alert_at(event.cursor_row)
        if alert is not None:
            from spear_tui.console.screens.chunk import ChunkScreen

            self.app.push_screen(ChunkScreen(alert))

    def action_accept(self) -> None:
        """a: accept the selected alert as normal (its tuples join the baseline; recorded in the site)."""
        alert = self._selected()
        if alert is not None:
            self.post_message(AcceptRequested(alert))

    def action_export(self) -> None:
        """e: export the selected alert's frames (pcapng) and messages (CSV)."""
        alert = self._selected()
        if alert is not None:
            from spear_tui.console.screens.export_dialog import ExportDialog

            self.app.push_screen(ExportDialog(alert))
