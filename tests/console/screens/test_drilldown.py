"""Alert → the chunk's messages → one packet's dissection, on a real capture (nDPI's mqtt.pcap).

The message table is what tshark itself extracts from the capture (the engine's retained chunk table
has this shape); the console must show every row, keyed by frame, and open the frame's dissection.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from textual.widgets import DataTable

from spear_tui.console.screens.chunk import ChunkScreen
from spear_tui.console.screens.packet import PacketScreen
from spear_tui.console.settings import Settings
from spear_tui.events import Alert

from ..harness import ScriptedEngine, chunk_events, make_app, screen_text, settle

PCAP = Path(__file__).parents[2] / "data" / "real" / "mqtt" / "ndpi_mqtt.pcap"
FIELDS = ["frame.number", "frame.time_epoch", "ip.src", "ip.dst", "mqtt.msgtype", "mqtt.len", "mqtt.clientid"]


def tshark_messages() -> pl.DataFrame:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed (apt-get install tshark)")
    args = [
        "tshark",
        "-r",
        str(PCAP),
        "-Y",
        "mqtt",
        "-T",
        "fields",
        "-E",
        "occurrence=f",
        "-E",
        "header=y",
        "-E",
        "separator=,",
        "-E",
        "quote=d",
    ]
    for f in FIELDS:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, check=True).stdout
    df = pl.read_csv(io.BytesIO(out), infer_schema_length=0)
    return df.select(
        pl.col("frame.number").cast(pl.Int64).alias("frame"),
        pl.col("frame.time_epoch").cast(pl.Float64).alias("time"),
        pl.col("ip.src").alias("src"),
        pl.col("ip.dst").alias("dst"),
        pl.col("mqtt.msgtype").cast(pl.Int32).alias("msgtype"),
        pl.col("mqtt.len").cast(pl.Int32).alias("length"),
        pl.col("mqtt.clientid").alias("clientid"),
    )


async def test_alert_to_messages_to_packet(settings: Settings) -> None:
    df = tshark_messages()
    assert df.height >= 8
    chunks = chunk_events("mqtt", [1.0] * 6)
    alert = Alert(
        "mqtt",
        "novelty",
        float(df["time"][0]),
        float(df["time"][-1]),
        int(df["frame"][0]),
        int(df["frame"][-1]),
        1.0,
        0.5,
        "new client",
        ("192.168.0.1",),
        source=str(PCAP),
    )
    asked: list[Alert] = []

    def messages_for(a: Alert) -> pl.DataFrame:
        asked.append(a)
        return df

    eng = ScriptedEngine([[*chunks, alert]], messages_for=messages_for)
    app = make_app(eng, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("5")
        await pilot.press("enter")  # the incident's alerts
        assert type(app.screen).__name__ == "IncidentAlertsScreen"
        await pilot.pause()
        await pilot.press("enter")  # the alert's messages
        assert isinstance(app.screen, ChunkScreen)
        table = app.screen.query_one("#chunk-messages", DataTable)
        for _ in range(100):
            if table.row_count:
                break
            await pilot.pause(0.05)
        assert asked == [dataclasses.replace(alert, id=1, detectors=("novelty",))]
        assert table.row_count == df.height
        assert [c.label.plain for c in table.columns.values()] == df.columns
        assert [table.get_row_at(i)[0].plain for i in range(df.height)] == [str(f) for f in df["frame"]]
        assert "cbaabcbabacbbbbbaaaaab" in await screen_text(app, pilot)  # the real CONNECT's client id
        await pilot.press("down", "enter")
        assert isinstance(app.screen, PacketScreen)
        assert app.screen.frame == int(df["frame"][1])
        body = app.screen.query_one("#packet-body")
        for _ in range(200):
            if "dissecting" not in str(body.render()):
                break
            await pilot.pause(0.05)
        shown_text = str(body.render())
        try:
            import spear_tui.capture.dissect  # noqa: F401
        except ImportError:
            assert "packet dissection is not available" in shown_text
        else:
            # independent check: the lines tshark -V prints for this frame's MQTT message are all shown
            verbose = subprocess.run(
                ["tshark", "-r", str(PCAP), "-Y", f"frame.number=={int(df['frame'][1])}", "-V"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            wanted = [ln.strip() for ln in verbose.splitlines() if "Message Type:" in ln or "Topic:" in ln]
            assert len(wanted) >= 2
            for line in wanted:
                assert line in shown_text
            assert "\nMQTT" in shown_text  # the layer title
        await pilot.press("escape")
        assert isinstance(app.screen, ChunkScreen)
        await pilot.press("escape")
        assert type(app.screen).__name__ == "IncidentAlertsScreen"
        await pilot.press("escape")
        assert type(app.screen).__name__ == "IncidentsScreen"


async def test_evicted_messages_say_so(settings: Settings) -> None:
    chunks = chunk_events("mqtt", [1.0] * 6)
    alert = Alert("mqtt", "lstm", 0, 1, 1, 500, 1.0, 0.5, "loss peak")
    eng = ScriptedEngine([[*chunks, alert]], messages_for=lambda a: None)
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        await pilot.press("5", "enter")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert "no longer retained" in await screen_text(app, pilot)
