"""What the LSTM views of one protocol compute alike from the same messages, made once for all of them.

MQTT runs two views (the flow LSTM and the rhythm one: `views.py`) over the same messages, fed the same
tables, cut into the same chunks. The client ids seen in CONNECTs and each run's per-message arrays
(`features.prepare` without the rhythm column) are the same for both, so the first view to need them
makes them and the others reuse them; a view adds only what is its own (the rhythm column, its
normalisation, its net). Figures: BENCHMARKS.md "End-to-end scan".
"""

from __future__ import annotations

import weakref

import polars as pl

from spear_tui.detect.lstm.features import Prepared, mqtt_client_ids, prepare


class SharedViews:
    """Shared by the views of one protocol (the builder makes one per protocol); one feeding thread."""

    def __init__(self) -> None:
        self.client_ids: dict[tuple[str, int], str] = {}
        self._ids_version = 0  # bumped whenever client_ids changes: a prepared run depends on them
        self._last_table: weakref.ref | None = None  # not kept alive here
        self._views = 0
        self._key: tuple | None = None
        self._base: Prepared | None = None
        self._uses = 0  # views that have taken `_base`; dropped once all have (memory between batches)

    def join(self) -> None:
        """A view of the protocol now shares these (each view joins once)."""
        self._views += 1

    def learn_client_ids(self, table: pl.DataFrame) -> None:
        """Client ids from `table`'s CONNECTs, once per table (the engine hands every view the same)."""
        if (self._last_table is not None and table is self._last_table()) or "clientid" not in table.columns:
            return
        self._last_table = weakref.ref(table)
        new = mqtt_client_ids(table)
        if any(self.client_ids.get(k) != v for k, v in new.items()):
            self.client_ids.update(new)
            self._ids_version += 1

    def prepared(self, table: pl.DataFrame, protocol: str, offset: int) -> Prepared:
        """`prepare(table, protocol, client_ids)` (no rhythm column) for the run of messages starting
        `offset` messages into the view's stream: made by the first view that asks, reused by the
        others for the same run (same offset, length, first and last frame, client ids)."""
        frames = table.get_column("frame")
        key = (protocol, offset, table.height, frames[0], frames[-1], self._ids_version)
        if key == self._key and self._base is not None:
            base, self._uses = self._base, self._uses + 1
        else:
            base, self._key, self._uses = prepare(table, protocol, self.client_ids), key, 1
        self._base = base if self._uses < self._views else None
        return base
