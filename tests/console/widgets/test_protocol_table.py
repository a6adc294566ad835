"""Diffed updates touch only changed cells; rows are bounded, filtered and sorted."""

from __future__ import annotations

from textual.app import App, ComposeResult

from spear_tui.console.widgets.protocol_table import ProtocolTable

COLS = ["client", "messages", "bytes"]


class Host(App):
    def compose(self) -> ComposeResult:
        yield ProtocolTable(max_rows=3, id="t")


def rows(**kw: tuple[int, int]) -> dict[str, tuple]:
    return {k: (k, *v) for k, v in kw.items()}


def shown(t: ProtocolTable) -> list[str]:
    return [t.coordinate_to_cell_key((i, 0)).row_key.value for i in range(t.row_count)]


async def test_diff_bound_sort_filter() -> None:
    app = Host()
    async with app.run_test(size=(80, 10)) as pilot:
        t = app.query_one(ProtocolTable)
        data = rows(a=(10, 100), b=(30, 50), c=(20, 70), d=(5, 900))
        t.update_rows(COLS, data)
        await pilot.pause()
        assert shown(t) == ["b", "c", "a"]  # top 3 by messages, descending; d dropped by the bound
        # one changed cell -> exactly one cell update, no rebuild
        data["a"] = ("a", 10, 101)
        assert t.update_rows(COLS, data) == 1
        assert t.get_cell("a", "bytes").plain == "101"
        assert t.update_rows(COLS, data) == 0
        # a row overtakes: re-sorted, and the bound keeps the top 3
        data["d"] = ("d", 40, 900)
        t.update_rows(COLS, data)
        assert shown(t) == ["d", "b", "c"]
        t.filter_text = "A"  # case-insensitive, on keys and cells
        t.update_rows(COLS, data)
        assert shown(t) == ["a"]
        t.filter_text = ""
        t.sort_column = 2
        t.update_rows(COLS, data)
        t.resort()
        assert shown(t) == ["d", "a", "c"]  # by bytes (900, 101, 70), descending, top 3
        t.reverse_sort()
        assert shown(t) == ["c", "a", "d"]  # the shown rows flip at once
        t.update_rows(COLS, data)
        assert shown(t) == ["b", "c", "a"]  # and the next update re-selects the bottom 3


async def test_hostile_cells_literal() -> None:
    app = Host()
    async with app.run_test(size=(80, 10)) as pilot:
        t = app.query_one(ProtocolTable)
        t.update_rows(COLS, {"x": ("[bold red]x[/]\x1b]8;;http://x\x07", 1, 2)})
        await pilot.pause()
        cell = t.get_cell("x", "client")
        assert cell.plain == "[bold red]x[/]\\x1b]8;;http://x\\x07"
