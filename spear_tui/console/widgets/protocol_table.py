"""A keyed, diffed, bounded, sortable and filterable table for per-protocol summaries.

`update_rows(columns, rows)` takes the whole current view (key -> cell values) and touches only what
changed: new keys are added, vanished keys removed, and only cells whose value differs are updated, so
a 1 Hz refresh of a busy table costs a few cell updates instead of a rebuild. Rows are bounded to
`max_rows` (the top ones by the current sort). Every cell is packet-derived and rendered inert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from spear_tui.console.text import inert


def _sort_value(v: Any) -> tuple[int, Any]:
    if v is None:
        return (2, 0)
    if isinstance(v, bool | int | float):
        return (0, v)
    return (1, str(v))


def fmt_cell(v: Any) -> Text:
    if isinstance(v, float):
        return Text(f"{v:,.3g}" if abs(v) < 1e6 else f"{v:.3e}", justify="right")
    if isinstance(v, bool):
        return Text("yes" if v else "no")
    if isinstance(v, int):
        return Text(f"{v:,}", justify="right")
    if isinstance(v, list | tuple):
        return inert(", ".join(str(x) for x in v), max_len=60)
    return inert("" if v is None else v, max_len=60)


class ProtocolTable(DataTable):
    DEFAULT_CSS = """
    ProtocolTable { height: 1fr; }
    """

    def __init__(self, *, max_rows: int = 500, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.max_rows = max_rows
        self.columns_shown: tuple[str, ...] = ()
        self.values: dict[str, tuple] = {}  # row key -> raw values shown
        self.sort_column: int = 1
        self.sort_reverse = True
        self.filter_text = ""
        self._key_cells: dict[int, str] = {}  # id of each row's key-column cell -> row key
        self.updates = 0  # cell updates done by the last update_rows (for tests and benchmarks)

    def _ordered(self, rows: Mapping[str, Sequence[Any]]) -> list[tuple[str, tuple]]:
        """Rows passing the filter, in display order (values missing last either way), bounded."""
        needle = self.filter_text.lower()
        items = [
            (k, tuple(v))
            for k, v in rows.items()
            if not needle or needle in k.lower() or any(needle in str(x).lower() for x in v)
        ]
        col = self.sort_column

        def value(kv: tuple[str, tuple]) -> tuple[int, Any]:
            return _sort_value(kv[1][col] if col < len(kv[1]) else None)

        present = sorted((kv for kv in items if value(kv)[0] < 2), key=value, reverse=self.sort_reverse)
        present.sort(key=lambda kv: value(kv)[0])  # stable: numbers before strings, each group keeps order
        missing = [kv for kv in items if value(kv)[0] == 2]
        return (present + missing)[: self.max_rows]

    def update_rows(self, columns: Sequence[str], rows: Mapping[str, Sequence[Any]]) -> int:
        """Diff `rows` (first value = the key column) into the table; returns cells touched."""
        touched = 0
        if tuple(columns) != self.columns_shown:
            self.clear(columns=True)
            self.values.clear()
            self._key_cells.clear()
            self.columns_shown = tuple(columns)
            for c in columns:
                self.add_column(c, key=c)
            self.sort_column = min(self.sort_column, max(0, len(columns) - 1))
        visible = dict(self._ordered(rows))
        for key in [k for k in self.values if k not in visible]:
            cell = self.get_cell(key, self.columns_shown[0])
            self._key_cells.pop(id(cell), None)
            self.remove_row(key)
            del self.values[key]
            touched += 1
        order_changed = False
        for key, vals in visible.items():
            old = self.values.get(key)
            if old is None:
                cells = [fmt_cell(v) for v in vals]
                self._key_cells[id(cells[0])] = key
                self.add_row(*cells, key=key)
                order_changed = True
                touched += len(vals)
            elif old != vals:
                for col, (a, b) in enumerate(zip(old, vals, strict=False)):
                    if a != b:
                        self.update_cell(key, self.columns_shown[col], fmt_cell(b))
                        touched += 1
                order_changed = order_changed or old[self.sort_column] != vals[self.sort_column]
            self.values[key] = vals
        if order_changed:
            self.resort()
        self.updates = touched
        return touched

    def resort(self) -> None:
        """Order the shown rows as `_ordered` does (the DataTable's own sort can't see raw values)."""
        if not self.columns_shown or not self.row_count:
            return
        rank = {k: i for i, (k, _) in enumerate(self._ordered(self.values))}
        self.sort(key=lambda cells: rank.get(self._key_cells.get(id(cells[0]), ""), len(rank)))

    def cycle_sort(self) -> None:
        if self.columns_shown:
            self.sort_column = (self.sort_column + 1) % len(self.columns_shown)
            self.resort()

    def reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.resort()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        idx = event.column_index
        if idx == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        self.sort_column = idx
        self.resort()
