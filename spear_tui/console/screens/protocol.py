"""Protocol views (MQTT clients/topics, Modbus units x function codes, BACnet devices/services):
the latest summary snapshot of one protocol as a diffed, sortable, filterable table.

The MQTT client table gets one console-side column, `flagged %`: the share of the currently flagged
LSTM chunks that name the client among their top talkers, recomputed when chunks arrive or a slider
re-flags (so it follows the slider)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from spear_tui.console.screens.base import StateScreen
from spear_tui.console.summary_views import View, labelled_types, views_from_summary
from spear_tui.console.text import inert
from spear_tui.console.widgets.protocol_table import ProtocolTable, fmt_cell

TITLES = {"mqtt": "MQTT", "modbus": "Modbus/TCP", "bacnet": "BACnet/IP"}
DEFAULT_VIEWS = {"mqtt": "client_activity", "modbus": "unit_functions", "bacnet": "services"}
SHARE_VIEW, SHARE_COLUMN = "client_activity", "flagged %"
FIRST_TOTALS = ("flagged chunks", "writes", "exceptions", "errors", "messages")  # the line is cut at 80 cols


def with_flagged_share(view: View, share: dict[str, float]) -> View:
    """Insert the `flagged %` column (percent of flagged chunks naming the row's client id) after the
    message count, so it stays on screen at 80 columns."""
    columns, rows = view
    at = 2 if len(columns) >= 2 else len(columns)
    pct = {k: round(100.0 * share.get(str(vals[0]), 0.0), 1) for k, vals in rows.items()}
    return [*columns[:at], SHARE_COLUMN, *columns[at:]], {
        k: (*vals[:at], pct[k], *vals[at:]) for k, vals in rows.items()
    }


class ProtocolScreen(StateScreen):
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("r", "reverse", "Reverse", show=False),
        Binding("v", "next_view", "View"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]
    DEFAULT_CSS = """
    ProtocolScreen #proto-head { height: auto; max-height: 2; background: $boost; }
    ProtocolScreen #proto-filter { display: none; height: 3; }
    ProtocolScreen #proto-filter.-shown { display: block; }
    ProtocolScreen #proto-empty { color: $foreground-muted; height: 1fr; }
    """

    def __init__(self, protocol: str) -> None:
        super().__init__(name=protocol)
        self.protocol = protocol
        self.view = ""
        self.views: dict[str, View] = {}
        self.totals: dict[str, object] = {}

    def compose_body(self) -> ComposeResult:
        yield Static(id="proto-head")
        yield Input(placeholder="filter rows (Enter keeps, Esc clears)", id="proto-filter")
        yield Static(
            f"no {TITLES.get(self.protocol, self.protocol)} traffic summarised yet", id="proto-empty"
        )
        yield ProtocolTable(id="proto-table")

    def on_mount(self) -> None:
        self.query_one(ProtocolTable).focus()

    def update_body(self, changed: set[str]) -> None:
        watch = {"summary", "all", "chunks"} if self.protocol == "mqtt" else {"summary", "all"}
        if not changed & watch:
            return
        state = self.spear.state
        summary = state.summaries.get(self.protocol)
        self.views, self.totals = views_from_summary(summary)
        if (types := labelled_types(self.protocol, summary)) is not None:
            self.views["types"] = types
        if SHARE_VIEW in self.views and self.protocol == "mqtt":
            share, flagged = state.flagged_share(self.protocol)
            self.views[SHARE_VIEW] = with_flagged_share(self.views[SHARE_VIEW], share)
            self.totals["flagged chunks"] = flagged
        if self.view not in self.views:
            preferred = DEFAULT_VIEWS.get(self.protocol, "")
            self.view = preferred if preferred in self.views else next(iter(self.views), "")
        self._show_view()

    def _show_view(self) -> None:
        table = self.query_one(ProtocolTable)
        has = bool(self.view)
        self.query_one("#proto-empty").display = not has
        table.display = has
        if has:
            columns, rows = self.views[self.view]
            table.update_rows(columns, rows)
        self._update_head()

    def _update_head(self) -> None:
        table = self.query_one(ProtocolTable)
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(TITLES.get(self.protocol, self.protocol), style="bold")
        if self.view:
            head.append("  view ")
            head.append_text(inert(self.view))
            head.append(f" ({list(self.views).index(self.view) + 1}/{len(self.views)}, v: next)")
            if table.columns_shown:
                arrow = "↓" if table.sort_reverse else "↑"
                head.append(f"  sort {table.columns_shown[table.sort_column]} {arrow}")
            head.append(f"  rows {table.row_count}")
        if table.filter_text:
            head.append("  filter ")
            head.append_text(inert(table.filter_text, style="reverse"))
        if self.totals:
            head.append("\n")
            order = sorted(self.totals, key=lambda k: FIRST_TOTALS.index(k) if k in FIRST_TOTALS else 99)
            for i, (k, v) in enumerate((k, self.totals[k]) for k in order):
                head.append("  " if i else "")
                head.append_text(inert(k))
                head.append(" ")
                head.append_text(fmt_cell(v))
        self.query_one("#proto-head", Static).update(head)

    def action_filter(self) -> None:
        box = self.query_one("#proto-filter", Input)
        box.add_class("-shown")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one(ProtocolTable).filter_text = event.value
        self._show_view()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.remove_class("-shown")
        self.query_one(ProtocolTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#proto-filter", Input)
        box.value = ""
        box.remove_class("-shown")
        self.query_one(ProtocolTable).filter_text = ""
        self.query_one(ProtocolTable).focus()
        self._show_view()

    def action_sort(self) -> None:
        self.query_one(ProtocolTable).cycle_sort()
        self._update_head()

    def action_reverse(self) -> None:
        self.query_one(ProtocolTable).reverse_sort()
        self._update_head()

    def action_next_view(self) -> None:
        if self.views:
            names = list(self.views)
            self.view = names[(names.index(self.view) + 1) % len(names)] if self.view in names else names[0]
            self._show_view()
