"""`StoreEngine`: a stored session played back into the console (`spear-tui review STORE`).

An `Engine` (engines/contract.py): `run(emit)` re-emits the session's stored events (chunk scores,
alerts, meter days, message counts) in time order through the shared outbox, so the console's own
state (sparklines, alert list, slider re-flagging from the stored scores) works exactly as in a live
session, for packet and meter sessions alike. Nothing is recomputed: speed and sensitivity are
recorded and change nothing; pause holds the replay like any engine's. A meter session's day plot is
redrawn from its file and saved model (engines/review_days.py).

Drill-down re-reads the source capture (`messages_for`): the alert's frame window is cut with editcap
and decoded by the capture pipeline, as evidence export does. When the capture is gone or changed
since the session, that is a one-line `UserError` the console shows instead of the messages.
No Textual here.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spear_tui.engines.contract import Engine
from spear_tui.engines.outbox import Outbox
from spear_tui.engines.review_days import StoredDays
from spear_tui.errors import UserError
from spear_tui.events import Alert, ChunkScored, EngineError, Event, Incident, MessagesSeen, SourceProgress

if TYPE_CHECKING:
    import numpy as np
    import polars as pl


def session_k(chunks: list[ChunkScored]) -> float | None:
    """The peak sensitivity k a session's LSTM detector ran with, read back from its stored thresholds
    (threshold = rolling median + k x deviation of the preceding scores), so the console's slider starts
    where the session was. None when the thresholds do not fit one k (e.g. a baseline that skipped the
    first chunks): the console then uses its default."""
    import numpy as np

    from spear_tui.detect.lstm.peaks import baseline

    scores = np.array([c.score for c in chunks], dtype=np.float64)
    thr = np.array([np.nan if c.threshold is None else c.threshold for c in chunks], dtype=np.float64)
    known = ~np.isnan(thr)
    if not known.any():
        return None
    med, dev = baseline(scores, int(np.argmax(known)))
    with np.errstate(invalid="ignore", divide="ignore"):
        ks = (thr - med) / dev
    ks = ks[np.isfinite(ks)]
    if len(ks) == 0 or float(ks.max() - ks.min()) > 1e-6 * max(1.0, abs(float(ks.mean()))):
        return None
    return round(float(np.median(ks)), 6)


class StoreEngine(Engine):
    """Replays session `session` (default: the latest) of the store at `path`."""

    keeps_messages = True  # re-read from the source capture

    def __init__(self, path: str | Path, session: int | None = None) -> None:
        from spear_tui.store import open_store

        super().__init__()
        self.path = Path(path)
        with open_store(self.path) as reader:
            sessions = reader.sessions()
            if not sessions:
                raise UserError(f"store {self.path} holds no session")
            self.session = reader.session(session) if session is not None else sessions[-1]
            sid = self.session.id
            self.chunks = reader.chunks(session=sid)
            self.alerts = list(reader.alerts(session=sid).values())
            self.incidents = reader.incidents(session=sid)
            self.rules = reader.rules(session=sid)
            self.days = reader.days(session=sid)
            self.counters = reader.counters(session=sid)
            self.errors = reader.errors(session=sid)
        self.decode_as: tuple[str, ...] = tuple(self.session.meta.get("decode_as") or ())
        # alerts name their capture as the command line did (maybe relative to another directory): point
        # them at the recorded absolute path, so the packet drill-down dissects the right file from here
        self.alerts = [
            dataclasses.replace(a, source=self.source_info(a).get("path") or a.source) for a in self.alerts
        ]
        if not self.incidents and self.alerts:  # a store older than incidents: the same grouping now
            from spear_tui.incidents import group_incidents

            self.incidents = group_incidents(self.alerts)
        self.incidents = [
            dataclasses.replace(i, source=self.source_info(i).get("path") or i.source) for i in self.incidents
        ]
        self._days = StoredDays(self.session.meta, self.session.sources)
        self.keeps_days = self.kind == "meter" and self._days.available
        self._k: dict[tuple[str, str], float] = {}
        for key in sorted({(c.protocol, c.detector) for c in self.chunks}):  # one series per view
            k = session_k([c for c in self.chunks if (c.protocol, c.detector) == key])
            if k is not None:
                self._k[key] = k
        for rule in self.rules:  # the k the detector ran with, as it said (a store older than v3 lacks it)
            self._k[(rule.protocol, rule.detector)] = rule.k

    @property
    def name(self) -> str:
        """What the status bar shows: the store and the session's sources."""
        paths = ", ".join(Path(s["path"]).name for s in self.session.sources) or "?"
        return f"review {self.path.name} #{self.session.id} ({paths})"

    @property
    def kind(self) -> str:
        """"meter" for a session of meter days only (`spear-tui meter`), else "packets"."""
        return "meter" if self.days and not self.chunks and not self.alerts else "packets"

    # --- Engine ------------------------------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        """The stored events in the order they happened (capture time), counts first."""
        times = [c.start for c in self.chunks] + [a.start for a in self.alerts]
        first = min(times) if times else 0.0
        last = max([c.end for c in self.chunks] + [a.end for a in self.alerts], default=first)
        for proto, entry in self.counters.items():
            if entry["messages"]:
                yield MessagesSeen(proto, int(entry["messages"]), first, last)
        yield from self.rules
        timed: list[tuple[float, int, ChunkScored | Alert | Incident]] = [(c.end, 0, c) for c in self.chunks]
        timed += [(a.end, 1, a) for a in self.alerts]
        timed += [(i.end, 2, i) for i in self.incidents]
        timed.sort(key=lambda t: (t[0], t[1]))
        yield from (ev for _, _, ev in timed)
        yield from self.days
        for msg in self.errors:
            yield EngineError(f"(stored) {msg}")
        yield SourceProgress(self.name, last - first, last - first, done=True)

    def work(self, out: Outbox) -> None:
        """Every stored event, in order (no durable sinks: nothing here is new)."""
        for ev in self.events():
            if not self._gate.hold(out, self._stop):
                return
            out.add(ev)

    def set_sensitivity(self, protocol: str, detector: str, k: float) -> None:
        """Recorded only: the console re-flags the stored scores itself."""
        self._k[(protocol, detector)] = float(k)

    def get_sensitivity(self, protocol: str, detector: str) -> float | None:
        return self._k.get((protocol, detector))

    def day_series(self, measurement: str, date: str) -> tuple[np.ndarray, np.ndarray] | None:
        """A stored meter day's measured and reconstructed samples, recomputed from the session's file
        and model; UserError (one line) when either is gone or the file changed."""
        return self._days.series(measurement, date) if self.keeps_days else None

    # --- drill-down and export ----------------------------------------------------------------------
    def source_info(self, alert: Alert | ChunkScored | Incident) -> dict[str, Any]:
        """The session's recorded {path, size, mtime} of the capture the alert's frames are in."""
        if 0 <= alert.file < len(self.session.sources):
            return dict(self.session.sources[alert.file])
        src = getattr(alert, "source", "")
        return {"path": src, "size": None, "mtime": None} if src else {}

    def source_path(self, alert: Alert) -> Path:
        """The capture file to re-read for `alert`; a UserError says why it cannot be used."""
        from spear_tui.evidence.pcap import check_unchanged

        info = self.source_info(alert)
        path = info.get("path")
        if not path:
            raise UserError("the stored session names no source capture for this alert")
        p = Path(path)
        if not p.is_file():
            raise UserError(f"source capture gone: {path} (moved, deleted, or a live interface)")
        check_unchanged(p, info.get("size"), info.get("mtime"))
        return p

    def messages_for(self, alert: Alert) -> pl.DataFrame | None:
        """The alert's messages (polars DataFrame) re-read from its source capture's frame window."""
        from spear_tui.evidence.messages import decode_cut
        from spear_tui.evidence.pcap import cut_frames

        src = self.source_path(alert)
        with tempfile.TemporaryDirectory(prefix="spear-review-") as tmp:
            cut = Path(tmp) / "window.pcapng"
            cut_frames(src, alert.first_frame, alert.last_frame, cut)
            table = decode_cut(cut, alert.first_frame, alert.file, self.decode_as)
        if "protocol" in table.columns and table.height:
            import polars as pl

            table = table.filter(pl.col("protocol") == alert.protocol).drop("protocol")
            table = table.select([c for c in table.columns if table[c].null_count() < table.height])
        return table
