"""The poller reads the simulator over a real loopback socket (pymodbus server and client, free port).

The simulator's clock is driven by the test where exact row-by-row checks are needed, so the checks do
not depend on machine load; one test runs on the real clock. Expected values come from the CSV text read
with the csv module, not from the code under test.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spear_tui.meter.days import to_days
from spear_tui.meter.files import read_meter_file
from spear_tui.meter.poller import MeterPoller, PollError
from spear_tui.meter.registers import load_map
from spear_tui.meter.sim import SIM_CLOCK_ADDRESS, MeterSimulator

ROOT = Path(__file__).resolve().parents[2]
CSV = ROOT / "sample_captures" / "meter" / "office_2025.csv"
COLUMNS = {
    "active_power": "active_power_kw",
    "reactive_power": "reactive_power_kvar",
    "apparent_power": "apparent_power_kva",
    "voltage_l1": "voltage_l1_v",
    "voltage_l2": "voltage_l2_v",
    "voltage_l3": "voltage_l3_v",
    "current_l1": "current_l1_a",
    "current_l2": "current_l2_a",
    "current_l3": "current_l3_a",
}


def csv_rows(first_date: str, last_date: str) -> list[dict]:
    """Rows of the sample CSV between two local dates (inclusive), parsed with the csv module."""
    out = []
    with CSV.open() as fh:
        for row in csv.DictReader(fh):
            if first_date <= row["time"][:10] <= last_date:
                row["epoch"] = dt.datetime.fromisoformat(row["time"]).timestamp()
                out.append(row)
    return out


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def series():
    return read_meter_file(CSV, tz="Europe/Athens")


async def _start(series, regmap, clock=None, speed=1.0, start=None):
    kwargs = {"clock": clock} if clock else {}
    sim = MeterSimulator(series, regmap, speed=speed, start=start, **kwargs)
    server, port = await sim.start_server("127.0.0.1", 0)
    return sim, server, port


@pytest.mark.parametrize("map_name", ["sdm630", "generic"])
async def test_poller_reads_the_simulator_row_by_row(series, map_name: str) -> None:
    regmap = load_map(map_name)
    tolerance = {
        r.measurement: (1e-6, 0.0) if r.type == "f32" else (0.0, r.scale / 2 + 1e-9) for r in regmap.registers
    }
    rows = csv_rows("2025-06-04", "2025-06-04")[52:60]  # around the 45-minute gap at 14:00 local
    clock = FakeClock()
    start = dt.datetime.fromtimestamp(rows[0]["epoch"], dt.UTC)
    sim, server, port = await _start(series, regmap, clock, start=start)
    try:
        async with MeterPoller("127.0.0.1", port, regmap, clock_address=SIM_CLOCK_ADDRESS) as poller:
            for row in rows:
                clock.now = row["epoch"] - rows[0]["epoch"] + 60  # one minute into the row's interval
                sample = await poller.read()
                assert sample.time.timestamp() == row["epoch"]
                for name, column in COLUMNS.items():
                    if name in regmap.measurements:
                        rel, abs_ = tolerance[name]
                        assert sample.values[name] == pytest.approx(float(row[column]), rel=rel, abs=abs_), (
                            name
                        )
                extra = set(regmap.measurements) - set(
                    COLUMNS
                )  # not in the file: NaN (floats) or 0 (integers)
                assert all(np.isnan(sample.values[m]) or sample.values[m] == 0 for m in extra)
            # 14:15 local is inside the gap (rows 14:00..14:45 missing): the meter answers with an exception
            gap = dt.datetime(2025, 6, 4, 14, 15, tzinfo=dt.timezone(dt.timedelta(hours=3))).timestamp()
            clock.now = gap - rows[0]["epoch"]
            with pytest.raises(PollError, match="exception 11"):
                await poller.read()
            assert poller.stats.failures == 1 and poller.stats.errors == {"exception 11": 1}
    finally:
        await server.shutdown()
    assert sim.refused == 1


async def test_a_day_fills_from_live_polling(series) -> None:
    regmap = load_map("sdm630")
    clock = FakeClock()
    sim, server, port = await _start(series, regmap, clock)  # starts at the file's first row
    batch = to_days(series)  # the series carries tz=Europe/Athens
    completed = []
    try:
        async with MeterPoller(
            "127.0.0.1", port, regmap, clock_address=SIM_CLOCK_ADDRESS, tz="Europe/Athens"
        ) as poller:
            for i in range(97):  # all 96 quarter-hours of 1 January and the first of 2 January
                clock.now = i * 900 + 1
                completed += poller.add(await poller.read())
    finally:
        await server.shutdown()
    assert [d.date for d in completed] == [dt.date(2025, 1, 1)]
    day = completed[0]
    assert day.complete and day.gaps == 0
    for j, name in enumerate(batch.measurements):
        k = list(day.measurements).index(name)
        np.testing.assert_allclose(day.values[:, k], batch.values[0, :, j], rtol=1e-6)


async def test_real_clock_polling_sees_rows_in_order(series) -> None:
    regmap = load_map("generic")
    sim, server, port = await _start(series, regmap, speed=9000.0)  # a 15-minute row every 0.1 s
    rows = {r["epoch"]: r for r in csv_rows("2025-01-01", "2025-01-20")}  # room for a stalled machine
    samples = []
    try:
        async with MeterPoller(
            "127.0.0.1", port, regmap, clock_address=SIM_CLOCK_ADDRESS, interval=0.05
        ) as poller:
            await poller.run(on_sample=samples.append, polls=12)
    finally:
        await server.shutdown()
    assert len(samples) >= 10  # a failed poll is counted, not fatal; on loopback there should be ~none
    stamps = [s.time.timestamp() for s in samples]
    assert stamps == sorted(stamps) and len(set(stamps)) >= 2
    for s in samples:
        row = rows[s.time.timestamp()]
        assert s.values["voltage_l1"] == pytest.approx(float(row["voltage_l1_v"]), abs=0.051)
        assert s.values["active_power"] == pytest.approx(float(row["active_power_kw"]), abs=0.0006)


def test_meter_sim_command_serves_until_interrupted(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spear_tui",
            "meter-sim",
            str(CSV),
            "--port",
            "0",
            "--speed",
            "60",
            "--tz",
            "Europe/Athens",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"on 127\.0\.0\.1:(\d+);", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        port = int(match.group(1))

        async def poll_once():
            async with MeterPoller(
                "127.0.0.1", port, load_map("sdm630"), clock_address=SIM_CLOCK_ADDRESS
            ) as poller:
                return await poller.read()

        sample = asyncio.run(poll_once())
        assert sample.time == dt.datetime(2024, 12, 31, 22, 0, tzinfo=dt.UTC)
        assert sample.values["active_power"] == pytest.approx(7.88)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopped after" in out and "Traceback" not in err


def test_meter_sim_bad_input_is_one_line(tmp_path: Path) -> None:
    for args, message in (
        ([str(tmp_path / "missing.csv")], "meter file not found"),
        ([str(CSV), "--map", "nope"], "no register map"),
        ([str(CSV), "--speed", "0"], "speed must be positive"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "spear_tui", "meter-sim", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [
            f"spear-tui: error: {proc.stderr.split('error: ')[1].strip()}"
        ]
        assert message in proc.stderr


async def test_poll_in_thread_feeds_callbacks_until_stopped(series) -> None:
    import threading

    from spear_tui.meter.poller import poll_in_thread

    regmap = load_map("sdm630")
    sim, server, port = await _start(series, regmap, speed=9000.0)
    samples: list = []
    stop = threading.Event()
    try:
        thread = poll_in_thread(
            lambda: MeterPoller("127.0.0.1", port, regmap, clock_address=SIM_CLOCK_ADDRESS, interval=0.02),
            stop,
            on_sample=samples.append,
        )
        for _ in range(200):  # the server runs on this loop, so yield to it while the thread polls
            if len(samples) >= 5:
                break
            await asyncio.sleep(0.02)
        stop.set()
        for _ in range(100):
            if not thread.is_alive():
                break
            await asyncio.sleep(0.02)
    finally:
        await server.shutdown()
    assert not thread.is_alive()
    assert len(samples) >= 5
    assert all(s.values["voltage_l1"] > 200 for s in samples)
