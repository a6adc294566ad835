"""One tshark process printing our fields, read in byte blocks into polars frame tables.

No per-packet Python: stdout is read in large blocks, cut at the last newline, and parsed by
`polars.read_csv` (tab separated, no quoting; every column as text, typed later per protocol).
"""

from __future__ import annotations

import collections
import io
import queue
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence

import polars as pl

from spear_tui.capture import prestart
from spear_tui.capture.prestart import file_command
from spear_tui.capture.pump import FILE_BLOCK, StdoutPump
from spear_tui.capture.tshark import find_tshark, stop_process
from spear_tui.errors import UserError
from spear_tui.protocols.field_names import COLUMNS

_TEXT = dict.fromkeys(COLUMNS, pl.Utf8)
_NOISE = (
    "Running as user",
    "This could be dangerous",
    "Capturing on",
    "packets captured",
    "will continue anyway",
    "Capture started",
    "[Main MESSAGE] -- File:",
)
CAPTURING_ON_GRACE = 1.5  # s to assume capture is live after "Capturing on" if no "Capture started" follows


def parse_lines(block: bytes) -> pl.DataFrame:
    """Complete tshark field lines -> one row per frame, all columns text (empty -> null)."""
    if not block:
        return pl.DataFrame(schema=_TEXT)
    return pl.read_csv(
        io.BytesIO(block),
        separator="\t",
        has_header=False,
        quote_char=None,
        new_columns=COLUMNS,
        schema_overrides=_TEXT,
        infer_schema=False,
        truncate_ragged_lines=True,
        missing_columns="insert",  # a short line (tshark cut mid-line) would otherwise fail the block
        encoding="utf8-lossy",  # so would a stray invalid UTF-8 byte
    )


def _after_line(data: bytes, n: int) -> int:
    """Offset just after the n-th newline of `data` (which holds at least n)."""
    import numpy as np

    return int(np.flatnonzero(np.frombuffer(data, np.uint8) == 10)[n - 1]) + 1


def _signal_name(num: int) -> str:
    import signal

    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


class TsharkStream:
    """A running `tshark -T fields` on a file or an interface; `blocks()` yields parsed frame tables."""

    def __init__(
        self, args: Sequence[str], live: bool, decode_as: Sequence[str] = (), stdin=None
    ):
        self.live = live
        self.cmd = file_command(find_tshark(), args, decode_as)
        if live:
            self.cmd.insert(1, "-l")
        self.stderr_lines: collections.deque[str] = collections.deque(maxlen=50)
        self._closed = threading.Event()
        self.ready = threading.Event()  # live: set once tshark reports "Capturing on ..."
        # a whole-file read the scan started ahead (prestart.py) is taken over if this is it; any other
        # is stopped now, whatever this runs (a segment through a pipe, a live capture)
        early = prestart.adopt(self.cmd)
        self._pump = early[1] if early else None  # its stdout already being read
        try:
            self.proc = early[0] if early else subprocess.Popen(
                self.cmd, stdin=subprocess.DEVNULL if stdin is None else stdin, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, bufsize=0,
            )
        except OSError as exc:
            raise UserError(f"cannot start tshark: {exc}") from None
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None  # opened with stderr=PIPE
        for line in iter(self.proc.stderr.readline, b""):
            text = line.decode("utf-8", "replace").strip()
            if "Capture started" in text:
                self.ready.set()  # dumpcap is capturing now (tshark 4 says so in a log message)
            elif text.startswith("Capturing on"):
                # Printed before dumpcap really captures; older tshark has no "Capture started" line.
                threading.Timer(CAPTURING_ON_GRACE, self.ready.set).start()
            if text.startswith("0 packets dropped") or text in ("tshark:", "dumpcap:"):
                continue
            if text and not any(n in text for n in _NOISE):
                self.stderr_lines.append(text)
        self.ready.set()  # ended (error or done): nobody should keep waiting

    def messages(self) -> list[str]:
        """tshark's own diagnostics (e.g. "cut short in the middle of a packet"), minus its chatter."""
        return list(self.stderr_lines)

    def blocks(self, max_lines: int, flush_after: float = 0.1) -> Iterator[pl.DataFrame]:
        """Frame tables of up to ~max_lines frames; when live, also flushed every `flush_after` seconds
        (an empty table when nothing arrived, so consumers can notice time passing and stop).
        `self.max_lines`, if set while iterating, replaces max_lines (the source adapts it so that a batch
        holds about N messages however many messages a frame carries)."""
        self.max_lines = max_lines
        pump = self._pump or StdoutPump(self.proc, 1 if self.live else FILE_BLOCK).start()
        chunks = pump.blocks
        eof = False
        try:
            parts: list[bytes] = []
            lines = 0
            last_flush = time.monotonic()
            while not eof and not self._closed.is_set():
                try:
                    wait = max(0.0, flush_after - (time.monotonic() - last_flush)) if self.live else None
                    chunk = chunks.get(timeout=wait)
                except queue.Empty:
                    chunk = None
                if chunk == b"":
                    eof = True
                elif chunk:
                    parts.append(chunk)
                    lines += chunk.count(b"\n")
                now = time.monotonic()
                if self.live and now - last_flush >= flush_after:
                    data = b"".join(parts)
                    cut = data.rfind(b"\n") + 1
                    parts = [data[cut:]] if cut < len(data) else []
                    lines = 0
                    last_flush = now
                    yield parse_lines(data[:cut])
                while lines >= self.max_lines:
                    # A file's blocks end after exactly max_lines lines, wherever the pipe's reads ended,
                    # so the batches (and the order of every later event) are the same in every run.
                    data = b"".join(parts)
                    cut = _after_line(data, self.max_lines)
                    parts = [data[cut:]] if cut < len(data) else []
                    lines -= self.max_lines
                    last_flush = now
                    yield parse_lines(data[:cut])
            if parts and not self._closed.is_set():
                data = b"".join(parts)
                yield parse_lines(data if data.endswith(b"\n") else data + b"\n")
        finally:
            if not eof:  # consumer stopped early or close() was called: stop tshark, unblock the reader
                self.close()
                pump.drain()
        self._finish()

    def _finish(self) -> None:
        rc = self.proc.wait()
        self._stderr_thread.join(timeout=2)
        if rc != 0 and not self._closed.is_set():
            detail = "; ".join(self.messages()[-2:]) or f"exit code {rc}"
            if rc < 0:  # killed or crashed (a signal), not a damaged file: what was read is incomplete
                raise UserError(f"tshark was killed by {_signal_name(-rc)} mid-stream (results incomplete)")
            if not self.live:
                # Files were validated up front; a read error mid-file (truncated, corrupt record) keeps
                # what was read and becomes a warning.
                if not self.stderr_lines:
                    self.stderr_lines.append(f"tshark stopped early: {detail}")
                return
            raise UserError(f"tshark failed: {detail}")
        if self.live and not self._closed.is_set():
            # A live capture only ends when we stop it; tshark exiting by itself (interface gone,
            # "no longer attached; the capture has stopped") is an error even with exit code 0.
            detail = self.messages()[-1].removeprefix("tshark: ") if self.messages() else "tshark exited"
            raise UserError(f"live capture stopped: {detail}")

    def close(self) -> None:
        """Stop tshark; safe from any thread and more than once."""
        self._closed.set()
        stop_process(self.proc)
