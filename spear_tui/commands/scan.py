"""`spear-tui scan`: read capture files headless and print what is in them (text or the --json contract)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass, field

from spear_tui.commands._options import add_decode_as, add_detector_args, detector_choice
from spear_tui.errors import UserError
from spear_tui.events import Alert, ChunkScored, EngineError, Incident
from spear_tui.incidents import IncidentLedger
from spear_tui.report.text import utc
from spear_tui.text import escape_controls

EXIT_CODES = "exit status: 0 no alerts, 1 alerts found, 2 usage or input error"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scan",
        help="run the detectors over capture files without the UI (scripts, incident review)",
        description="Read capture files with tshark, run the detectors (stacked LSTM per protocol and "
        "novelty rules) and print per-protocol counts, message types, talkers, scored chunks and alerts.",
        epilog=EXIT_CODES,
    )
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="capture files (pcap, pcapng, ...), merged by time"
    )
    p.add_argument("--json", action="store_true", help="print the stable JSON document (see docs/json.md)")
    p.add_argument(
        "--csv", metavar="FILE",
        help="also write the alerts as CSV (chunks to FILE.chunks.csv, incidents to FILE.incidents.csv)",
    )  # fmt: skip
    p.add_argument("--report", metavar="FILE.html", help="also write a self-contained HTML report")
    p.add_argument("--store", metavar="FILE.db", help="also record every score and alert in a durable store")
    add_decode_as(p)
    add_detector_args(p)
    p.set_defaults(func=run, end_at_once=True)  # headless: every output is written and closed by then


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def chunk_json(c: ChunkScored) -> dict:
    return {
        "protocol": c.protocol,
        "detector": c.detector,
        "index": c.index,
        "start": c.start,
        "end": c.end,
        "file": c.file,
        "first_frame": c.first_frame,
        "last_frame": c.last_frame,
        "score": _finite(c.score),
        "train_loss": _finite(c.train_loss),
        "flagged": c.flagged,
        "threshold": _finite(c.threshold),
    }


def alert_json(a: Alert, incident: Incident | None = None) -> dict:
    """An alert; `detectors` are those that agree on its incident, `incident` that incident's id."""
    return {
        "id": a.id,
        "incident": incident.id if incident is not None else None,
        "protocol": a.protocol,
        "detector": a.detector,
        "detectors": list(incident.detectors if incident is not None else a.detectors or (a.detector,)),
        "start": a.start,
        "end": a.end,
        "file": a.file,
        "source": a.source,
        "first_frame": a.first_frame,
        "last_frame": a.last_frame,
        "score": _finite(a.score),
        "threshold": _finite(a.threshold),
        "severity": a.severity,
        "reason": a.reason,
        "acceptable": bool(a.accept),
        "talkers": list(a.talkers),
    }


def incident_json(i: Incident) -> dict:
    return {
        "id": i.id,
        "protocol": i.protocol,
        "start": i.start,
        "end": i.end,
        "file": i.file,
        "source": i.source,
        "first_frame": i.first_frame,
        "last_frame": i.last_frame,
        "severity": i.severity,
        "detectors": list(i.detectors),
        "actors": list(i.actors),
        "reason": i.reasons[0] if i.reasons else "",
        "reasons": list(i.reasons),
        "alerts": list(i.alerts),
    }


def site_json(choice, engine) -> dict:
    """Which site judged the traffic; for detectors that had nothing to judge by (no site, or a protocol
    the site has no model for), their learning period and what they learned."""
    site = getattr(choice, "site", None)
    out: dict = {"site": {"name": site.name, "path": str(site.path)} if site is not None else None}
    from spear_tui.site.learning import learning_report

    seen = {p: d for p, d in engine.detectors.items() if engine.messages.get(p)}
    learning = learning_report(seen)  # no site, or protocols the site has no model for
    if learning or getattr(choice, "learn", False):
        out["learning"] = learning
    return out


@dataclass
class ScanResult:
    doc: dict
    chunks: list[ChunkScored] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


def scan(files: list[str], decode_as: list[str], choice=None, sinks=()) -> ScanResult:
    """Run the same engine as the console over the files, as fast as possible, and collect its events."""
    from spear_tui.engines.builder import DetectorChoice, build_detectors, build_engine, open_source

    choice = choice or DetectorChoice()
    detectors = build_detectors(choice)  # first: the LSTMs' JAX warm-up starts now, in the background
    source = open_source(files, decode_as=decode_as, choice=choice)
    engine = build_engine(source, choice, speed=None, sinks=sinks, decode_as=decode_as, detectors=detectors)
    if choice.site is not None:  # thresholds and switches tuned in the console with this site
        from spear_tui.site.settings import apply_site_settings

        apply_site_settings(engine, choice.site, lstm_k_given=choice.sensitivity is not None)
    result = ScanResult(doc={})
    errors: list[str] = []
    ledger = IncidentLedger()

    def collect(events: list) -> None:
        for ev in events:
            if isinstance(ev, ChunkScored):
                result.chunks.append(ev)
            elif isinstance(ev, Alert):
                result.alerts.append(ev)
            elif isinstance(ev, Incident):
                ledger.apply(ev)
            elif isinstance(ev, EngineError):
                errors.append(ev.message)

    try:
        engine.run(collect)
    finally:
        source.close()
    if errors:
        raise UserError(errors[0])
    result.incidents = ledger.sorted()
    of_alert = {a: i for i in result.incidents for a in i.alerts}
    result.doc = {
        "files": source.files,
        "decode_as": list(decode_as),
        **engine.summary.to_json(),
        "start_time": source.start_time,
        "end_time": source.end_time,
        "warnings": source.warnings,
        "seed": choice.seed,
        "detectors": {p: [d.name for d in dets] for p, dets in engine.detectors.items()},
        "chunks": [chunk_json(c) for c in result.chunks],
        "alerts": [alert_json(a, of_alert.get(a.id)) for a in result.alerts],
        "incidents": [incident_json(i) for i in result.incidents],
    }
    result.doc.update(site_json(choice, engine))
    return result


def run(args: argparse.Namespace) -> int:
    from spear_tui.capture import prestart
    from spear_tui.capture.priority import give_way
    from spear_tui.cli import whole_process

    started = prestart.prestart_scan(args.files, args.decode_as, lstm=not args.no_lstm)  # overlaps the set-up
    if started and whole_process():
        give_way()  # this thread and every one it starts from now on yield the CPU to that tshark
    # One polars thread (unless the user says otherwise; read when polars is first imported, which is
    # after this): a scan's polars work is many small operations on 20k-message batches, each segment's
    # in its own thread, beside tshark and the detectors; its pool's hand-offs cost more than they
    # saved (2 cores: 0.2 s wall and CPU on the burst bench capture, BENCHMARKS.md "End-to-end scan").
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    # numpy's OpenBLAS likewise: its second thread spun between the detectors' small products (~0.3
    # CPU-s on the burst capture, the same results).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        return _run(args)
    finally:
        prestart.discard()  # not taken (an error before the source started): stopped now, not at exit


def _run(args: argparse.Namespace) -> int:
    store = None
    sinks = []
    if args.store:
        from spear_tui.store.sqlite_store import AlertStore

        store = AlertStore(
            args.store, {"command": "scan", "files": list(args.files), "decode_as": list(args.decode_as)}
        )
        sinks.append(store.write)
    try:
        result = scan(args.files, args.decode_as, detector_choice(args, args.files), sinks)
    finally:
        if store is not None:
            store.close()
    doc = result.doc
    if args.csv:
        from spear_tui.report.csv_out import write_chunks_csv, write_csv, write_incidents_csv

        write_csv(args.csv, result.alerts)
        write_incidents_csv(f"{args.csv}.incidents.csv", result.incidents)
        write_chunks_csv(f"{args.csv}.chunks.csv", result.chunks)
    if args.report:
        from spear_tui.report.html import write_html_report
        from spear_tui.report.summary import summarise

        counters = {p: {"messages": v["messages"]} for p, v in doc["protocols"].items()}
        write_html_report(
            args.report,
            result.chunks,
            result.alerts,
            summarise(result.chunks, result.alerts, counters),
            title=f"spear-tui scan: {', '.join(doc['files'])}",
            sources=doc["files"],
            incidents=result.incidents,
        )
    if args.json:
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=True)
        sys.stdout.write("\n")
    else:
        print_text(doc)
    return 1 if result.alerts else 0


def _safe(text: object) -> str:
    """Packet content is hostile: plain print with control characters escaped, never Rich markup."""
    return escape_controls(text)


def _type_lines(protocol: str, p: dict) -> list[tuple[str, int]]:
    """(name with its code, count), busiest first: 'PUBLISH (3)' where the summary has the codes."""
    if "type_codes" not in p:
        return sorted(p["types"].items(), key=lambda kv: -kv[1])
    from spear_tui.protocols.names import message_type_label  # polars: not before tshark is started

    rows = [(message_type_label(protocol, int(c)), n) for c, n in p["type_codes"].items()]
    return sorted(rows, key=lambda kv: -kv[1])


def print_text(doc: dict) -> None:
    out = sys.stdout
    out.write(f"files: {', '.join(_safe(f) for f in doc['files'])}\n")
    for w in doc["warnings"]:
        out.write(f"warning: {_safe(w)}\n")
    for name, p in doc["protocols"].items():
        extra = f", {p['unaligned']} unaligned" if p["unaligned"] else ""
        out.write(f"\n{name}: {p['messages']} messages, {p['skipped']} skipped{extra}\n")
        if not p["messages"]:
            continue
        for t, n in _type_lines(name, p):
            out.write(f"  {n:>9}  {_safe(t)}\n")
        out.write(f"  talkers ({p['distinct_talkers']}):\n")
        for t in p["talkers"][:10]:
            out.write(f"    {_safe(t['address']):<40} sent {t['sent']:>8}  received {t['received']:>8}\n")
        key = {"mqtt": "clients", "modbus": "units", "bacnet": "devices"}[name]
        if p[key]:
            out.write(
                f"  {key}: " + ", ".join(f"{_safe(c['id'])} ({c['messages']})" for c in p[key][:10]) + "\n"
            )
    out.write(f"\nother frames (no MQTT/Modbus/BACnet message): {doc['other_frames']}\n")
    flagged = sum(1 for c in doc["chunks"] if c["flagged"])
    out.write(f"\nchunks scored: {len(doc['chunks'])}, flagged: {flagged}\n")
    views: dict[tuple[str, str], list[int]] = {}  # one line per LSTM model (MQTT has two views)
    for c in doc["chunks"]:
        counts = views.setdefault((c["protocol"], c.get("detector", "lstm")), [0, 0])
        counts[0] += 1
        counts[1] += bool(c["flagged"])
    for (proto, det), (scored, hit) in views.items():
        out.write(f"  {proto} {det}: {scored} scored, {hit} flagged\n")
    if doc.get("site"):
        out.write(f"site: {_safe(doc['site']['name'])} ({_safe(doc['site']['path'])})\n")
    for proto, dets in (doc.get("learning") or {}).items():
        for name, info in dets.items():
            if name == "novelty":
                learned = "; ".join(f"{v['count']} {k.replace('_', ' ')}" for k, v in info["learned"].items())
                state = "done" if info["done"] else "still learning at the end"
                out.write(
                    f"learning {proto} novelty: first {info['seconds']:g} s ({state}), "
                    f"{info['messages']} messages: {learned}\n"
                )
            else:
                out.write(
                    f"learning {proto} {name}: first {info['chunks']} chunks "
                    f"({info['scored']} scored, no alerts from them)\n"
                )
    out.write(f"incidents: {len(doc['incidents'])}\n")
    for i in doc["incidents"]:
        who = ", ".join(_safe(t) for t in i["actors"][:3])
        out.write(
            f"  #{i['id']}  {utc(i['start'])}  {i['severity']:<6} {i['protocol']:<6} "
            f"{'+'.join(i['detectors']):<14} {len(i['alerts'])} alert(s), frames {i['first_frame']}-"
            f"{i['last_frame']}  {_safe(i['reason'])}" + (f"  [{who}]" if who else "") + "\n"
        )
    out.write(f"alerts: {len(doc['alerts'])}\n")
    for a in doc["alerts"]:
        who = ", ".join(_safe(t) for t in a["talkers"][:3])
        out.write(
            f"  {utc(a['start'])}  {a['severity']:<6} {a['protocol']:<6} {'+'.join(a['detectors']):<14} "
            f"frames {a['first_frame']}-{a['last_frame']}  {_safe(a['reason'])}"
            + (f"  [{who}]" if who else "")
            + "\n"
        )
