"""`spear-tui scan`: read capture files headless and print what is in them (text or the --json contract)."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scan",
        help="summarise capture files (messages, types, talkers) without the UI",
        description="Read capture files with tshark and print per-protocol message "
        "counts, message-type histograms and talkers.",
    )
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="capture files (pcap, pcapng, ...), merged by time"
    )
    p.add_argument("--json", action="store_true", help="print the stable JSON document (see README)")
    p.add_argument(
        "--decode-as",
        action="append",
        default=[],
        metavar="RULE",
        help="tshark decode-as rule for a non-standard port, e.g. tcp.port==17501,mqtt (repeatable)",
    )
    p.set_defaults(func=run)


def scan(files: list[str], decode_as: list[str]) -> dict:
    """The scan document (what --json prints); the integrator adds `chunks`/`alerts` from the engine."""
    from spear_tui.capture.source import open_capture_files
    from spear_tui.capture.summary import CaptureSummary

    source = open_capture_files(files, decode_as=decode_as)
    summary = CaptureSummary()
    try:
        for batch in source.batches():
            summary.update(batch)
    finally:
        source.close()
    doc = {
        "files": source.files,
        "decode_as": list(decode_as),
        **summary.to_json(),
        "start_time": source.start_time,
        "end_time": source.end_time,
        "warnings": source.warnings,
    }
    return doc


def run(args: argparse.Namespace) -> int:
    doc = scan(args.files, args.decode_as)
    if args.json:
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=True)
        sys.stdout.write("\n")
    else:
        print_text(doc)
    return 0


def _safe(text: object) -> str:
    """Packet content is hostile: show control characters escaped (plain print, never Rich markup)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


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
        for t, n in sorted(p["types"].items(), key=lambda kv: -kv[1]):
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
