"""The HTML incident report: one self-contained page (inline CSS and SVG, no script, no network).

Every packet-derived string goes through `inert` (visible escapes for control/bidi characters) and
then `html.escape`; a Content-Security-Policy forbids scripts and remote loads as a second fence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from spear_tui.events import Alert, ChunkScored, DayScored, Incident
from spear_tui.report.files import atomic_write
from spear_tui.report.svg import day_plot, loss_plot
from spear_tui.report.text import inert, utc

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1b1b;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:left;
vertical-align:top}th{background:#f0f2f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.w{max-width:380px;overflow-wrap:anywhere;font-family:ui-monospace,monospace;font-size:12px}
.high{color:#b00020;font-weight:600}.medium{color:#a05a00}.low{color:#555}.meta{color:#555}
svg{display:block;margin:8px 0}svg text{font:11px sans-serif;fill:#333}svg .t{font-size:13px;font-weight:600}
svg .s{fill:#666}svg .bg{fill:#fafbfc;stroke:#ccc}
"""


def _h(value: object) -> str:
    """Any value as safe HTML text."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return escape(inert(value), quote=True)


def _num_class(value: object) -> str:
    return ' class="n"' if isinstance(value, int | float) and not isinstance(value, bool) else ' class="w"'


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], raw_cols: Sequence[int] = ()) -> str:
    out = ["<table><tr>", *(f"<th>{_h(h)}</th>" for h in header), "</tr>"]
    for row in rows:
        out.append("<tr>")
        for i, v in enumerate(row):
            out.append(f"<td>{v}</td>" if i in raw_cols else f"<td{_num_class(v)}>{_h(v)}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _alert_items(alerts: Mapping[int, Alert] | Sequence[Alert]) -> list[tuple[int, Alert]]:
    if isinstance(alerts, Mapping):
        return sorted(alerts.items())
    return list(enumerate(alerts, start=1))


def render_html(
    chunks: Sequence[ChunkScored],
    alerts: Mapping[int, Alert] | Sequence[Alert],
    summaries: Mapping[str, Mapping[str, Any]],
    *,
    days: Sequence[DayScored] = (),
    title: str = "spear-tui incident report",
    meta: Mapping[str, Any] | None = None,
    sources: Sequence[str] = (),
    incidents: Sequence[Incident] = (),
) -> str:
    items = _alert_items(alerts)
    body = [f"<h1>{_h(title)}</h1>"]
    info = dict(meta or {})
    body.append(
        '<p class="meta">'
        + " · ".join(f"{_h(k)}: {_h(v)}" for k, v in info.items())
        + f"{' · ' if info else ''}{len(incidents)} incident(s), {len(items)} alert(s), "
        f"{len(chunks)} scored chunk(s)</p>"
    )
    if sources:
        body.append("<h2>Sources</h2>")
        body.append(_table(["file", "path"], ((i, s) for i, s in enumerate(sources))))
    body.append("<h2>Per-protocol summary</h2>")
    if summaries:
        cols: list[str] = []
        for row in summaries.values():
            cols.extend(k for k in row if k not in cols)
        body.append(
            _table(["protocol", *cols], ([p, *(row.get(c) for c in cols)] for p, row in summaries.items()))
        )
    else:
        body.append("<p>no protocol traffic scored</p>")
    body.append("<h2>Loss series</h2>")
    by_proto: dict[tuple[str, str], list[ChunkScored]] = {}  # one plot per (protocol, detector)
    for c in chunks:
        by_proto.setdefault((c.protocol, c.detector), []).append(c)
    for proto, det in sorted(by_proto):
        proto_alerts = [a for _, a in items if a.protocol == proto and (a.chunk < 0 or a.detector == det)]
        label = proto if det == "lstm" else f"{proto} {det}"
        body.append(loss_plot(f"{label}: chunk scores", by_proto[(proto, det)], proto_alerts))
    if not by_proto:
        body.append("<p>no scored chunks</p>")
    if days:
        body.append("<h2>Meter days</h2>")
        by_m: dict[str, list[DayScored]] = {}
        for d in days:
            by_m.setdefault(d.measurement, []).append(d)
        for m, ds in sorted(by_m.items()):
            body.append(day_plot(f"{m}: daily reconstruction error", ds))
        flagged = [d for d in days if d.flagged]
        body.append(f"<p>{len(flagged)} flagged day(s)</p>")
        if flagged:
            body.append(
                _table(
                    ["measurement", "date", "mse", "threshold", "complete"],
                    (
                        [d.measurement, d.date, d.mse, d.threshold, "yes" if d.complete else "no"]
                        for d in flagged
                    ),
                )
            )
    body.append("<h2>Incidents</h2>")
    if incidents:
        rows = [
            [
                i.id, utc(i.start), utc(i.end), i.protocol, ", ".join(i.detectors),
                f'<span class="{_h(i.severity)}">{_h(i.severity)}</span>', len(i.alerts),
                f"{i.first_frame}–{i.last_frame}", ", ".join(i.actors), " | ".join(i.reasons),
            ]  # fmt: skip
            for i in incidents
        ]
        header = ["id", "start (UTC)", "end (UTC)", "protocol", "detectors", "severity", "alerts", "frames",
                  "actors", "reasons"]  # fmt: skip
        body.append(_table(header, rows, raw_cols=(5,)))
    else:
        body.append("<p>no incidents</p>")
    body.append("<h2>Alerts</h2>")
    if items:
        rows = []
        for i, a in items:
            sev = f'<span class="{_h(a.severity)}">{_h(a.severity)}</span>'
            rows.append([
                i, utc(a.start), utc(a.end), a.protocol, ", ".join(a.detectors or (a.detector,)), sev,
                a.score, a.threshold, f"{a.first_frame}–{a.last_frame}", a.source or f"file {a.file}",
                ", ".join(a.talkers), a.reason,
            ])  # fmt: skip
        header = ["id", "start (UTC)", "end (UTC)", "protocol", "detectors", "severity", "score", "threshold",
                  "frames", "source", "talkers", "reason"]  # fmt: skip
        body.append(_table(header, rows, raw_cols=(5,)))
    else:
        body.append("<p>no alerts</p>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{_h(title)}</title><style>{CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write_html_report(
    path: str | Path,
    chunks: Sequence[ChunkScored],
    alerts: Mapping[int, Alert] | Sequence[Alert],
    summaries: Mapping[str, Mapping[str, Any]],
    **kw: Any,
) -> Path:
    """Write the report atomically (never a half page if interrupted). `alerts` is {id: Alert} (store
    ids) or a sequence (numbered from 1). Keyword options: days, title, meta, sources, incidents."""
    path = Path(path)
    atomic_write(path, render_html(chunks, alerts, summaries, **kw).encode("utf-8"))
    return path
