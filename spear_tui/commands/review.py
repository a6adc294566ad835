"""`spear-tui review STORE`: what a past (or still running) session found.

On a terminal it opens the console on the stored session (`StoreEngine`: alerts, scores and sliders as
in the live session; drill-down and evidence export re-read the source capture). With `--text`, when
stdout is not a terminal, or with any output or selection option it is headless: prints
the sessions, per-protocol summaries and alerts of a store (all packet-derived text made inert), or
JSON for scripts; can also write the HTML report and CSV files from the store.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from spear_tui.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "review",
        help="browse a stored session in the console, or summarise it / write reports from it",
        description="Read an alert store written by replay/live/demo/scan (--store). On a terminal, opens "
        "the console on the session; with --text (or when stdout is not a terminal), --json, --report or "
        "--csv, prints a summary instead. Safe while the session is still writing it.",
    )
    p.add_argument("store", metavar="STORE", help="alert store file (SQLite)")
    sel = p.add_mutually_exclusive_group()
    sel.add_argument("--session", type=int, metavar="N", help="session id (default: the latest)")
    sel.add_argument("--all-sessions", action="store_true", help="every session in the store")
    p.add_argument("--protocol", choices=("mqtt", "modbus", "bacnet"), help="only this protocol's alerts")
    p.add_argument(
        "--min-severity", choices=("low", "medium", "high"), help="only alerts at least this severe"
    )
    p.add_argument("--limit", type=int, metavar="N", help="show at most N alerts (the latest)")
    p.add_argument("--text", action="store_true", help="print text, do not open the console")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--report", metavar="FILE.html", help="also write the HTML report of the selection")
    p.add_argument("--csv", metavar="FILE.csv", help="also write the selected alerts as CSV")
    p.add_argument("--chunks-csv", metavar="FILE.csv", help="also write the chunk scores as CSV")
    p.add_argument(
        "--site", metavar="NAME|PATH", help="console: `a` on an alert accepts it as normal on this site"
    )
    p.set_defaults(func=run)


def _utc(t: float | None) -> str:
    from spear_tui.report.text import utc

    return "-" if t is None else utc(t)


def _columns(rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]


def run(args: argparse.Namespace) -> int:
    # the console shows one whole session; output files and alert selections are the headless forms
    outputs = (args.text, args.json, args.report, args.csv, args.chunks_csv)
    selections = (args.all_sessions, args.protocol, args.min_severity, args.limit is not None)
    headless = any(outputs) or any(selections)
    if not headless and sys.stdout.isatty() and sys.stdin.isatty():
        return browse(args)
    return summary(args)


def browse(args: argparse.Namespace) -> int:
    """The console on the stored session; the store is read before the screen opens (errors: one line)."""
    from spear_tui.console.app import run_console
    from spear_tui.engines.review import StoreEngine

    site = None
    if args.site:
        from spear_tui.site import open_site

        site = open_site(args.site)
    engine = StoreEngine(args.store, session=args.session)
    if engine.kind == "meter":  # a `spear-tui meter` session: its days on the meter screen
        from spear_tui.console.app import run_meter_console

        return run_meter_console(lambda: engine, source=engine.name)
    return run_console(lambda: engine, source=engine.name, site=site)


def _incidents(stored: list, alerts: dict, args: argparse.Namespace) -> list:
    """The session's incidents, filtered like its alerts; a store older than incidents gets the same
    grouping over its alerts."""
    if not stored:
        from spear_tui.incidents import group_incidents

        return group_incidents(alerts.values())
    from spear_tui.incidents import RANK

    lowest = RANK.get(args.min_severity or "low", 0)
    return [
        i for i in stored
        if (args.protocol is None or i.protocol == args.protocol) and RANK.get(i.severity, 1) >= lowest
    ]  # fmt: skip


def summary(args: argparse.Namespace) -> int:
    from spear_tui.commands.scan import incident_json
    from spear_tui.report import summarise, write_chunks_csv, write_csv, write_html_report
    from spear_tui.report.csv_out import write_incidents_csv
    from spear_tui.report.text import inert
    from spear_tui.store import STORE_VERSION, open_store

    with open_store(args.store) as reader:
        sessions = reader.sessions()
        if args.all_sessions or not sessions:
            chosen = None
        elif args.session is not None:
            chosen = reader.session(args.session).id
        else:
            chosen = sessions[-1].id
        alerts = reader.alerts(session=chosen, protocol=args.protocol, min_severity=args.min_severity)
        if args.limit is not None:
            if args.limit < 0:
                raise UserError("--limit must be >= 0")
            alerts = dict(list(alerts.items())[len(alerts) - args.limit :]) if args.limit else {}
        chunks = reader.chunks(session=chosen)
        days = reader.days(session=chosen)
        counters = reader.counters(session=chosen)
        errors = reader.errors(session=chosen)
        incidents = _incidents(reader.incidents(session=chosen), alerts, args)
    summaries = summarise(chunks, alerts.values(), counters)
    picked = [s for s in sessions if chosen is None or s.id == chosen]
    sources = [src["path"] for s in picked for src in s.sources]
    label = "all sessions" if chosen is None else f"session {chosen}"

    if args.report:
        write_html_report(
            args.report, chunks, alerts, summaries, days=days, sources=sources, incidents=incidents,
            title=f"spear-tui review: {args.store} ({label})",
            meta={"sessions": ", ".join(str(s.id) for s in picked) or "none"},
        )  # fmt: skip
    if args.csv:
        write_csv(args.csv, alerts)
        write_incidents_csv(f"{args.csv}.incidents.csv", incidents)
    if args.chunks_csv:
        write_chunks_csv(args.chunks_csv, chunks)

    if args.json:
        doc: dict[str, Any] = {
            "store": str(args.store),
            "version": STORE_VERSION,
            "selected_session": chosen,
            "sessions": [dataclasses.asdict(s) | {"interrupted": s.interrupted} for s in sessions],
            "summaries": summaries,
            # "id" is the store's (what `site accept ID` takes), "eid" the engine's (what incidents list)
            "alerts": [{**dataclasses.asdict(a), "id": i, "eid": a.id} for i, a in alerts.items()],
            "incidents": [incident_json(i) for i in incidents],
            "days_flagged": [dataclasses.asdict(d) for d in days if d.flagged],
            "errors": errors,
        }
        # ensure_ascii: escapes and bidi controls in packet text stay \\u escapes, inert in a terminal
        json.dump(_finite(doc), sys.stdout, ensure_ascii=True, indent=1, default=str, allow_nan=False)
        sys.stdout.write("\n")
        return 0

    out = [f"store {inert(args.store)} (spear-tui store v{STORE_VERSION}): {len(sessions)} session(s)"]
    for s in sessions:
        end = "interrupted (not closed)" if s.interrupted else _utc(s.ended)
        cmd = s.meta.get("command", "")
        out.append(
            f"  session {s.id}: {_utc(s.started)} -> {end}  {inert(cmd)}  "
            f"sources: {', '.join(inert(src['path']) for src in s.sources) or '-'}"
        )
    out.append("")
    out.append(f"{label}: per protocol")
    if summaries:
        cols = list(next(iter(summaries.values())))
        rows = [["protocol", *cols]]
        for proto, row in summaries.items():
            rows.append([inert(proto), *(_cell(row.get(c)) for c in cols)])
        out += ["  " + line for line in _columns(rows, right=range(1, len(cols)))]
    else:
        out.append("  nothing scored")
    flagged_days = [d for d in days if d.flagged]
    if days:
        out.append(f"meter days: {len(days)} scored, {len(flagged_days)} flagged")
        out += [
            f"  {inert(d.measurement)} {inert(d.date)} mse {d.mse:.4g} > {d.threshold:.4g}"
            for d in flagged_days
        ]
    for e in errors:
        out.append(f"engine error: {inert(e)}")
    out.append("")
    out.append(f"{label}: {len(incidents)} incident(s)")
    if incidents:
        rows = [["start (UTC)", "protocol", "severity", "detectors", "alerts", "frames", "actors", "reason"]]
        for inc in incidents:
            actors = ", ".join(inc.actors[:3]) + (f" +{len(inc.actors) - 3}" if len(inc.actors) > 3 else "")
            rows.append([
                _utc(inc.start), inert(inc.protocol), inert(inc.severity), inert(",".join(inc.detectors)),
                str(len(inc.alerts)), f"{inc.first_frame}-{inc.last_frame}", inert(actors),
                inert(inc.reasons[0] if inc.reasons else ""),
            ])  # fmt: skip
        out += ["  " + line for line in _columns(rows, right=(4,))]
    out.append("")
    out.append(f"{label}: {len(alerts)} alert(s)")
    if alerts:
        rows = [["id", "start (UTC)", "protocol", "detectors", "severity", "score/thr", "frames", "file",
                 "talkers", "reason"]]  # fmt: skip
        for i, a in alerts.items():
            talkers = ", ".join(a.talkers[:3]) + (f" +{len(a.talkers) - 3}" if len(a.talkers) > 3 else "")
            rows.append([
                str(i), _utc(a.start), inert(a.protocol), inert(",".join(a.detectors or (a.detector,))),
                inert(a.severity), f"{a.score:.3g}/{a.threshold:.3g}", f"{a.first_frame}-{a.last_frame}",
                str(a.file), inert(talkers), inert(a.reason),
            ])  # fmt: skip
        out += ["  " + line for line in _columns(rows, right=(0,))]
        out.append(f"export one: spear-tui export --alert ID {inert(args.store)} -o evidence.pcapng")
    print("\n".join(out))
    return 0


def _cell(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    from spear_tui.report.text import inert

    return inert(v)


def _finite(obj: Any) -> Any:
    """NaN/Inf (a detector reset) as null: strict JSON for scripts."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj
