"""Protocol view: a summary snapshot (real MQTT traffic, nDPI's mqtt.pcap) as a sortable, filterable,
diffed table, with hostile client ids shown literally."""

from __future__ import annotations

import polars as pl

from spear_tui.console.screens.protocol import ProtocolScreen
from spear_tui.console.settings import Settings
from spear_tui.console.widgets.protocol_table import ProtocolTable
from spear_tui.events import SummaryUpdated

from ..harness import ScriptedEngine, make_app, screen_text, settle
from .test_drilldown import PCAP, tshark_messages


def summary_from(df: pl.DataFrame) -> dict:
    hosts = (
        df.group_by("src")
        .agg(pl.len().alias("messages"), pl.col("length").sum().alias("bytes"))
        .sort("src")
        .to_dicts()
    )
    clients = df.filter(pl.col("clientid").is_not_null()).select("clientid", "src").to_dicts()
    return {"messages": df.height, "hosts": hosts, "clients": clients}


def shown(t: ProtocolTable) -> list[str]:
    return [t.coordinate_to_cell_key((i, 0)).row_key.value for i in range(t.row_count)]


async def test_views_sort_filter_and_diff(settings: Settings) -> None:
    df = tshark_messages()
    summary = summary_from(df)
    hostile = {"clientid": "[bold red]pwn[/]\x1b]8;;http://x\x07", "src": "10.9.9.9"}
    summary["clients"].append(hostile)
    eng = ScriptedEngine([[SummaryUpdated("mqtt", summary)]])
    app = make_app(eng, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, ProtocolScreen)
        table = app.screen.query_one(ProtocolTable)
        hosts = summary["hosts"]
        assert table.row_count == len(hosts)
        by_messages = sorted(hosts, key=lambda r: r["messages"], reverse=True)
        assert [table.get_cell(k, "messages").plain for k in shown(table)] == [
            f"{r['messages']:,}" for r in by_messages
        ]
        await pilot.press("s")  # sort by the next column (bytes)
        assert [int(table.get_cell(k, "bytes").plain.replace(",", "")) for k in shown(table)] == sorted(
            (r["bytes"] for r in hosts), reverse=True
        )
        await pilot.press("r")
        assert [int(table.get_cell(k, "bytes").plain.replace(",", "")) for k in shown(table)] == sorted(
            r["bytes"] for r in hosts
        )
        await pilot.press("slash", *"10.10", "enter")
        assert all("10.10" in k for k in shown(table)) and table.row_count >= 1
        assert table.has_focus
        await pilot.press("escape")
        assert table.row_count == len(hosts)
        # a new snapshot changes one cell: only that cell is updated
        first = hosts[0]["src"]
        changed = {**summary, "hosts": [dict(r) for r in hosts]}
        changed["hosts"][0]["messages"] += 1
        app.emit([SummaryUpdated("mqtt", changed)])
        app.drain()
        await pilot.pause()
        assert table.updates == 1
        assert table.get_cell(first, "messages").plain == f"{hosts[0]['messages'] + 1:,}"
        await pilot.press("v")  # next view: clients
        await pilot.pause()
        text = await screen_text(app, pilot)
        assert "cbaabcbabacbbbbbaaaaab" in text
        assert "[bold red]pwn[/]\\x1b]8;;http://x\\x07" in text
        assert "\x1b" not in text
        assert "messages" in text.splitlines()[2]  # totals line under the title


async def test_empty_view_says_so(settings: Settings) -> None:
    eng = ScriptedEngine()
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert "no Modbus/TCP traffic summarised yet" in await screen_text(app, pilot)


async def test_real_protocol_summary(settings: Settings) -> None:
    """The capture engineer's ProtocolSummary of a real capture, as the engine sends it: every view renders
    and the talkers view agrees with tshark's own per-source counts."""
    from spear_tui.capture.source import open_capture_files
    from spear_tui.capture.summary import ProtocolSummary

    df = tshark_messages()
    summary = ProtocolSummary("mqtt")
    for batch in open_capture_files([str(PCAP)]).batches():
        if "mqtt" in batch.tables:
            summary.update(batch.tables["mqtt"])
    snapshot = summary.to_json()
    eng = ScriptedEngine([[SummaryUpdated("mqtt", snapshot)]])
    app = make_app(eng, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("2")
        screen = app.screen
        assert isinstance(screen, ProtocolScreen)
        assert set(screen.views) >= {"talkers", "clients", "topics", "types"}
        screen.view = "talkers"
        screen._show_view()
        table = screen.query_one(ProtocolTable)
        sent = dict(df.group_by("src").len().iter_rows())
        for addr, n in sent.items():
            assert int(table.get_cell(addr, "sent").plain.replace(",", "")) == n
        text = await screen_text(app, pilot)
        assert f"messages {df.height}" in text
        assert "first_time 2022-01-24" in text  # epoch shown as a UTC time


async def test_types_view_names_each_code(settings: Settings) -> None:
    """The types view of a real capture's summary: one row per message-type code, its name next to the
    code ('PUBLISH (3)'), with the summary's count for that code."""
    from spear_tui.capture.source import open_capture_files
    from spear_tui.capture.summary import ProtocolSummary
    from spear_tui.protocols.mqtt import TYPE_NAMES

    tshark_messages()  # skips without tshark
    summary = ProtocolSummary("mqtt")
    for batch in open_capture_files([str(PCAP)]).batches():
        if "mqtt" in batch.tables:
            summary.update(batch.tables["mqtt"])
    snapshot = summary.to_json()
    codes = {int(c): n for c, n in snapshot["type_codes"].items()}
    assert len(codes) >= 3
    eng = ScriptedEngine([[SummaryUpdated("mqtt", snapshot)]])
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("2")
        screen = app.screen
        assert isinstance(screen, ProtocolScreen)
        screen.view = "types"
        screen._show_view()
        await pilot.pause()
        table = screen.query_one(ProtocolTable)
        want = {f"{TYPE_NAMES[c]} ({c})": n for c, n in codes.items()}
        assert sorted(shown(table)) == sorted(want)
        for label, n in want.items():
            assert int(table.get_cell(label, "count").plain.replace(",", "")) == n
        assert "PUBLISH (3)" in await screen_text(app, pilot)
