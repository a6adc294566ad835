"""A thread draining a tool's stdout into a bounded queue of byte blocks, as fast as the tool writes.

Why: tshark must never wait on a full pipe while the consumer is busy in polars (or, for a tshark the
scan started early, before anyone consumes at all: `prestart.py`). No polars here.
"""

from __future__ import annotations

import fcntl
import os
import queue
import subprocess
import threading

READ_BLOCK = 1 << 20
# A file's output is handed on in blocks of at least this: each block handed on costs both threads a
# wake-up (5,706 reads of a 29 MB output at the C library's 4 KiB writes; 0.4 CPU-s less when joined:
# BENCHMARKS.md "End-to-end scan"). A file read's tshark now writes blocks of this size itself
# (`prestart.file_command`, under `stdbuf -o`), so one read is usually one block. A live capture's
# output is handed on as it comes.
FILE_BLOCK = 256 << 10
PIPE_SIZE = 1 << 20  # ask Linux for a 1 MiB pipe: fewer wake-ups per MB of tshark output
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
QUEUE_CHUNKS = 256  # bounded read-ahead (<= QUEUE_CHUNKS x READ_BLOCK bytes)


class StdoutPump:
    """`blocks` receives stdout's bytes in order, in pieces of at least `min_block` bytes (but the
    last), then b"" at the end (or on a read error)."""

    def __init__(self, proc: subprocess.Popen, min_block: int = 1):
        self.proc = proc
        self.min_block = min_block
        self.blocks: queue.Queue[bytes] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self.thread = threading.Thread(target=self._read, daemon=True, name="tshark-stdout")

    def start(self) -> StdoutPump:
        self.thread.start()
        return self

    def _read(self) -> None:
        assert self.proc.stdout is not None  # opened with stdout=PIPE
        fd = self.proc.stdout.fileno()
        try:
            fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:
            pass
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                chunk = os.read(fd, READ_BLOCK)
                if chunk and size + len(chunk) < self.min_block:
                    parts.append(chunk)
                    size += len(chunk)
                    continue
                if parts:
                    chunk = b"".join([*parts, chunk])
                    parts, size = [], 0
                self.blocks.put(chunk)
                if not chunk:
                    return
        except OSError:
            if parts:
                self.blocks.put(b"".join(parts))
            self.blocks.put(b"")

    def drain(self) -> None:
        """Discard what is queued until the reader ends (the process has been stopped): unblocks it."""
        while self.thread.is_alive():
            try:
                self.blocks.get(timeout=0.1)
            except queue.Empty:
                pass
