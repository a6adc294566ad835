"""Incidents: one row per incident (the engine's grouping of alerts), its headline reason always visible
in the detail lines under the table; Enter opens its alerts, then a chunk's messages, then a packet."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from spear_tui.console.messages import AcceptRequested
from spear_tui.console.screens.base import StateScreen
from spear_tui.console.text import inert
from spear_tui.console.widgets.incident_list import FILTERS, ORDERS, SEVERITIES, IncidentList
from spear_tui.events import Alert, Incident

HELP = "Enter: its alerts  n/p: next/prev  o: order  f: detectors  s: severity  a: accept  e: export"


def detail(inc: Incident | None) -> Text:
    """Frames, alert count and actors, then the headline reason (wrapped: it is what a user acts on)."""
    if inc is None:
        return Text("no incident yet", style="dim")
    text = Text()
    text.append(f"{inc.protocol} #{inc.id} ", style="bold")
    text.append(f"frames {inc.first_frame}-{inc.last_frame}, {len(inc.alerts)} alert(s)")
    if len(inc.reasons) > 1:
        text.append(f", {len(inc.reasons)} reasons")
    text.append("\n")
    text.append_text(inert(inc.reasons[0] if inc.reasons else "", max_len=400))
    return text


def as_alert(inc: Incident) -> Alert:
    """The incident's whole frame window as one alert, for evidence export."""
    return Alert(
        protocol=inc.protocol, detector="+".join(inc.detectors), start=inc.start, end=inc.end,
        first_frame=inc.first_frame, last_frame=inc.last_frame, score=0.0, threshold=0.0,
        reason=inc.reasons[0] if inc.reasons else "", talkers=inc.actors, severity=inc.severity,
        file=inc.file, source=inc.source, detectors=inc.detectors,
    )  # fmt: skip


class IncidentsScreen(StateScreen):
    BINDINGS = [
        Binding("e", "export", "Export evidence", show=False),
        Binding("f", "cycle_filter", "Detector filter", show=False),
        Binding("s", "cycle_severity", "Severity filter", show=False),
        Binding("o", "cycle_order", "Order", show=False),
        Binding("a", "accept", "Accept as normal", show=False),
    ]
    DEFAULT_CSS = """
    IncidentsScreen #incidents-help { height: 1; color: $foreground-muted; }
    IncidentsScreen #incident-detail { height: 4; background: $boost; padding: 0 1; }
    """

    def compose_body(self) -> ComposeResult:
        yield Static(id="incidents-help")
        yield IncidentList(id="incidents")
        yield Static(id="incident-detail")

    def on_mount(self) -> None:
        table = self.query_one(IncidentList)
        table.detector_filter = self.spear.alert_filter
        table.lowest_severity = self.spear.severity_filter
        table.order = self.spear.incident_order
        self._update_head()

    @property
    def table(self) -> IncidentList:
        return self.query_one(IncidentList)

    def _update_head(self) -> None:
        """Filters and order first (so they survive truncation at 80 columns), then the keys."""
        table = self.table
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"{table.row_count} incident(s) ", style="bold")
        head.append(f"{table.order} first")
        if table.detector_filter != "all":
            head.append("  detectors ")
            head.append(table.detector_filter, style="bold reverse")
        if table.lowest_severity != "low":
            head.append("  severity ")
            head.append(f"{table.lowest_severity}+", style="bold reverse")
        head.append("   " + HELP)
        self.query_one("#incidents-help", Static).update(head)
        self.query_one("#incident-detail", Static).update(detail(table.selected_incident()))

    def _show(self) -> None:
        was_empty = self.table.row_count == 0
        self.table.show(self.spear.state.incidents())
        if was_empty and self.table.row_count:
            self.table.focus()
        self._update_head()

    def update_body(self, changed: set[str]) -> None:
        if changed & {"alerts", "all"}:
            self._show()

    def on_data_table_row_highlighted(self, event: IncidentList.RowHighlighted) -> None:
        self.query_one("#incident-detail", Static).update(detail(self.table.incident_at(event.cursor_row)))

    def action_cycle_filter(self) -> None:
        """f: all -> lstm -> novelty -> both (LSTM and novelty agree) -> all; kept when the screen is left."""
        mode = FILTERS[(FILTERS.index(self.table.detector_filter) + 1) % len(FILTERS)]
        self.table.detector_filter = self.spear.alert_filter = mode
        self._show()

    def action_cycle_severity(self) -> None:
        """s: every severity -> medium and high -> high only -> every severity."""
        lowest = SEVERITIES[(SEVERITIES.index(self.table.lowest_severity) + 1) % len(SEVERITIES)]
        self.table.lowest_severity = self.spear.severity_filter = lowest
        self._show()

    def action_cycle_order(self) -> None:
        """o: newest first <-> worst first."""
        order = ORDERS[(ORDERS.index(self.table.order) + 1) % len(ORDERS)]
        self.table.order = self.spear.incident_order = order
        self._show()

    def _selected(self) -> Incident | None:
        inc = self.table.selected_incident()
        if inc is None:
            self.notify("no incident selected", markup=False)
        return inc

    def jump(self, direction: int) -> None:
        """n/p: move to the next/previous incident and focus the list."""
        table = self.table
        table.focus()
        if table.row_count:
            table.move_cursor(row=min(table.row_count - 1, max(0, table.cursor_row + direction)))

    def on_data_table_row_selected(self, event: IncidentList.RowSelected) -> None:
        inc = self.table.incident_at(event.cursor_row)
        if inc is not None:
            from spear_tui.console.screens.incident_alerts import IncidentAlertsScreen

            self.app.push_screen(IncidentAlertsScreen(inc))

    def action_accept(self) -> None:
        """a: accept every alert of the incident that has something to accept (novelty tuples)."""
        inc = self._selected()
        if inc is None:
            return
        acceptable = [a for a in self.spear.state.alerts_of(inc) if a.accept]
        if not acceptable:
            self.notify("this incident has nothing to accept (only novelty alerts about something new)")
            return
        for a in acceptable:
            self.post_message(AcceptRequested(a))

    def action_export(self) -> None:
        """e: export the incident's frames (pcapng) and messages (CSV)."""
        inc = self._selected()
        if inc is None:
            return
        from spear_tui.console.screens.export_dialog import ExportDialog

        self.app.push_screen(ExportDialog(as_alert(inc)))
