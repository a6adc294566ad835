"""CSV output: readable back with the csv module, hostile text inert, spreadsheet formulas defused."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from spear_tui.report import write_chunks_csv, write_csv


def test_alert_csv_round_trip_and_inert_text(tmp_path: Path, events) -> None:
    _, alerts, _ = events
    path = write_csv(tmp_path / "a.csv", alerts)
    raw = path.read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\u202e" not in raw
    rows = list(csv.DictReader(raw.splitlines()))
    assert [r["id"] for r in rows] == ["7", "9"]
    a = rows[0]
    assert float(a["score"]) == 1.0 and int(a["first_frame"]) == 7501 and a["file"] == "0"
    assert a["start_utc"] == "2023-11-14T22:18:20.000Z" and float(a["start"]) == 1.7e9 + 300
    assert a["detectors"] == "lstm;novelty"
    assert a["talkers"].startswith("10.0.0.5;<script>") and "\\x1b[31m" in a["talkers"]
    b = rows[1]
    assert b["reason"] == '\'=HYPERLINK("http://x")'  # never evaluated by a spreadsheet
    assert b["talkers"] == "'-1+1"


def test_chunk_csv(tmp_path: Path, events) -> None:
    chunks, _, _ = events
    rows = list(csv.DictReader(write_chunks_csv(tmp_path / "c.csv", chunks).read_text().splitlines()))
    assert len(rows) == len(chunks)
    assert rows[0]["threshold"] == "" and rows[25]["threshold"] != ""
    assert math.isclose(float(rows[5]["score"]), chunks[5].score)
    assert sum(int(r["flagged"]) for r in rows) == sum(c.flagged for c in chunks)
