"""The alert list appends keyed rows, stays bounded, and follows new alerts only from the newest row."""

from __future__ import annotations

from collections import deque

from textual.app import App, ComposeResult

from spear_tui.console.widgets.alert_list import AlertList

from ..harness import alert_for, chunk_events


class Host(App):
    def compose(self) -> ComposeResult:
        yield AlertList(id="a")


async def test_follow_bound_and_keys() -> None:
    chunks = chunk_events("mqtt", [1.0] * 30)
    alerts = [alert_for(c) for c in chunks]
    app = Host()
    async with app.run_test(size=(100, 10)) as pilot:
        table = app.query_one(AlertList)
        table.MAX_ROWS = 8
        store: deque = deque(maxlen=5)  # a bounded store that already dropped older alerts
        store.extend(alerts[:3])
        assert table.sync(store, 3) == 3
        assert table.cursor_row == 2  # follows the newest
        store.extend(alerts[3:6])
        table.sync(store, 6)
        assert table.cursor_row == 5 and table.selected_alert() == alerts[5]
        await pilot.pause()
        table.move_cursor(row=1)
        await pilot.pause()
        store.extend(alerts[6:9])
        table.sync(store, 9)
        assert table.selected_alert() == alerts[1]  # the user's row stays put
        # 20 more arrive at once but the store keeps 5: only those 5 are added; the table keeps 8 rows
        store.extend(alerts[9:29])
        assert table.sync(store, 29) == 5
        assert table.row_count == 8
        assert [table.alert_at(i) for i in range(8)] == alerts[6:9] + alerts[24:29]
        await pilot.pause()


async def test_later_agreement_renames_and_unhides_under_a_filter() -> None:
    """An LSTM alert raised before an overlapping novelty alert: once the novelty alert arrives the LSTM
    row names both, and under the `both` filter it appears; a non-overlapping one stays hidden."""
    import dataclasses

    from spear_tui.console.state import ConsoleState

    chunks = chunk_events("mqtt", [1.0] * 3)
    lstm_a, lstm_b = alert_for(chunks[0]), alert_for(chunks[2])
    nov = dataclasses.replace(alert_for(chunks[0]), detector="novelty", detectors=("lstm", "novelty"),
                              start=chunks[0].start + 1, end=chunks[0].start + 2)
    state = ConsoleState()
    app = Host()
    async with app.run_test(size=(100, 10)) as pilot:
        table = app.query_one(AlertList)
        state.apply([lstm_a, lstm_b])
        table.set_filter("both", state.alerts, state.alerts_total)
        assert table.row_count == 0
        state.apply([nov])
        table.sync(state.alerts, state.alerts_total, state.later_agree)
        await pilot.pause()
        assert state.later_agree == {0: {"novelty"}}
        assert [table.alert_at(i) for i in range(table.row_count)] == [lstm_a, nov]
        assert [table.get_row_at(i)[2].plain for i in range(2)] == ["lstm+novelty"] * 2
        table.set_filter("all", state.alerts, state.alerts_total)
        assert [table.get_row_at(i)[2].plain for i in range(3)] == ["lstm+novelty", "lstm", "lstm+novelty"]
