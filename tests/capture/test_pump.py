"""The stdout pump: a file's output handed on in big blocks, a live one as it comes, nothing lost."""

from __future__ import annotations

import queue
import subprocess
import sys

from spear_tui.capture.pump import StdoutPump

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
