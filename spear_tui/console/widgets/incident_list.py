"""The incidents table: one row per incident, newest first or worst first, filtered by detector/severity.

Rows are rebuilt only when the shown incidents change (an incident grows in place, or two merge); the
cursor stays on the same incident. Actors come from the packets, so they are rendered with `inert`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from spear_tui.console.text import inert
from spear_tui.console.widgets.alert_list import SEVERITY_STYLE, fmt_time
from spear_tui.detect.lstm.views import is_lstm
from spear_tui.events import Incident
from spear_tui.incidents import RANK

COLUMNS = ("time", "proto", "sev", "detectors", "alerts", "actors")
# "lstm": any LSTM view (MQTT's flow and rhythm views); "both": an LSTM view and the novelty rules agree
FILTERS = ("all", "lstm", "novelty", "both")
SEVERITIES = ("low", "medium", "high")  # the severity filter: the lowest severity shown
ORDERS = ("newest", "severity")


def passes(inc: Incident, mode: str) -> bool:
    """Does `inc` pass detector filter `mode` (one of FILTERS)?"""
    if mode == "all":
        return True
    lstm = any(is_lstm(d) for d in inc.detectors)
    if mode == "both":
        return lstm and "novelty" in inc.detectors
    if mode == "lstm":
        return lstm
    return mode in inc.detectors


def severe_enough(inc: Incident, lowest: str) -> bool:
    return RANK.get(inc.severity, 1) >= SEVERITIES.index(lowest)


def ordered(incidents: Sequence[Incident], order: str) -> list[Incident]:
    """Newest first, or worst first (then newest)."""
    if order == "severity":
        return sorted(incidents, key=lambda i: (-RANK.get(i.severity, 1), -i.start, i.protocol))
    return sorted(incidents, key=lambda i: (-i.start, i.protocol))


def incident_row(inc: Incident) -> tuple[Text, ...]:
    actors = Text(", ").join(inert(a, max_len=30) for a in inc.actors[:3])
    if len(inc.actors) > 3:
        actors.append(f" +{len(inc.actors) - 3}")
    return (
        Text(fmt_time(inc.start)),
        Text(inc.protocol),
        Text(inc.severity, style=SEVERITY_STYLE.get(inc.severity, "")),
        Text("+".join(inc.detectors)),
        Text(str(len(inc.alerts)), justify="right"),
        actors,
    )


class IncidentList(DataTable):
    """`show(incidents)` filters, orders and (re)builds; `incident_at(row)` is the incident of a row."""

    DEFAULT_CSS = """
    IncidentList { height: 1fr; }
    """

    MAX_ROWS = 2_000

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.shown: list[Incident] = []
        self.detector_filter = "all"
        self.lowest_severity = "low"
        self.order = "newest"

    def on_mount(self) -> None:
        for c in COLUMNS:
            self.add_column(c, key=c)

    def show(self, incidents: Sequence[Incident]) -> int:
        """Show the incidents passing the filters, in the chosen order; returns how many are shown."""
        mode, lowest = self.detector_filter, self.lowest_severity
        rows = ordered([i for i in incidents if passes(i, mode) and severe_enough(i, lowest)], self.order)
        rows = rows[: self.MAX_ROWS]
        if rows == self.shown:
            return len(rows)
        current = self.selected_incident()
        follow = current is None or self.cursor_row == 0  # the cursor on the top row follows new ones
        self.clear()
        self.shown = rows
        for n, inc in enumerate(rows):
            self.add_row(*incident_row(inc), key=str(n))
        if rows:
            target = 0
            if not follow and current is not None:
                target = next(
                    (n for n, i in enumerate(rows) if (i.protocol, i.id) == (current.protocol, current.id)), 0
                )
            self.move_cursor(row=target, animate=False)
        return len(rows)

    def incident_at(self, row: int) -> Incident | None:
        return self.shown[row] if 0 <= row < len(self.shown) else None

    def selected_incident(self) -> Incident | None:
        return self.incident_at(self.cursor_row) if self.row_count else None
