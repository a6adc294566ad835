"""The alerts table: time, protocol, detector(s), score vs threshold, frame range, top talkers.

Rows are appended incrementally (keyed by the alert's position in the state's list), never rebuilt.
Talkers come from the packets, so they are rendered with `inert`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable

from spear_tui.console.text import inert
from spear_tui.console.widgets.loss_panel import fmt_score
from spear_tui.events import Alert

COLUMNS = ("time", "proto", "detector", "score/thr", "frames", "talkers")
FILTERS = ("all", "lstm", "novelty", "both")  # "both": alerts the LSTM and the novelty rules agree on


def detector_names(a: Alert, later: Iterable[str] = ()) -> set[str]:
    """Every detector that agrees on `a`: the engine's names plus any that agreed after it was emitted
    (`ConsoleState.later_agree`: an LSTM alert raised before the novelty alert it overlaps)."""
    return {a.detector, *a.detectors, *later}


def passes(a: Alert, mode: str, later: Iterable[str] = ()) -> bool:
    """Does alert `a` pass detector filter `mode` (one of FILTERS)?"""
    if mode == "all":
        return True
    names = detector_names(a, later)
    if mode == "both":
        return {"lstm", "novelty"} <= names
    return mode in names


SEVERITIES = ("low", "medium", "high")  # the severity filter: the lowest severity shown


def severe_enough(a: Alert, lowest: str) -> bool:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return rank.get(a.severity, 1) >= rank.get(lowest, 0)


def fmt_time(t: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(t)) if t == t else "—"


def names_text(a: Alert, later: Iterable[str] = ()) -> Text:
    sev = {"high": "bold red", "medium": "yellow", "low": ""}.get(a.severity, "")
    return Text("+".join(sorted(detector_names(a, later))), style=sev)


def alert_row(a: Alert, later: Iterable[str] = ()) -> tuple[Text, ...]:
    ratio = f"{fmt_score(a.score)}/{fmt_score(a.threshold)}"
    talkers = Text(", ").join(inert(t, max_len=40) for t in a.talkers[:3])
    return (
        Text(fmt_time(a.start)),
        Text(a.protocol),
        names_text(a, later),
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
        self.lowest_severity = "low"
        self.later: Mapping[int, set[str]] = {}  # running number -> detectors that agreed afterwards
        self._names_shown: dict[int, frozenset[str]] = {}

    def on_mount(self) -> None:
        for c in COLUMNS:
            self.add_column(c, key=c)

    def sync(
        self, alerts: Sequence[Alert], total: int, later: Mapping[int, set[str]] | None = None
    ) -> int:
        """Append the alerts not shown yet: the last `total - seen` of `alerts` (a bounded store whose
        running count is `total`); drop the oldest rows past MAX_ROWS. `later` (running number ->
        detectors that agreed after the alert was emitted) renames shown rows and can let a hidden
        alert pass the filter."""
        if later is not None:
            self.later = later
        if self._agreement_changed(alerts, total):
            return self.set_filter(self.detector_filter, alerts, total)
        following = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        new = min(total - self.seen, len(alerts))
        items = list(alerts)[len(alerts) - new :] if new > 0 else []
        first = total - len(items)
        mode = self.detector_filter
        later = self.later
        lowest = self.lowest_severity
        items = [
            (first + i, a)
            for i, a in enumerate(items)
            if passes(a, mode, later.get(first + i, ())) and severe_enough(a, lowest)
        ]
        for n, a in items:
            names = self.later.get(n, set())
            self.add_row(*alert_row(a, names), key=str(n))
            self.alerts[n] = a
            self._names_shown[n] = frozenset(names)
        self.seen = total
        removed = 0
        while len(self.alerts) > self.MAX_ROWS:
            oldest = next(iter(self.alerts))
            self.remove_row(str(oldest))
            del self.alerts[oldest]
            self._names_shown.pop(oldest, None)
            removed += 1
        if items and following:  # a cursor on the newest alert follows new ones ...
            self.move_cursor(row=self.row_count - 1, animate=False)
        elif removed:  # ... elsewhere it stays on the same alert while old rows drop off the top
            self.move_cursor(row=max(0, self.cursor_row - removed), animate=False)
        return len(items)

    def _agreement_changed(self, alerts: Sequence[Alert], total: int) -> bool:
        """Update the detector cell of shown rows whose agreement grew; True if, under a filter, an
        alert must now be shown or hidden (the caller rebuilds)."""
        oldest = total - len(alerts)
        rebuild = False
        for n, names in self.later.items():
            if n < oldest or n >= self.seen:
                continue
            if n in self.alerts:
                if self._names_shown.get(n) != frozenset(names):
                    self._names_shown[n] = frozenset(names)
                    self.update_cell(str(n), "detector", names_text(self.alerts[n], names))
            elif (
                self.detector_filter != "all"
                and passes(alerts[n - oldest], self.detector_filter, names)
                and severe_enough(alerts[n - oldest], self.lowest_severity)
            ):
                rebuild = True
        return rebuild

    def set_filter(self, mode: str, alerts: Sequence[Alert], total: int) -> int:
        """Show only alerts passing detector filter `mode`: rebuild from the state's bounded list."""
        if mode not in FILTERS:
            raise ValueError(f"unknown detector filter {mode!r}")
        self.detector_filter = mode
        self.clear()
        self.alerts.clear()
        self._names_shown.clear()
        self.seen = total - len(alerts)
        return self.sync(alerts, total)

    def set_severity(self, lowest: str, alerts: Sequence[Alert], total: int) -> int:
        """Show only alerts of severity `lowest` or higher (one of SEVERITIES)."""
        if lowest not in SEVERITIES:
            raise ValueError(f"unknown severity {lowest!r}")
        self.lowest_severity = lowest
        return self.set_filter(self.detector_filter, alerts, total)

    def alert_at(self, row: int) -> Alert | None:
        if row < 0 or row >= self.row_count:
            return None
        key = self.coordinate_to_cell_key((row, 0)).row_key.value
        return self.alerts.get(int(key)) if key is not None else None

    def selected_alert(self) -> Alert | None:
        return self.alert_at(self.cursor_row)
