"""The alerts table: time, protocol, detector(s), score vs threshold, frame range, top talkers.

Rows are appended incrementally (keyed by the alert's position in the state's list), never rebuilt.
Talkers come from the packets, so they are rendered with `inert`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from spear_tui.console.text import inert
from spear_tui.console.widgets.loss_panel import fmt_score
from spear_tui.events import Alert

COLUMNS = ("time", "proto", "detector", "score/thr", "frames", "talkers")
FILTERS = ("all", "lstm", "novelty", "both")  # "both": alerts the LSTM and the novelty rules agree on


def detector_names(a: Alert) -> set[str]:
    return {a.detector, *a.detectors}


def passes(a: Alert, mode: str) -> bool:
    """Does alert `a` pass detector filter `mode` (one of FILTERS)?"""
    if mode == "all":
        return True
    names = detector_names(a)
    if mode == "both":
        return {"lstm", "novelty"} <= names
    return mode in names


def fmt_time(t: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(t)) if t == t else "—"


def alert_row(a: Alert) -> tuple[Text, ...]:
    detectors = "+".join(a.detectors) if a.detectors else a.detector
    sev = {"high": "bold red", "medium": "yellow", "low": ""}.get(a.severity, "")
    ratio = f"{fmt_score(a.score)}/{fmt_score(a.threshold)}"
    talkers = Text(", ").join(inert(t, max_len=40) for t in a.talkers[:3])
    return (
        Text(fmt_time(a.start)),
        Text(a.protocol),
        Text(detectors, style=sev),
        Text(ratio),
        Text(f"{a.first_frame}-{a.last_frame}"),
        talkers,
    )


class AlertList(DataTable):
    """Keyed, append-only list of alerts; `alerts[i]` is the Alert behind row key `str(i)`."""

    DEFAULT_CSS = """
    AlertList { height: 1fr; }
    """

    MAX_ROWS = 2_000

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.alerts: dict[int, Alert] = {}  # row key (running number) -> alert
        self.seen = 0
        self.detector_filter = "all"

    def on_mount(self) -> None:
        for c in COLUMNS:
            self.add_column(c, key=c)

    def sync(self, alerts: Sequence[Alert], total: int) -> int:
        """Append the alerts not shown yet: the last `total - seen` of `alerts` (a bounded store whose
        running count is `total`); drop the oldest rows past MAX_ROWS."""
        following = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        new = min(total - self.seen, len(alerts))
        items = list(alerts)[len(alerts) - new :] if new > 0 else []
        first = total - len(items)
        mode = self.detector_filter
        items = [(first + i, a) for i, a in enumerate(items) if passes(a, mode)]
        for n, a in items:
            self.add_row(*alert_row(a), key=str(n))
            self.alerts[n] = a
        self.seen = total
        removed = 0
        while len(self.alerts) > self.MAX_ROWS:
            oldest = next(iter(self.alerts))
            self.remove_row(str(oldest))
            del self.alerts[oldest]
            removed += 1
        if items and following:  # a cursor on the newest alert follows new ones ...
            self.move_cursor(row=self.row_count - 1, animate=False)
        elif removed:  # ... elsewhere it stays on the same alert while old rows drop off the top
            self.move_cursor(row=max(0, self.cursor_row - removed), animate=False)
        return len(items)

    def set_filter(self, mode: str, alerts: Sequence[Alert], total: int) -> int:
        """Show only alerts passing detector filter `mode`: rebuild from the state's bounded list."""
        if mode not in FILTERS:
            raise ValueError(f"unknown detector filter {mode!r}")
        self.detector_filter = mode
        self.clear()
        self.alerts.clear()
        self.seen = total - len(alerts)
        return self.sync(alerts, total)

    def alert_at(self, row: int) -> Alert | None:
        if row < 0 or row >= self.row_count:
            return None
        key = self.coordinate_to_cell_key((row, 0)).row_key.value
        return self.alerts.get(int(key)) if key is not None else None

    def selected_alert(self) -> Alert | None:
        return self.alert_at(self.cursor_row)
