"""Packet sources: capture files (merged in time order) or a live interface, as a stream of `Batch`es."""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

from spear_tui.capture.batch import Batch, add_counts, sort_by_time, split_by_count
from spear_tui.capture.decode import decode_block, fallback
from spear_tui.capture.files import FileInfo, file_info
from spear_tui.capture.merge import merge_by_time, overlap_groups
from spear_tui.capture.pacer import ReplayPacer
from spear_tui.capture.prefetch import ReadAhead
from spear_tui.capture.segments import (
    Segment,
    SegmentPipe,
    SegmentSplit,
    file_segments,
    last_frame,
    parallel_segment_frames,
    segment_frames,
    tshark_workers,
)
from spear_tui.capture.stream import TsharkStream
from spear_tui.capture.tshark import modbus_server_ports, parse_decode_as

FIRST_BLOCK_LINES = 1000
CLOSE_WAIT = 10.0  # seconds to wait for a segment's reader to stop its tools
SEGMENT_READ_AHEAD = 32  # batches a later segment's tshark may decode ahead (<= 20k messages each)

__all__ = ["Batch", "PacketSource", "ReplayPacer", "merge_by_time", "open_capture_files", "open_interface"]


class PacketSource:
    """Where messages come from. `batches()` streams with bounded memory; `close()` stops tshark from any
    thread (the iterator then ends)."""

    def __init__(
        self,
        name: str,
        files: list[str],
        start_time: float | None,
        end_time: float | None,
        decode_as: Sequence[str],
        batch_messages: int,
        interface: str | None = None,
        bpf: str | None = None,
        infos: list[FileInfo] | None = None,
        reserve_cores: int = 0,
    ):
        self.name = name
        self.reserve_cores = reserve_cores  # cores the tshark workers leave to the detectors
        self.files = files
        self.start_time = start_time
        self.end_time = end_time
        self.decode_as = list(decode_as)
        self.batch_messages = batch_messages
        self.interface = interface
        self.bpf = bpf
        self.infos = infos or []
        self.warnings: list[str] = [f"{i.path}: {i.warning}" for i in self.infos if i.warning]
        self.server_ports = modbus_server_ports(self.decode_as)
        self._streams: list[TsharkStream | SegmentPipe] = []
        self._lock = threading.Lock()
        self._closed = False

    @property
    def live(self) -> bool:
        return self.interface is not None

    def _start(self, args: list[str], live: bool, stdin=None) -> TsharkStream | None:
        """A running tshark, or None once close() was called (a generator must not raise StopIteration)."""
        with self._lock:
            if self._closed:
                return None
            stream = TsharkStream(args, live=live, decode_as=self.decode_as, stdin=stdin)
            self._streams.append(stream)
            return stream

    def _file_batches(self, index: int) -> Iterator[Batch]:
        """One file's batches; a file of more than segment_frames() frames is read segment by segment,
        each by a fresh tshark, so tshark's per-frame memory stays bounded (see segments.py). With
        several cores, a big file is cut into one segment per core, each dissected by its own tshark
        in its own thread and handed on in file order.

        With cores reserved for the detectors (the LSTMs on), one tshark starts on the whole file and
        its first batch decides (`SegmentSplit`): few messages per frame, tshark is the slower part and the
        file's later segments get tsharks of their own at once; many, the run is CPU-bound on the
        detectors and one tshark reads it all (a second would only take their core, and splitting
        costs tshark ~0.5 CPU-s: BENCHMARKS.md "End-to-end scan"). The decision depends on the
        capture alone, so the results do too."""
        info = self.infos[index] if index < len(self.infos) else None
        packets, data = (info.packets, info.data_bytes) if info else (0, 0)
        workers = tshark_workers()
        eager = min(workers, tshark_workers(self.reserve_cores))
        size = segment_frames()
        segments = file_segments(packets, parallel_segment_frames(packets, data, workers, size))
        if eager < workers and len(segments) > 1 and packets <= size:
            yield from self._split_when_light(index, segments, workers)
            return
        if eager == 1 or len(segments) == 1:
            for segment in segments:
                yield from self._segment_batches(index, segment)
                if self._closed:
                    return
            return
        yield from self._in_parallel(index, [], iter(segments), eager)

    def _split_when_light(self, index: int, segments: list[Segment | None], workers: int) -> Iterator[Batch]:
        first = segments[0]
        assert first is not None  # several segments: each has its frame range
        split = SegmentSplit(first.last)
        whole = ReadAhead(self._segment_batches(index, None, split), SEGMENT_READ_AHEAD, "tshark-segment")
        later = iter(segments[1:])
        head = iter(whole.start())
        owned = True  # until _in_parallel takes the reader over
        try:
            while not split.decided.is_set():  # its first batch with messages, or its end
                batch = next(head, None)
                if batch is None or self._closed:
                    return
                yield batch
            owned = False
        finally:
            if owned:
                whole.close()
                whole.join(CLOSE_WAIT)
        yield from self._in_parallel(index, [(whole, head)], later if split.light else iter(()), workers)

    def _in_parallel(
        self,
        index: int,
        started: list[tuple[ReadAhead[Batch], Iterator[Batch]]],
        pending: Iterator[Segment | None],
        workers: int,
    ) -> Iterator[Batch]:
        """The batches of `started` readers, then of the `pending` segments, in file order, with up to
        `workers` tsharks dissecting at once."""
        running: collections.deque[tuple[ReadAhead[Batch], Iterator[Batch]]] = collections.deque(started)

        def top_up() -> None:  # at most `workers` segments held at once: memory stays bounded
            while len(running) < workers:
                segment = next(pending, None)
                if segment is None:
                    return
                batches = self._segment_batches(index, segment)
                reader = ReadAhead(batches, SEGMENT_READ_AHEAD, "tshark-segment").start()
                running.append((reader, iter(reader)))

        try:
            top_up()
            while running:
                for batch in running[0][1]:
                    if self._closed:  # what the segments decoded ahead is dropped, not handed on
                        return
                    yield batch
                running.popleft()
                top_up()
        finally:
            for reader, _ in running:
                reader.close()
            for reader, _ in running:  # their tools are stopped when this returns, not some time later
                reader.join(CLOSE_WAIT)

    def _segment_batches(
        self, index: int, segment: Segment | None, split: SegmentSplit | None = None
    ) -> Iterator[Batch]:
        """`split` (the whole file, see `_file_batches`): decided on the first batch with messages;
        when light, this tshark stops after the first segment's last frame."""
        from spear_tui.capture.exact import ExactResolver

        path = self.files[index]
        pipe = None
        if segment is not None:
            pipe = SegmentPipe(path, segment)
            self._register(pipe)
        try:
            stream = self._start(["-r", path if pipe is None else "-"], live=False,
                                 stdin=None if pipe is None else pipe.stdout)
        finally:
            if pipe is not None:
                pipe.release()
        if stream is None:
            if pipe is not None:
                pipe.close()
            return
        resolver = ExactResolver(path, self.decode_as, index, self.server_ports, self._register, segment)
        offset = 0 if segment is None else segment.offset
        try:
            # Start with small blocks (they overlap decoding with tshark's dissection), then adapt.
            for raw in stream.blocks(min(self.batch_messages, FIRST_BLOCK_LINES)):
                if offset:
                    raw = raw.with_columns((pl.col("frame").cast(pl.Int64) + offset).cast(pl.Utf8))
                last = split.last if split is not None and split.light else None
                cut = last is not None and raw.height > 0 and last_frame(raw) > last
                if cut:  # the later segments' own tsharks read on from here
                    number = pl.col("frame").cast(pl.Int64, strict=False)
                    raw = raw.filter(number.is_null() | (number <= last))
                batch = self._to_batch(raw, index, resolver) if raw.height else None
                if batch is not None:
                    # Aim the next block at ~batch_messages messages (loopback frames carry many).
                    per_frame = batch.messages / max(raw.height, 1)
                    if split is not None and not split.decided.is_set():
                        split.decide(per_frame, last_frame(raw))
                    stream.max_lines = max(64, int(self.batch_messages / max(per_frame, 1.0)))
                    yield from split_by_count(batch, self.batch_messages)
                if cut:
                    break
            if split is not None:
                split.decide(None)  # ended without a batch: nothing to share
        finally:
            if pipe is not None:
                pipe.close()  # editcap first: tshark then sees the end of its input
            resolver.close()
            stream.close()
        for msg in stream.messages():
            msg = msg.removeprefix("tshark: ")
            if not any(msg in w or w.endswith(msg.split(" appears ")[-1]) for w in self.warnings):
                self.warnings.append(msg)

    def _register(self, stream: TsharkStream | SegmentPipe) -> None:
        with self._lock:
            self._streams.append(stream)
            if self._closed:
                stream.close()

    def _to_batch(self, raw, index: int, resolver) -> Batch | None:
        d = decode_block(raw, index, self.server_ports)
        if d.position is None:
            return None
        tables = dict(d.tables)
        skipped = dict(d.skipped)
        unaligned: dict[str, int] = {}
        remaining = dict(d.bad)
        if resolver is not None and remaining:
            for proto, (table, n_skipped, still) in resolver.resolve(remaining).items():
                skipped = add_counts(skipped, {proto: n_skipped})
                if table.height:
                    tables[proto] = _concat_sorted(tables.get(proto), table)
                remaining[proto] = still
        for proto, bad in remaining.items():
            if bad.height:
                table, n_skipped, n_unaligned = fallback(proto, bad, index, self.server_ports)
                skipped = add_counts(skipped, {proto: n_skipped})
                unaligned = add_counts(unaligned, {proto: n_unaligned})
                if table.height:
                    tables[proto] = _concat_sorted(tables.get(proto), table)
        return Batch(
            {k: sort_by_time(v) for k, v in tables.items()},
            skipped,
            d.other_frames,
            float(d.position),
            unaligned,
        )

    def batches(self) -> Iterator[Batch]:
        if self.live:
            yield from self._live_batches()
            return
        groups = overlap_groups(self.infos)
        for group in groups:
            if len(group) == 1:
                yield from self._file_batches(group[0])
            else:
                yield from merge_by_time([self._file_batches(i) for i in group])
            if self._closed:
                return

    def _live_batches(self) -> Iterator[Batch]:
        import time

        assert self.interface is not None  # live mode
        args = ["-i", self.interface]
        if self.bpf:
            args += ["-f", self.bpf]
        stream = self._start(args, live=True)
        if stream is None:
            return
        try:
            for raw in stream.blocks(self.batch_messages, flush_after=0.1):
                batch = self._to_batch(raw, 0, None)
                yield batch if batch is not None else Batch({}, {}, 0, time.time())
        finally:
            stream.close()
            # e.g. "12 packets dropped from Loopback: lo": the kernel dropped them, so did we
            self.warnings.extend(m for m in stream.messages() if m not in self.warnings)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Live: block until tshark is capturing (traffic sent before that is not seen). True if ready."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                streams = [s for s in self._streams if isinstance(s, TsharkStream)]  # live: one tshark
            if streams:
                return streams[0].ready.wait(max(0.0, deadline - time.monotonic()))
            time.sleep(0.02)
        return False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            streams = list(self._streams)
        # All at once: a tshark blocked on a full pipe takes its grace period to stop, and with one
        # tshark per core (plus editcap and the exact-path runs) one after another that adds up.
        closers = [threading.Thread(target=s.close, daemon=True) for s in streams]
        for t in closers:
            t.start()
        for t in closers:
            t.join()


def _concat_sorted(a, b):
    return b if a is None else pl.concat([a, b])


def open_capture_files(
    paths: Sequence[str | Path], decode_as: Sequence[str] = (), batch_messages: int = 20000,
    reserve_cores: int = 0,
) -> PacketSource:
    """A source over capture files (any format tshark reads), merged in time order; each message keeps its
    file index and its frame number in that original file. Bad input raises UserError. `reserve_cores`:
    cores the tshark workers leave to the LSTMs, unless the file's first batch shows tshark is the slower
    part (see `PacketSource._file_batches`)."""
    from spear_tui.errors import UserError

    if not paths:
        raise UserError("no capture file given")
    parse_decode_as(decode_as)
    infos = [file_info(p) for p in paths]
    starts = [i.start for i in infos if i.start is not None]
    ends = [i.end for i in infos if i.end is not None]
    name = Path(infos[0].path).name if len(infos) == 1 else f"{Path(infos[0].path).name} +{len(infos) - 1}"
    return PacketSource(
        name,
        [i.path for i in infos],
        min(starts, default=None),
        max(ends, default=None),
        decode_as,
        batch_messages,
        infos=infos,
        reserve_cores=reserve_cores,
    )


def open_interface(
    interface: str, bpf: str | None = None, decode_as: Sequence[str] = (), batch_messages: int = 20000
) -> PacketSource:
    """A live source on a network interface (tshark -l, flushed every ~0.1 s); optional BPF capture filter.
    Unknown interfaces and missing capture permission raise UserError."""
    from spear_tui.capture.interfaces import check_capture_filter, check_interface

    parse_decode_as(decode_as)
    check_interface(interface)
    if bpf:
        check_capture_filter(interface, bpf)
    return PacketSource(
        f"{interface} (live)", [], None, None, decode_as, batch_messages, interface=interface, bpf=bpf
    )
