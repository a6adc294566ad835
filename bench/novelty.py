"""Novelty detectors: cost per message against ingest, false alarms on the normal sample, incidents caught.

usage: .venv/bin/python bench/novelty.py [--samples sample_captures] [--lstm] [--batch 2000]

- Cost: feeding the normal sample's message tables through NoveltyDetector (learning half, detecting
  half) against the reference measured in the same run: turning the capture into those tables
  (tshark -T fields → polars), i.e. what ingest already pays.
- False alarms: alerts in the second half of the normal sample after learning on the first half,
  per hour of capture time and per hour of (virtual) home time (the sample compresses a day 600×).
- Incidents: every labelled sample in --samples; detectors learn on the whole normal sample first,
  then see the incident capture. An incident is caught by a detector when one of its alerts of that
  protocol overlaps the label window (±2 s). With --lstm the online LSTM runs the same way, and
  "both" is the union grouped into incidents (spear_tui.incidents, as the engine does).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spear_tui.detect.novelty import NoveltyDetector  # noqa: E402
from spear_tui.incidents import group_incidents  # noqa: E402
from spear_tui.protocols.schema import PROTOCOLS  # noqa: E402

SLACK = 2.0


def read_tables(path: Path) -> dict[str, pl.DataFrame]:
    """The project's pipeline when it is there, else the tests' tshark -T fields reader."""
    try:
        from spear_tui.capture.source import open_capture_files
    except ImportError:
        sys.path.insert(0, str(ROOT / "tests" / "detect" / "novelty"))
        from novelty_tables import _tshark_table

        return {p: _tshark_table(path, p, ()) for p in PROTOCOLS}
    parts: dict[str, list[pl.DataFrame]] = {}
    src = open_capture_files([path])
    for batch in src.batches():
        for p, t in batch.tables.items():
            parts.setdefault(p, []).append(t)
    return {p: pl.concat(v) for p, v in parts.items()}


def feed(det, table: pl.DataFrame, batch: int) -> list:
    out = []
    for i in range(0, table.height, batch):
        out += [e for e in det.feed(table.slice(i, batch)) if type(e).__name__ == "Alert"]
    return out


def lstm(protocol: str, trained: bool):
    """The online LSTM: from scratch, or from the shipped checkpoint (trained on the normal day)."""
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    ckpt = None
    if trained:
        for cand in (ROOT / "models" / f"{protocol}.msgpack", ROOT / "models" / f"{protocol}.ckpt"):
            if cand.is_file():
                ckpt = cand
                break
    return OnlineLSTMDetector(protocol, seed=0, checkpoint=ckpt)


def alerts_only(events: list) -> list:
    return [e for e in events if type(e).__name__ == "Alert"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=Path, default=ROOT / "sample_captures")
    ap.add_argument("--lstm", action="store_true", help="also run the online LSTM (slow) and LSTM+novelty")
    ap.add_argument("--batch", type=int, default=2000)
    args = ap.parse_args()
    meta = json.loads((args.samples / "normal.labels.json").read_text())
    normal_path = args.samples / meta["capture"]
    compression = meta.get("time_compression", 1.0)

    t0 = time.perf_counter()
    normal = read_tables(normal_path)
    ingest_s = time.perf_counter() - t0
    total = sum(t.height for t in normal.values())
    print(
        f"reference: ingest of {normal_path.name}: {total} messages in {ingest_s:.2f} s "
        f"({total / ingest_s:,.0f} msgs/s)"
    )

    print(
        f"\n| protocol | messages | novelty msgs/s ({args.batch}-row batches) | ms per 50-row batch | "
        "novelty time / ingest time |"
    )
    print("|---|---|---|---|---|")
    all_cost = 0.0
    kinds: list[str] = ["novelty"] + (["lstm", "both"] if args.lstm else [])
    fa: dict[str, dict[str, list]] = {k: {} for k in kinds}
    hours: dict[str, float] = {}
    for p, table in normal.items():
        span = float(table["time"].max() - table["time"].min())
        mid = float(table["time"].min()) + span / 2
        hours[p] = span / 2 / 3600
        det = NoveltyDetector(p, learn_seconds=span / 2)
        t1 = time.perf_counter()
        fa["novelty"][p] = feed(det, table, args.batch) + det.flush()
        cost = time.perf_counter() - t1
        all_cost += cost
        small = NoveltyDetector(p, learn_seconds=span / 2)
        t2 = time.perf_counter()
        feed(small, table, 50)
        per_batch = (time.perf_counter() - t2) / max(1, -(-table.height // 50)) * 1000
        print(
            f"| {p} | {table.height} | {table.height / cost:,.0f} | {per_batch:.2f} | "
            f"{cost / ingest_s:.3f} (of all ingest) |"
        )
        if args.lstm:  # from scratch: the first half is its warm-up, as it is the novelty's learning
            lt = lstm(p, trained=False)
            found = feed(lt, table, args.batch) + alerts_only(lt.flush())
            fa["lstm"][p] = [a for a in found if a.end >= mid]
            fa["both"][p] = group_incidents(fa["lstm"][p] + fa["novelty"][p])
    print(f"\nall novelty detectors together: {all_cost:.2f} s = {all_cost / ingest_s:.3f}× ingest time")
    print("\nFalse alarms on the normal day, second half (first half = learning / warm-up):\n")
    print("| protocol | " + " | ".join(f"{k}: alerts (per capture h / per home h)" for k in kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for p in normal:
        cells = []
        for k in kinds:
            n = len(fa[k][p])
            cells.append(f"{n} ({n / hours[p]:.1f} / {n / (hours[p] * compression):.3f})")
        print(f"| {p} | " + " | ".join(cells) + " |")

    labelled = sorted(x for x in args.samples.glob("*.labels.json") if x.name != "normal.labels.json")
    if not labelled:
        print("\nno incident samples yet")
        return
    caught = {k: 0 for k in kinds}
    false = {k: 0 for k in kinds}
    n_inc = 0
    inc_hours = 0.0
    print("\nIncidents (detectors start from the normal day: novelty baseline / LSTM shipped checkpoint):\n")
    print("| sample | incident | protocol | " + " | ".join(kinds) + " |")
    print("|---|---|---|" + "---|" * len(kinds))
    for lab in labelled:
        meta = json.loads(lab.read_text())
        cap = args.samples / meta["capture"]
        tables = read_tables(cap)
        found: dict[str, list] = {k: [] for k in kinds}
        for p in PROTOCOLS:
            if p not in normal or p not in tables or tables[p].height == 0:
                continue
            nov = NoveltyDetector(p, learn_messages=normal[p].height)
            feed(nov, normal[p], args.batch)
            found["novelty"] += feed(nov, tables[p], args.batch) + nov.flush()
            if args.lstm:
                lt = lstm(p, trained=True)
                found["lstm"] += feed(lt, tables[p], args.batch) + alerts_only(lt.flush())
        if args.lstm:
            found["both"] = group_incidents(found["novelty"] + found["lstm"])
        spans = [(i["protocol"], i["start"] - SLACK, i["end"] + SLACK) for i in meta["incidents"]]
        any_table = next(t for t in tables.values() if t.height)
        inc_hours += float(any_table["time"].max() - any_table["time"].min()) / 3600
        for inc in meta["incidents"]:
            n_inc += 1
            cells = []
            for k in kinds:
                hit = [
                    a
                    for a in found[k]
                    if a.protocol == inc["protocol"]
                    and a.start <= inc["end"] + SLACK
                    and a.end >= inc["start"] - SLACK
                ]
                caught[k] += bool(hit)
                cells.append(f"yes ({len(hit)})" if hit else "no")
            print(f"| {cap.name} | {inc['kind']} | {inc['protocol']} | " + " | ".join(cells) + " |")
        for k in kinds:
            false[k] += sum(
                not any(a.protocol == p and a.start <= e and a.end >= s for p, s, e in spans)
                for a in found[k]
            )
    print("\n| detector | incidents caught | alerts outside incident windows | per capture hour |")
    print("|---|---|---|---|")
    for k in kinds:
        print(f"| {k} | {caught[k]}/{n_inc} | {false[k]} | {false[k] / max(inc_hours, 1e-9):.1f} |")


if __name__ == "__main__":
    main()
