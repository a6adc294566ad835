"""The stdout pump: a file's output handed on in big blocks, a live one as it comes, nothing lost."""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spear_tui.capture.prestart import FILE_OUTPUT_BUFFER, file_command
from spear_tui.capture.pump import FILE_BLOCK, StdoutPump
from spear_tui.capture.tshark import find_tshark

WRITER = (
    "import sys, time\n"
    "for i in range(2000):\n"
    "    sys.stdout.write(f'{i:07d}' * 128 + '\\n'); sys.stdout.flush()\n"  # 897 bytes a write
)


def _drain(pump: StdoutPump) -> list[bytes]:
    out = []
    while (block := pump.blocks.get(timeout=30)) != b"":
        out.append(block)
    return out


def test_a_files_output_comes_in_big_blocks_and_whole():
    proc = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE)
    blocks = _drain(StdoutPump(proc, 64 << 10).start())
    proc.wait()
    want = b"".join(f"{i:07d}".encode() * 128 + b"\n" for i in range(2000))
    assert b"".join(blocks) == want
    assert all(len(b) >= 64 << 10 for b in blocks[:-1]) and len(blocks) <= len(want) // (64 << 10) + 1


def test_a_live_output_is_handed_on_before_more_comes():
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; print('hello', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE,
    )
    try:
        pump = StdoutPump(proc).start()
        got = b""
        while got != b"hello\n":  # in one or two pieces (print may write the newline apart)
            got += pump.blocks.get(timeout=10)  # while the writer still sleeps
        try:
            pump.blocks.get(timeout=0.2)
            raise AssertionError("nothing more was written")
        except queue.Empty:
            pass
    finally:
        proc.kill()
        proc.wait()
    pump.drain()
    assert not pump.thread.is_alive()


SAMPLE = Path(__file__).resolve().parents[2] / "sample_captures" / "mqtt_shuffle.pcapng"


@pytest.mark.skipif(shutil.which("stdbuf") is None, reason="no stdbuf (coreutils) on this machine")
def test_a_file_reads_tshark_runs_under_stdbuf_and_a_live_capture_does_not():
    tshark = "/usr/bin/tshark"
    read = file_command(tshark, ["-r", "x.pcapng"])
    assert read[:4] == [shutil.which("stdbuf"), "-o", FILE_OUTPUT_BUFFER, tshark]
    assert file_command(tshark, ["-r", "-"])[3] == tshark  # a segment through a pipe: the same
    assert file_command(tshark, ["-i", "lo"])[0] == tshark  # live: its lines as they come


@pytest.mark.skipif(shutil.which("tshark") is None or shutil.which("stdbuf") is None,
                    reason="needs tshark and stdbuf")
def test_a_file_reads_output_reaches_the_pump_in_big_reads():
    """At the C library's 4 KiB writes a read got ~5 KB; under stdbuf, about FILE_BLOCK at a time."""
    proc = subprocess.Popen(file_command(find_tshark(), ["-r", str(SAMPLE)]), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    blocks = _drain(StdoutPump(proc, 1).start())  # every read handed on as it came
    proc.wait()
    total = sum(map(len, blocks))
    assert total > 4 * FILE_BLOCK
    assert total / len(blocks) > FILE_BLOCK / 4
