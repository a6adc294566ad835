"""Snapshot tests at 80x24 and 120x40 (pytest-textual-snapshot). Snapshots were reviewed by eye when
accepted (`pytest tests/console/test_snapshots.py --snapshot-update`); the events are fixed and the clock
is frozen, so any change in the picture is a change in the console."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from spear_tui.console.app import SpearApp
from spear_tui.console.settings import Settings
from spear_tui.events import DayScored, MessagesSeen, SourceProgress, SummaryUpdated

from .harness import FixedClock, ScriptedEngine, alert_for, chunk_events, peak_series, settle, tables_measured

SIZES = [(80, 24), (120, 40)]


def scenario() -> list[list]:
    events: list = []
    for i, (proto, peak) in enumerate([("mqtt", 40), ("modbus", 70), ("bacnet", 55)]):
        scores = peak_series(90, peak, seed=i) * (1 + i)
        chunks = chunk_events(proto, scores, warmup=10, flagged_at=(peak,), threshold=0.12 * (1 + i))
        events += chunks
        events += [MessagesSeen(proto, 500, c.start, c.end) for c in chunks]
        events.append(alert_for(chunks[peak], talkers=("192.168.1.20", "[bold]sensor-7[/]")))
        if proto == "mqtt":  # MQTT's second model, the rhythm view: its own series, panel and slider
            rhythm = peak_series(90, 25, seed=7) * 0.8
            events += [
                dataclasses.replace(c, detector="rhythm")
                for c in chunk_events(proto, rhythm, warmup=10, flagged_at=(25,), threshold=0.1)
            ]
        if proto == "mqtt":  # a novelty alert on the same chunk: one incident, two detectors agreeing
            events.append(
                dataclasses.replace(
                    alert_for(chunks[peak], talkers=("192.168.1.20", "broker")),
                    detector="novelty", severity="high", score=38.0, threshold=22.0,
                    reason="38 MQTT CONNECT messages in 1 window(s) of 10 s (peak 38 per window; threshold "
                    "22; learned peak 7) from 192.168.1.20 with 31 client ids never seen before",
                )
            )
    mse = np.abs(np.random.default_rng(3).normal(0.01, 0.004, 30))
    mse[[7, 21]] = [0.05, 0.04]
    events += [
        DayScored("active_power", f"2024-03-{d + 1:02d}", float(m), m > 0.03, True, 0.03)
        for d, m in enumerate(mse)
    ]
    events.append(
        SummaryUpdated(
            "mqtt",
            {
                "messages": 45000,
                "clients": [
                    {"client": "thermostat-1", "messages": 30000, "bytes": 1200000},
                    {"client": "door\x1b[2J", "messages": 15000, "bytes": 300000},
                ],
            },
        )
    )
    events.append(SourceProgress("normal.pcapng", position=900.0, total=1800.0))
    return [events]


def day(measurement: str, date: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 2 * np.pi, 96)
    measured = 1.0 + np.sin(t - 1.5) + (0.8 * (t > 5.3))
    return measured, 1.0 + np.sin(t - 1.5)


def app_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str = "packets"
) -> tuple[SpearApp, ScriptedEngine]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    from spear_tui.detect.novelty import RULES

    eng = ScriptedEngine(
        scenario(),
        day_series=day,
        get_rules=lambda p, d: set(RULES[p]) - {"new_topic"} if d == "novelty" else None,
        set_rules=lambda p, d, rules: None,
    )
    app = SpearApp(lambda: eng, source="normal.pcapng", kind=kind, settings=Settings(), clock=FixedClock())
    return app, eng


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "keys",
    [(), ("5",), ("5", "enter"), ("2",), ("6",), ("question_mark",), ("7",)],
    ids=["overview", "incidents", "incident-alerts", "mqtt", "meter", "help", "detectors"],
)
def test_snapshot(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size, keys) -> None:
    app, eng = app_for(tmp_path, monkeypatch)

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(app, pilot, eng)
        for k in keys:
            await pilot.press(k)
        await pilot.pause(0.2)
        app.drain()
        await tables_measured(app, pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)
