"""Several files merge in time order with their provenance; the replay pacer follows recorded timing."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from conftest import REAL

from capture.collect import collect
from spear_tui.capture.source import ReplayPacer, open_capture_files

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
BURST = Path(__file__).parent / "data" / "mqtt_burst.pcapng"
RULE = "tcp.port==43253,mqtt"


def test_overlapping_files_interleave_by_time_and_keep_original_frame_numbers(tmp_path) -> None:
    copy = tmp_path / "copy.pcapng"
    shutil.copy(BURST, copy)
    single = collect(open_capture_files([BURST], decode_as=[RULE], batch_messages=50))
    both = collect(open_capture_files([BURST, copy], decode_as=[RULE], batch_messages=50))
    merged = both.tables["mqtt"]
    assert merged["time"].is_sorted()
    assert both.batches > 2
    for index in (0, 1):
        part = merged.filter(pl.col("file") == index).drop("file")
        assert part.equals(single.tables["mqtt"].drop("file"))
    # Interleaved, not concatenated: file 1 starts long before file 0 ends.
    first_of_1 = merged["file"].to_list().index(1)
    assert first_of_1 < merged.height // 2


def test_disjoint_files_follow_each_other_in_time() -> None:
    files = [REAL / "modbus/iti_modbus_test.pcap", REAL / "mqtt/ndpi_mqtt.pcap"]  # 2017, then 2022
    source = open_capture_files(files)
    got = collect(source)
    assert source.files == [str(f) for f in files]
    assert got.tables["modbus"]["file"].unique().to_list() == [0]
    assert got.tables["mqtt"]["file"].unique().to_list() == [1]
    assert got.positions == sorted(got.positions)
    assert source.start_time < source.end_time


def _batches():
    return open_capture_files([BURST], decode_as=[RULE]).batches()


def test_max_speed_passes_batches_through() -> None:
    paced = list(ReplayPacer(_batches(), None))
    assert sum(b.messages for b in paced) == sum(b.messages for b in _batches())


def test_recorded_timing_splits_batches_and_takes_at_least_the_recorded_time() -> None:
    plain = list(_batches())
    times = pl.concat([b.tables["mqtt"] for b in plain])["time"]
    span = float(times.max() - times.min())
    assert span > 0.5
    speed = 2.0
    start = time.monotonic()
    paced = list(ReplayPacer(iter(plain), speed))
    elapsed = time.monotonic() - start
    assert sum(b.messages for b in paced) == sum(b.messages for b in plain)
    assert len(paced) > len(plain)  # split so that a replay looks live
    for b in paced:
        t = b.tables["mqtt"]["time"]
        assert float(t.max() - t.min()) <= 0.1 * speed + 1e-6
    assert elapsed >= 0.8 * span / speed  # a lower bound: pacing cannot finish early


def test_pause_holds_batches_until_resume() -> None:
    pacer = ReplayPacer(_batches(), 1000.0)
    pacer.pause()
    seen: list = []
    worker = threading.Thread(target=lambda: seen.extend(pacer))
    worker.start()
    time.sleep(0.5)
    assert seen == [] and pacer.paused
    pacer.resume()
    worker.join(timeout=30)
    assert not worker.is_alive() and seen


def test_stop_ends_a_paused_replay() -> None:
    pacer = ReplayPacer(_batches(), 1.0)
    pacer.pause()
    worker = threading.Thread(target=lambda: list(pacer))
    worker.start()
    pacer.stop()
    worker.join(timeout=10)
    assert not worker.is_alive()


def test_batches_hold_about_batch_messages_and_keep_frames_whole() -> None:
    got = list(open_capture_files([BURST], decode_as=[RULE], batch_messages=500).batches())
    tables = [b.tables["mqtt"] for b in got if "mqtt" in b.tables]
    biggest_frame = pl.concat(tables).group_by("frame").len()["len"].max()
    assert len(tables) > 5
    for t in tables:
        assert t.height <= 500 + biggest_frame
    frames = [set(t["frame"].to_list()) for t in tables]
    for a, b in zip(frames, frames[1:], strict=False):
        assert not a & b  # no frame's messages are split across batches
    assert [b.position for b in got] == sorted(b.position for b in got)
