"""The day plot of a stored meter session (`spear-tui review` of a `spear-tui meter` session).

The store keeps each day's MSE, threshold and flag, not its 96 samples; the plot's measured and
reconstructed lines are recomputed on demand from the session's meter file and model, as the packet
drill-down re-reads the capture. A file changed or gone since the session, or a model that was trained
in the session and never saved, is a one-line UserError the screen shows instead. No Textual here.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from spear_tui.errors import UserError


class StoredDays:
    """Re-scores a stored meter session's file with its model, once, on the first day asked for."""

    def __init__(self, meta: dict[str, Any], sources: list[dict[str, Any]]) -> None:
        self.meta = meta
        self.source = sources[0] if sources else {}
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] | None = None

    @property
    def available(self) -> bool:
        """A meter session from a file, scored by a model on disk."""
        meta = self.meta
        return meta.get("kind") == "meter" and bool(self.source.get("path")) and bool(meta.get("model"))

    def series(self, measurement: str, date: str) -> tuple[np.ndarray, np.ndarray] | None:
        with self._lock:
            if self._series is None:
                self._series = self._rescore()
            return self._series.get((measurement, date))

    def _rescore(self) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
        from spear_tui.detect.meter.seq2seq import MeterDetector
        from spear_tui.evidence.pcap import check_unchanged
        from spear_tui.meter.days import to_days
        from spear_tui.meter.files import read_meter_file

        path, model = Path(self.source["path"]), Path(self.meta["model"])
        if not path.is_file():
            raise UserError(f"meter file gone: {path} (moved or deleted since the session)")
        if not model.is_file():
            raise UserError(f"model gone: {model} (the session's model was not saved, or was moved)")
        check_unchanged(path, self.source.get("size"), self.source.get("mtime"))
        det = MeterDetector.load(model)
        tz = self.meta.get("tz")
        series = read_meter_file(path, timestamp=self.meta.get("timestamp"), tz=tz)
        days = to_days(series, samples_per_day=det.cfg.samples_per_day, tz=tz)
        measurement = str(self.meta.get("measurement") or det.measurement)
        values = days.measurement(measurement)
        scores = det.score(values, days.dates, days.complete)
        recon = scores.reconstruction
        return {(measurement, d.isoformat()): (values[i], recon[i]) for i, d in enumerate(days.dates)}
