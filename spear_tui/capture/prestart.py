"""A tshark started as soon as a scan knows its file, before the rest of the scan is set up.

Why: tshark is the longest part of a big scan, and before it started the scan spent ~0.5 s on imports,
capinfos and the detectors' set-up (BENCHMARKS.md "End-to-end scan"); tshark's own start (loading its
dissectors) now overlaps them. The process is started with exactly the command the source would run
for a whole-file read (`file_command`); the source adopts it when it starts that command
(`TsharkStream`) and stops any other: a plan that reads the file otherwise (segments from the start)
costs only tshark's start-up. A pre-started process nobody adopts is stopped at exit.

No polars or pyshark here: this runs before they are imported. The tshark binary is the one the last
run found through pyshark (`tshark.last_tshark`); if pyshark finds another this time, the commands
differ and the pre-started one is stopped unused.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

from spear_tui.capture.pump import FILE_BLOCK, StdoutPump
from spear_tui.capture.segments import PARALLEL_MIN_BYTES
from spear_tui.capture.tshark import decode_as_args, last_tshark, stop_process
from spear_tui.errors import UserError
from spear_tui.protocols.field_names import tshark_field_args

_READY: dict[tuple[str, ...], tuple[subprocess.Popen, StdoutPump]] = {}
_LOCK = threading.Lock()
_HOOKED = False


# A file read's tshark writes its output in blocks of this (`stdbuf -o`, when there is one): at the
# C library's 4 KiB, the stdout pump woke ~7,000 times per 29 MB of output, each a read and a hand-off
# of the GIL; now ~110 (BENCHMARKS.md "End-to-end scan"). As big as the blocks the pump hands on for files.
FILE_OUTPUT_BUFFER = f"{FILE_BLOCK >> 10}K"


@functools.cache
def _stdbuf() -> str | None:
    return shutil.which("stdbuf")


def file_command(tshark: str, args: Sequence[str], decode_as: Sequence[str] = ()) -> list[str]:
    """Our tshark command: `args` (["-r", FILE], ["-r", "-"] or ["-i", IFACE, ...]), then the options
    every run shares and the fields. A read of a file (or of a pipe) runs under `stdbuf -o`, so its
    output comes in big blocks; a live capture's must come as it is dissected, and does not."""
    cmd = [tshark, *args, "-n", *decode_as_args(decode_as), *tshark_field_args()]
    stdbuf = _stdbuf() if args[:1] == ["-r"] else None
    return [stdbuf, "-o", FILE_OUTPUT_BUFFER, *cmd] if stdbuf else cmd


def prestart_scan(files: Sequence[str], decode_as: Sequence[str], lstm: bool) -> bool:
    """Pre-start the tshark a scan of `files` reads first, when that is sure to be a whole-file read
    of its one file: with the LSTMs on (`PacketSource._file_batches`: a whole-file tshark decides the
    split), or a file too small to be split at all. The exceptions (more frames than a segment; a
    compressed file whose packet data is bigger than the file) cost one tshark start-up."""
    if len(files) != 1:
        return False
    try:
        size = os.stat(files[0]).st_size
    except OSError:
        return False  # the scan says what is wrong with it
    if not (lstm or size < PARALLEL_MIN_BYTES) or not os.path.isfile(files[0]):
        return False
    return prestart(last_tshark(), str(Path(files[0])), decode_as)


def prestart(tshark: str | None, path: str, decode_as: Sequence[str] = ()) -> bool:
    """Start the whole-file tshark for `path` now (True), unless no tshark is known yet or it cannot
    start (False: the source starts its own later, and reports any error then)."""
    global _HOOKED
    if tshark is None or not os.access(tshark, os.X_OK):  # checked here: under stdbuf, Popen would not fail
        return False
    try:
        cmd = tuple(file_command(tshark, ["-r", path], decode_as))
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
        )
    except (OSError, ValueError, UserError):  # a bad rule or binary: the normal path says what is wrong
        return False
    pump = StdoutPump(proc, FILE_BLOCK).start()  # tshark must not wait on a full pipe meanwhile
    with _LOCK:
        old = _READY.pop(cmd, None)
        _READY[cmd] = (proc, pump)
        if not _HOOKED:
            atexit.register(discard)
            _HOOKED = True
    if old is not None:
        _stop(*old)
    return True


def adopt(cmd: Sequence[str]) -> tuple[subprocess.Popen, StdoutPump] | None:
    """The pre-started process for exactly `cmd` and the pump reading its stdout (taken: nobody else
    gets them), or None; any other pre-started process is stopped, as the source has made its plan
    without it. If it failed (the file went away), the stream reports its stderr as usual."""
    with _LOCK:
        early = _READY.pop(tuple(cmd), None)
    discard()
    return early


def discard() -> None:
    """Stop every pre-started tshark nobody adopted."""
    with _LOCK:
        early = list(_READY.values())
        _READY.clear()
    for proc, pump in early:
        _stop(proc, pump)


def _stop(proc: subprocess.Popen, pump: StdoutPump) -> None:
    stop_process(proc, grace=0.0)
    pump.drain()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def pending() -> int:
    """Pre-started processes not adopted yet (for tests)."""
    with _LOCK:
        return len(_READY)
