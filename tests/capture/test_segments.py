"""Big captures are read in segments, each by its own tshark: same messages, bounded tshark memory."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from capture.collect import collect
from spear_tui.capture.segments import Segment, file_segments, parallel_segment_frames, tshark_workers
from spear_tui.capture.source import open_capture_files

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

ROOT = Path(__file__).resolve().parents[2]
MULTI = Path(__file__).parent / "data" / "mqtt_multi_subscribe.pcapng"
RULE = "tcp.port==40357,mqtt"


def test_segment_ranges_cover_every_frame_once():
    assert file_segments(10, 10) == [None]
    segs = file_segments(25, 10)
    assert [(s.first, s.last) for s in segs[:2]] == [(1, 10), (11, 20)]
    assert segs[2].first == 21 and segs[2].last >= 25  # open-ended: capinfos' count may be short
    assert Segment(11, 20).offset == 10


@pytest.fixture(scope="module")
def normal_pcapng(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seg") / "normal.pcapng"
    path.write_bytes(gzip.decompress((ROOT / "sample_captures" / "normal.pcapng.gz").read_bytes()))
    return path


def _tables(path: Path, segment_frames: int | None, monkeypatch, decode_as=(), workers: int = 1):
    monkeypatch.setenv("SPEAR_TUI_TSHARK_WORKERS", str(workers))
    if segment_frames is None:
        monkeypatch.delenv("SPEAR_TUI_SEGMENT_FRAMES", raising=False)
    else:
        monkeypatch.setenv("SPEAR_TUI_SEGMENT_FRAMES", str(segment_frames))
    return collect(open_capture_files([path], decode_as=decode_as))


@pytest.mark.parametrize("workers", [1, 3])
def test_segmented_read_gives_the_same_messages_with_original_frame_numbers(
    normal_pcapng, monkeypatch, workers
):
    """One tshark after another, or three at once (handed on in file order): the same tables."""
    whole = _tables(normal_pcapng, None, monkeypatch)
    parts = _tables(normal_pcapng, 10_000, monkeypatch, workers=workers)  # 61k frames: 7 tshark runs
    assert set(whole.tables) == {"mqtt", "modbus", "bacnet"}
    for proto, table in whole.tables.items():
        assert parts.tables[proto].equals(table), proto
    assert parts.skipped == whole.skipped and parts.other_frames == whole.other_frames


def test_parallel_segments_split_big_files_evenly_and_leave_small_ones_whole():
    assert parallel_segment_frames(61_012, 5_772_185, 2, 500_000) == 500_000  # the normal sample: whole
    assert parallel_segment_frames(77_544, 8_799_200, 2, 500_000) == 38_772
    assert parallel_segment_frames(77_544, 8_799_200, 1, 500_000) == 500_000  # one worker: as before
    assert parallel_segment_frames(3_000_001, 10**9, 4, 500_000) == 500_000  # never above the memory cap
    assert len(file_segments(77_544, parallel_segment_frames(77_544, 8_799_200, 3, 500_000))) == 3


def test_workers_follow_the_environment_or_the_cores(monkeypatch):
    monkeypatch.setenv("SPEAR_TUI_TSHARK_WORKERS", "3")
    assert tshark_workers() == 3
    monkeypatch.setenv("SPEAR_TUI_TSHARK_WORKERS", "zero")
    assert tshark_workers() == min(8, os.cpu_count() or 1)


def test_exact_path_inside_a_segment_reports_frames_of_the_original_file(monkeypatch):
    """Frame 8 needs tshark's PDML (several SUBSCRIBEs in one segment); here it sits in the second
    5-frame segment, so both tshark runs of that segment must add the offset back."""
    whole = _tables(MULTI, None, monkeypatch, decode_as=[RULE])
    parts = _tables(MULTI, 5, monkeypatch, decode_as=[RULE])
    assert parts.tables["mqtt"].equals(whole.tables["mqtt"])
    assert parts.tables["mqtt"].filter(parts.tables["mqtt"]["frame"] == 8).height == 6


def _peak_tshark_mb(path: Path, segment_frames: int | None, monkeypatch) -> tuple[float, int]:
    """Highest VmHWM of any tshark this process starts while reading `path`, sampled every 20 ms."""
    peak, done = [0.0], threading.Event()

    def sample():
        while not done.is_set():
            for pid in _children_named("tshark"):
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            peak[0] = max(peak[0], int(line.split()[1]) / 1024)
                except OSError:
                    pass
            time.sleep(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        got = _tables(path, segment_frames, monkeypatch)
    finally:
        done.set()
        t.join()
    return peak[0], sum(t.height for t in got.tables.values())


def test_tshark_memory_stays_bounded_on_a_big_capture(normal_pcapng, tmp_path, monkeypatch):
    """8 copies of the normal day (490k frames): one tshark grows with every frame it has read; the
    segmented read keeps every tshark near the size of one 25k-frame segment."""
    big = tmp_path / "big.pcapng"
    subprocess.run(["mergecap", "-a", "-w", str(big), *[str(normal_pcapng)] * 8], check=True)
    whole_mb, whole_msgs = _peak_tshark_mb(big, None, monkeypatch)
    parts_mb, parts_msgs = _peak_tshark_mb(big, 25_000, monkeypatch)
    print(f"tshark peak: one run {whole_mb:.0f} MB, 25k-frame segments {parts_mb:.0f} MB; "
          f"messages {whole_msgs} / {parts_msgs}")
    assert whole_mb > 0 and parts_mb > 0
    assert parts_mb < 0.6 * whole_mb
    # The copies repeat the same TCP streams: one tshark takes copies 2-8 as retransmissions of copy 1,
    # a fresh one per segment does not. So the segmented read sees at least as many messages.
    assert parts_msgs >= whole_msgs > 0


@pytest.mark.parametrize("workers", [1, 2])
def test_closing_mid_file_ends_the_batches_and_every_tool_we_started(normal_pcapng, monkeypatch, workers):
    """close() from another thread (the console's quit) while the third of 7 segments is read (with
    two workers, the fourth is being dissected meanwhile)."""
    monkeypatch.setenv("SPEAR_TUI_SEGMENT_FRAMES", "10000")
    monkeypatch.setenv("SPEAR_TUI_TSHARK_WORKERS", str(workers))
    src = open_capture_files([normal_pcapng], batch_messages=500)
    seen = 0
    for batch in src.batches():  # no RuntimeError("generator raised StopIteration")
        seen += sum(t.height for t in batch.tables.values())
        if seen > 12_000:
            threading.Thread(target=src.close).start()
    assert seen < 40_000  # stopped early (the whole day has 47,584 messages)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _children_named("tshark", "editcap"):
        time.sleep(0.05)
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:200]
            for pid in _children_named("tshark", "editcap")}
    assert left == {}


def _children_named(*names: str) -> list[int]:
    me, found = os.getpid(), []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
            if comm in names and int(rest[1]) == me and rest[0] != "Z":
                found.append(int(d.name))
    return found


def test_workers_leave_a_core_to_the_lstms(monkeypatch) -> None:
    """One tshark per core, but a core left to the detectors when the LSTMs run (whether a second
    tshark then joins is decided by the capture: see the tests below); the environment variable still
    decides when set."""
    from spear_tui.capture import segments
    from spear_tui.engines.builder import DetectorChoice, open_source

    monkeypatch.delenv("SPEAR_TUI_TSHARK_WORKERS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert (segments.tshark_workers(), segments.tshark_workers(reserve=1)) == (2, 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert segments.tshark_workers(reserve=1) == 1
    monkeypatch.setenv("SPEAR_TUI_TSHARK_WORKERS", "2")
    assert segments.tshark_workers(reserve=1) == 2
    sample = Path(__file__).parents[2] / "sample_captures" / "mqtt_shuffle.pcapng"
    assert open_source([sample], choice=DetectorChoice()).reserve_cores == 1
    assert open_source([sample], choice=DetectorChoice(lstm=False)).reserve_cores == 0


def test_a_split_is_decided_once_by_messages_per_frame() -> None:
    from spear_tui.capture.segments import LIGHT_MESSAGES_PER_FRAME, SegmentSplit

    light, heavy, empty, late = (SegmentSplit(10) for _ in range(4))
    light.decide(LIGHT_MESSAGES_PER_FRAME, 10)
    light.decide(9.0)  # later batches do not change it
    heavy.decide(LIGHT_MESSAGES_PER_FRAME + 0.1, 3)
    empty.decide(None)
    late.decide(0.5, 11)  # light, but already past the first segment: too late to share the file
    assert (light.light, heavy.light, empty.light, late.light) == (True, False, False, False)
    assert all(s.decided.is_set() for s in (light, heavy, empty, late))


def _tsharks_started(monkeypatch) -> list[list[str]]:
    """Records the command lines of the field-printing tsharks and the editcaps the source starts."""
    started: list[list[str]] = []
    real = subprocess.Popen.__init__

    def spy(self, args, *a, **k):
        cmd = [str(x) for x in args]
        if Path(cmd[0]).name == "stdbuf":  # a file read's tshark, its output buffered: what it runs
            cmd = cmd[3:]
        name = Path(cmd[0]).name
        if name == "editcap" or name == "tshark" and "fields" in cmd:  # not the exact path's PDML runs
            started.append(cmd)
        real(self, args, *a, **k)

    monkeypatch.setattr(subprocess.Popen, "__init__", spy)
    return started


@pytest.mark.parametrize("light", [True, False])
def test_with_a_core_reserved_the_first_batch_decides_whether_a_second_tshark_joins(
    normal_pcapng, monkeypatch, light
):
    """LSTMs on, 2 cores: one tshark starts on the whole file. The normal day carries ~0.5 messages per
    frame: light, so it stops after the first half and a second tshark reads the rest (from the start,
    alongside), the same messages as two workers from the start. Marked heavy, one tshark reads it
    all: the same messages as one worker."""
    from spear_tui.capture import segments

    monkeypatch.setattr(segments, "PARALLEL_MIN_BYTES", 0)  # the sample is below the size that splits
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    if not light:
        monkeypatch.setattr(segments, "LIGHT_MESSAGES_PER_FRAME", 0.0)
    reference = _tables(normal_pcapng, None, monkeypatch, workers=2 if light else 1)
    monkeypatch.delenv("SPEAR_TUI_TSHARK_WORKERS")
    started = _tsharks_started(monkeypatch)
    src = open_capture_files([normal_pcapng], reserve_cores=1)
    got = collect(src)
    assert src.warnings == []  # the whole-file tshark stopped by us is not "cut short"
    for proto, table in reference.tables.items():
        assert got.tables[proto].equals(table), proto
    assert got.skipped == reference.skipped and got.other_frames == reference.other_frames
    tsharks = [c for c in started if Path(c[0]).name == "tshark"]
    editcaps = [c for c in started if Path(c[0]).name == "editcap"]
    assert tsharks[0][tsharks[0].index("-r") + 1] == str(normal_pcapng)  # the whole file, directly
    if light:
        assert len(tsharks) == 2 and len(editcaps) == 1 and editcaps[0][-1].startswith("30507-")
    else:
        assert len(tsharks) == 1 and editcaps == []


def test_a_split_decided_past_the_first_segment_reads_the_file_whole(normal_pcapng, monkeypatch):
    """Segments shorter than tshark's first block: by the time the first batch decides, the whole-file
    tshark has read into the second segment, so it reads on (nothing read twice, nothing lost)."""
    from spear_tui.capture import segments, source

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    reference = _tables(normal_pcapng, None, monkeypatch, workers=1)
    monkeypatch.delenv("SPEAR_TUI_TSHARK_WORKERS")
    monkeypatch.setattr(source, "parallel_segment_frames", lambda *a: source.FIRST_BLOCK_LINES // 2)
    assert segments.LIGHT_MESSAGES_PER_FRAME > 0.6  # the normal day (~0.5 per frame) is light
    started = _tsharks_started(monkeypatch)
    got = collect(open_capture_files([normal_pcapng], reserve_cores=1))
    for proto, table in reference.tables.items():
        assert got.tables[proto].equals(table), proto
    assert [Path(c[0]).name for c in started] == ["tshark"]


@pytest.mark.parametrize("at", [300, 20_000])
def test_closing_a_split_file_ends_every_tool_we_started(normal_pcapng, monkeypatch, at):
    """LSTMs on, 2 cores, the light normal day split in two: close() from another thread right after the
    first batches (at 300 messages, the second tshark just started) and while both tsharks read (at
    20,000): the batches end and no tshark or editcap is left."""
    from spear_tui.capture import segments

    monkeypatch.setattr(segments, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.delenv("SPEAR_TUI_TSHARK_WORKERS", raising=False)
    src = open_capture_files([normal_pcapng], batch_messages=250, reserve_cores=1)
    seen = 0
    for batch in src.batches():
        seen += sum(t.height for t in batch.tables.values())
        if seen > at:
            threading.Thread(target=src.close).start()
    assert seen < 40_000  # stopped early (the whole day has 47,584 messages)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _children_named("tshark", "editcap"):
        time.sleep(0.05)
    assert _children_named("tshark", "editcap") == []
