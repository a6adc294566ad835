"""Reading one big capture file as consecutive segments, each dissected by its own tshark.

Why: tshark keeps per-frame state for the whole file it reads (gigabytes for a 1 GB capture), and its
`-M` session reset only halves that (BENCHMARKS.md "capture segments"). A fresh tshark per segment of
`segment_frames()` frames bounds it. `editcap -r FILE - FIRST-LAST` pipes each segment; the frame
numbers tshark prints restart at 1, so the source adds the segment's offset and every message keeps its
frame number in the original file (drill-down and evidence export read the original file).

Cost, only for captures longer than one segment: a TCP message that straddles a segment boundary
cannot be reassembled (at most one per stream per boundary; counted and skipped like any broken
packet); an MQTT connection whose CONNECT lies in an earlier segment is dissected without knowing its
protocol version (tshark notes "Unknown version"; 3.1.1 fields come out the same, tested; v5-only
fields such as properties may not); and editcap re-reads the file up to each segment (well under a
second to the end of a 313 MB file: BENCHMARKS.md "capture segments").
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spear_tui.capture.tshark import find_tool, stop_process

if TYPE_CHECKING:  # polars is imported when a block is read: prestart.py imports this module before it
    import polars as pl

DEFAULT_SEGMENT_FRAMES = 500_000  # bounds tshark's state (BENCHMARKS.md); the sample captures are 61k frames
_OPEN_END = 2**31 - 1  # editcap has no open-ended range; capinfos' count can be short of the truth


def segment_frames() -> int:
    """Frames per tshark run (SPEAR_TUI_SEGMENT_FRAMES overrides; tests use small values)."""
    try:
        return max(1, int(os.environ.get("SPEAR_TUI_SEGMENT_FRAMES", DEFAULT_SEGMENT_FRAMES)))
    except ValueError:
        return DEFAULT_SEGMENT_FRAMES


@dataclass(frozen=True)
class Segment:
    first: int  # first frame (1-based) of the original file in this segment
    last: int

    @property
    def offset(self) -> int:
        """Add to the frame numbers tshark prints for this segment."""
        return self.first - 1


# Where a second tshark starts to pay with the LSTMs on (BENCHMARKS.md "End-to-end scan"): the detectors
# cost ~12 us per message plus ~10 us per frame, tshark ~26 us per frame, so from ~1.4 messages per
# frame down tshark is the slower part (the bench's two recordings: 1.0 split, 2.9 read whole).
LIGHT_MESSAGES_PER_FRAME = 1.5
PARALLEL_MIN_BYTES = 8_000_000  # packet data below which one tshark reads the file (~2 s of tshark)


def tshark_workers(reserve: int = 0) -> int:
    """How many tshark processes dissect one file's segments at once: SPEAR_TUI_TSHARK_WORKERS, else
    one per core (at most 8) but the `reserve` cores left to others. Why reserve: with the LSTMs on, a
    scan of many messages per frame is CPU-bound and a second tshark on 2 cores only takes their core;
    whether the reserved cores get a tshark after all is decided by the capture (`SegmentSplit`)."""
    try:
        return max(1, int(os.environ["SPEAR_TUI_TSHARK_WORKERS"]))
    except (KeyError, ValueError):
        return max(1, min(8, (os.cpu_count() or 1) - reserve))


def parallel_segment_frames(packets: int, data_bytes: int, workers: int, size: int) -> int:
    """Frames per segment when `workers` tshark processes share a file of `packets` frames: each
    gets an equal share (never more than `size`), so all cores dissect from the start. Files of less
    than PARALLEL_MIN_BYTES of packet data stay whole: every boundary costs a message cut in two per
    TCP stream and MQTT connections whose CONNECT lies in an earlier segment (see above), not worth
    it for a second or two of tshark (the bundled samples are all below it)."""
    if workers <= 1 or data_bytes < PARALLEL_MIN_BYTES:
        return size
    return max(1, min(size, -(-packets // workers)))


def file_segments(packets: int, size: int) -> list[Segment | None]:
    """[None] (read the file directly) unless it has more than `size` frames."""
    if packets <= size:
        return [None]
    starts = range(1, packets + 1, size)
    return [Segment(a, a + size - 1 if a + size <= packets else _OPEN_END) for a in starts]


class SegmentPipe:
    """`editcap` writing one segment of `path` to a pipe (tshark reads it with `-r -`)."""

    def __init__(self, path: str, segment: Segment):
        self.proc = subprocess.Popen(
            [find_tool("editcap"), "-r", path, "-", f"{segment.first}-{segment.last}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )

    @property
    def stdout(self):
        return self.proc.stdout

    def release(self) -> None:
        """Drop our copy of the pipe once tshark holds its own (so tshark sees EOF when editcap ends)."""
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def close(self) -> None:
        stop_process(self.proc)


def last_frame(raw: pl.DataFrame) -> int:
    """The highest frame number in a block of tshark rows (garbled numbers ignored)."""
    import polars as pl

    top = raw["frame"].cast(pl.Int64, strict=False).max()
    return int(top) if isinstance(top, int) else 0


class SegmentSplit:
    """Whether the tshark reading a whole file hands its later segments to tsharks of their own: decided
    once, by its first batch with messages (`decide`), in its own thread, so at the same frame in
    every run."""

    def __init__(self, last: int):
        self.last = last  # the first segment's last frame: where the whole-file tshark stops if light
        self.light = False
        self.decided = threading.Event()

    def decide(self, per_frame: float | None, reached: int = 0) -> None:
        """At most LIGHT_MESSAGES_PER_FRAME messages per frame: light (tshark is the slower part), if
        the whole-file tshark has not yet read past the first segment (`reached`: the last frame it
        has handed on) - else the later segments' tsharks would read frames twice."""
        if not self.decided.is_set():
            light = per_frame is not None and per_frame <= LIGHT_MESSAGES_PER_FRAME
            self.light = light and reached <= self.last
            self.decided.set()
