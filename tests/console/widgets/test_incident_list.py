"""The incident list: newest or worst first, filtered by detector and severity, the cursor stays on its
incident while incidents grow; the alert list of one incident."""

from __future__ import annotations

import dataclasses

from textual.app import App, ComposeResult

from spear_tui.console.widgets.alert_list import AlertList
from spear_tui.console.widgets.incident_list import IncidentList
from spear_tui.incidents import IncidentStage

from ..harness import alert_for, chunk_events


class Host(App):
    def compose(self) -> ComposeResult:
        yield IncidentList(id="i")
        yield AlertList(id="a")


def _incidents(alerts):
    stage = IncidentStage()
    stage(alerts)
    return stage.book.sorted()


async def test_order_filters_and_a_cursor_that_stays_on_its_incident() -> None:
    chunks = chunk_events("mqtt", [1.0] * 30)
    alerts = [alert_for(c) for c in chunks[0:20:5]]  # 40 s apart or more: each is its own incident
    alerts[1] = dataclasses.replace(alerts[1], severity="high", detector="novelty")
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(IncidentList)
        assert table.show(_incidents(alerts)) == 4
        assert [i.start for i in table.shown] == [a.start for a in alerts[::-1]]  # newest first
        table.order = "severity"
        table.show(_incidents(alerts))
        assert table.shown[0].severity == "high"
        table.order = "newest"
        table.detector_filter = "novelty"
        assert table.show(_incidents(alerts)) == 1
        table.detector_filter = "all"
        table.lowest_severity = "high"
        assert table.show(_incidents(alerts)) == 1
        table.lowest_severity = "low"
        table.show(_incidents(alerts))
        table.move_cursor(row=2)
        await pilot.pause()
        chosen = table.selected_incident()
        # a new incident arrives on top: the cursor stays on the incident it was on
        more = [*alerts, alert_for(chunks[25])]
        table.show(_incidents(more))
        assert table.row_count == 5 and table.selected_incident() == chosen
        # an alert adjacent to the chosen one joins it: the row grows, the cursor stays on it
        joined = dataclasses.replace(alerts[1], start=chosen.end + 1, end=chosen.end + 2, detector="lstm")
        table.show(_incidents([*more, joined]))
        now = table.selected_incident()
        assert now is not None and now.id == chosen.id and len(now.alerts) == 2
        assert now.detectors == ("lstm", "novelty")


async def test_alert_list_shows_one_incidents_alerts() -> None:
    chunks = chunk_events("modbus", [1.0] * 5)
    alerts = [alert_for(c) for c in chunks]
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(AlertList)
        table.show(alerts[:3])
        table.move_cursor(row=2)
        await pilot.pause()
        table.show(alerts)
        assert table.row_count == 5 and table.selected_alert() == alerts[2]
        assert table.alert_at(7) is None


def test_the_lstm_filter_means_any_lstm_view() -> None:
    """MQTT's rhythm view is an LSTM: its incidents pass the "lstm" filter, and "both" with novelty."""
    from spear_tui.console.widgets.incident_list import passes

    chunks = chunk_events("mqtt", [1.0] * 30)
    rhythm = dataclasses.replace(alert_for(chunks[0]), detector="rhythm", detectors=("rhythm",))
    nov = dataclasses.replace(alert_for(chunks[20]), detector="novelty", detectors=("novelty",))
    both = [dataclasses.replace(alert_for(chunks[20]), detector="rhythm", detectors=("rhythm",)), nov]
    (r,) = _incidents([rhythm])
    (n,) = _incidents([nov])
    (b,) = _incidents(both)
    assert passes(r, "lstm") and not passes(r, "novelty") and not passes(r, "both")
    assert not passes(n, "lstm") and passes(n, "novelty")
    assert passes(b, "both") and passes(b, "lstm") and passes(b, "novelty")
