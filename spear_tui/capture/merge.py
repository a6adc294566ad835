"""Several capture files as one stream in time order: files whose time ranges overlap are read at once
and their batches merged by time; the others follow each other."""

from __future__ import annotations

from collections.abc import Iterator

from spear_tui.capture.batch import Batch, combine
from spear_tui.capture.files import FileInfo


def overlap_groups(infos: list[FileInfo]) -> list[list[int]]:
    """Indices of files grouped so that files whose time ranges overlap are merged together; groups
    themselves follow each other in time."""
    order = sorted(range(len(infos)), key=lambda i: (infos[i].start is None, infos[i].start or 0.0))
    groups: list[list[int]] = []
    group_end = None
    for i in order:
        info = infos[i]
        if groups and info.start is not None and group_end is not None and info.start <= group_end:
            groups[-1].append(i)
        else:
            groups.append([i])
            group_end = None
        if info.end is not None:
            group_end = max(group_end or info.end, info.end)
    return groups


def merge_by_time(streams: list[Iterator[Batch]]) -> Iterator[Batch]:
    """k-way merge of per-file batch streams: emit messages up to the earliest position every still
    running stream has reached, so output is in time order while each file is read once."""
    heads: dict[int, float] = {}
    active = dict(enumerate(streams))
    buffer: list[Batch] = []
    while active:
        # Advance the stream that is furthest behind (or not started).
        i = min(active, key=lambda k: heads.get(k, float("-inf")))
        try:
            b = next(active[i])
            heads[i] = max(heads.get(i, float("-inf")), b.position)
            buffer.append(b)
        except StopIteration:
            del active[i]
            heads.pop(i, None)
        if not buffer:
            continue
        # A stream that has not delivered yet could still have the earliest messages.
        watermark = min((heads.get(k, float("-inf")) for k in active), default=float("inf"))
        merged = combine(buffer)
        if watermark == float("-inf"):
            buffer = [merged]
            continue
        ready, rest = {}, {}
        for name, t in merged.tables.items():
            mask = t["time"] <= watermark
            r, k = t.filter(mask), t.filter(~mask)
            if r.height:
                ready[name] = r
            if k.height:
                rest[name] = k
        if not ready and active and not (merged.skipped or merged.other_frames):
            buffer = [merged]
            continue
        pos = min(watermark, merged.position)
        yield Batch(ready, merged.skipped, merged.other_frames, pos, merged.unaligned)
        buffer = [Batch(rest, {}, 0, merged.position)] if rest else []
