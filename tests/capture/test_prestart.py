"""A tshark started before the scan is set up: taken over by the source when it runs that exact command,
stopped when it does not, and never left behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from capture.collect import collect
from spear_tui.capture import prestart
from spear_tui.capture import tshark as tshark_mod
from spear_tui.capture.source import open_capture_files

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

MULTI = Path(__file__).parent / "data" / "mqtt_multi_subscribe.pcapng"
RULE = "tcp.port==40357,mqtt"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEAR_TUI_TSHARK_CACHE", str(tmp_path / "versions.json"))
    tshark_mod.find_tshark.cache_clear()
    yield
    prestart.discard()
    tshark_mod.find_tshark.cache_clear()


def _started():
    with prestart._LOCK:
        (proc, _pump), = prestart._READY.values()
    return proc


def test_the_source_takes_over_the_pre_started_tshark_and_reads_the_same(monkeypatch):
    want = collect(open_capture_files([MULTI], decode_as=[RULE]))
    assert prestart.prestart(tshark_mod.find_tshark(), str(MULTI), [RULE])
    early = _started()
    source = open_capture_files([MULTI], decode_as=[RULE])
    got = collect(source)
    assert prestart.pending() == 0
    assert [s.proc.pid for s in source._streams if hasattr(s, "proc")][0] == early.pid  # no second tshark
    assert got.batches == want.batches and got.other_frames == want.other_frames
    assert set(got.tables) == set(want.tables)
    for name, table in want.tables.items():
        assert got.tables[name].equals(table), name


def test_a_pre_started_tshark_the_source_does_not_run_is_stopped_when_it_starts_its_own():
    assert prestart.prestart(tshark_mod.find_tshark(), str(MULTI), ["tcp.port==1883,mqtt"])  # another rule
    early = _started()
    got = collect(open_capture_files([MULTI], decode_as=[RULE]))
    assert got.messages("mqtt") > 0
    assert prestart.pending() == 0 and early.poll() is not None  # stopped, and reaped


def test_a_scan_that_fails_before_its_source_starts_leaves_no_tshark(tmp_path, monkeypatch, capsys):
    from spear_tui.cli import main

    tshark_mod.find_tshark()  # remembered: the scan pre-starts this one
    started = []
    real = prestart.prestart
    monkeypatch.setattr(prestart, "prestart", lambda *a: started.append(real(*a)) or started[-1])
    rc = main(["scan", "--json", "--decode-as", RULE, "--model", str(tmp_path / "none"), str(MULTI)])
    assert rc == 2 and "--model" in capsys.readouterr().err
    assert started == [True] and prestart.pending() == 0


def test_only_a_scan_of_one_file_read_whole_pre_starts(tmp_path):
    tshark_mod.find_tshark()
    big = tmp_path / "big.pcapng"
    big.write_bytes(MULTI.read_bytes() + b"\0" * prestart.PARALLEL_MIN_BYTES)  # size is all that is read
    assert not prestart.prestart_scan([str(MULTI), str(MULTI)], [RULE], lstm=True)  # merged by time
    assert not prestart.prestart_scan([str(tmp_path / "missing.pcap")], [RULE], lstm=True)
    assert not prestart.prestart_scan([str(tmp_path)], [RULE], lstm=True)  # a directory
    assert not prestart.prestart_scan([str(big)], [RULE], lstm=False)  # cut into segments from the start
    assert prestart.prestart_scan([str(big)], [RULE], lstm=True)  # the LSTMs' whole-file read
    prestart.discard()
    assert prestart.prestart_scan([str(MULTI)], [RULE], lstm=False)  # too small to split
    assert prestart.pending() == 1


def test_the_binary_is_the_one_found_last_time_if_it_is_still_there(tmp_path):
    assert tshark_mod.last_tshark() is None  # nothing found yet with this cache
    found = tshark_mod.find_tshark()
    assert tshark_mod.last_tshark() == found
    fake = tmp_path / "tshark"
    tshark_mod._remember_path(str(fake))  # since removed: not a guess to start
    assert tshark_mod.last_tshark() is None
    assert not prestart.prestart(None, str(MULTI), [RULE])
    assert not prestart.prestart(str(fake), str(MULTI), [RULE])  # cannot start: the source will say why
    assert prestart.pending() == 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_pre_started_tshark_is_stopped_when_the_source_reads_segments_through_a_pipe(
    monkeypatch, workers
):
    """Segments from the start (more frames than a segment; or two workers on a big file): the first
    tshark reads `-r -` from editcap, so the whole-file one started ahead must stop then, not dissect
    the whole file beside them until the end (the bench's 2-worker runs found it doing just that)."""
    monkeypatch.setenv("SPEAR_TUI_SEGMENT_FRAMES", "10")  # 31 frames: 4 segments
    monkeypatch.setenv("SPEAR_TUI_TSHARK_WORKERS", workers)
    assert prestart.prestart(tshark_mod.find_tshark(), str(MULTI), [RULE])
    early = _started()
    source = open_capture_files([MULTI], decode_as=[RULE])
    batches = source.batches()
    try:
        next(batches)  # the first segment's tshark has started
        assert prestart.pending() == 0 and early.poll() is not None
    finally:
        source.close()
        batches.close()
