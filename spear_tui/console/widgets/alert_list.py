"""The alerts of one incident: time, detector, severity, score vs threshold, frame range, talkers.

Shown under an incident (`IncidentAlertsScreen`): a short, fixed list, rebuilt when the incident grows.
Talkers and reasons come from the packets, so they are rendered with `inert`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from spear_tui.console.text import inert
from spear_tui.console.widgets.loss_panel import fmt_score
from spear_tui.detect.lstm.views import is_lstm
from spear_tui.events import Alert

COLUMNS = ("time", "detector", "sev", "score/thr", "frames", "talkers")
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": ""}


def fmt_time(t: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(t)) if t == t else "—"


def score_text(a: Alert) -> Text:
    """Score against threshold where both mean something; a rule alert's count is not a loss."""
    if is_lstm(a.detector):  # any LSTM view: loss against threshold
        return Text(f"{fmt_score(a.score)}/{fmt_score(a.threshold)}")
    if a.threshold > 0:
        return Text(f"{a.score:g}/{a.threshold:g}")
    return Text("rule")


def alert_row(a: Alert) -> tuple[Text, ...]:
    talkers = Text(", ").join(inert(t, max_len=40) for t in a.talkers[:3])
    return (
        Text(fmt_time(a.start)),
        Text(a.detector + (f" #{a.chunk}" if a.chunk >= 0 else "")),
        Text(a.severity, style=SEVERITY_STYLE.get(a.severity, "")),
        score_text(a),
        Text(f"{a.first_frame}-{a.last_frame}"),
        talkers,
    )


class AlertList(DataTable):
    """A fixed list of alerts; `alert_at(row)` is the Alert behind a row."""

    DEFAULT_CSS = """
    AlertList { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.alerts: list[Alert] = []

    def on_mount(self) -> None:
        for c in COLUMNS:
            self.add_column(c, key=c)

    def show(self, alerts: Sequence[Alert]) -> None:
        """Show `alerts` (in time order); the cursor stays on the same row number."""
        if list(alerts) == self.alerts:
            return
        row = self.cursor_row
        self.clear()
        self.alerts = list(alerts)
        for i, a in enumerate(self.alerts):
            self.add_row(*alert_row(a), key=str(i))
        if self.alerts:
            self.move_cursor(row=min(max(row, 0), len(self.alerts) - 1), animate=False)

    def alert_at(self, row: int) -> Alert | None:
        return self.alerts[row] if 0 <= row < len(self.alerts) else None

    def selected_alert(self) -> Alert | None:
        return self.alert_at(self.cursor_row)
