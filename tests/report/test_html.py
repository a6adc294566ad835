"""The HTML report: self-contained, hostile text inert, plots drawn from the scores."""

from __future__ import annotations

import re
from pathlib import Path

from spear_tui.events import ChunkScored
from spear_tui.report import render_html, summarise, write_html_report
from spear_tui.report.svg import MB, MT, H, loss_plot


def test_hostile_text_is_escaped_everywhere(tmp_path: Path, events) -> None:
    chunks, alerts, days = events
    out = write_html_report(
        tmp_path / "r.html", chunks, alerts, summarise(chunks, alerts.values()), days=days,
        meta={"command": "scan <script>x</script>"}, sources=["/captures/<b>a</b>.pcapng"],
    )  # fmt: skip
    page = out.read_text(encoding="utf-8")
    assert page.count("<script") == 0 and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;document.documentElement" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    for raw in ("\x1b", "\x07", "\u202e", "\u200b"):
        assert raw not in page
    assert "\\x1b[31m[bold]boom[/bold]\\x1b]8;;http://evil\\x07link\\u202eevil\\u200b" in page
    assert "script-src" not in page and "default-src 'none'" in page  # CSP: no script may run at all
    # self-contained: nothing fetched (the only URL is the SVG namespace)
    assert not re.search(r"""(src|href)\s*=""", page.replace("&lt;img src=x", ""))
    assert "url(" not in page and "@import" not in page


def test_alert_table_and_summary_content(events) -> None:
    chunks, alerts, days = events
    summaries = summarise(chunks, alerts.values(), {"mqtt": {"messages": 15000, "skipped": {"malformed": 4}}})
    assert summaries["mqtt"]["messages"] == 15000 and summaries["mqtt"]["skipped"] == 4
    assert summaries["modbus"]["messages"] == 0
    assert summaries["mqtt"]["chunks"] == 300 and summaries["mqtt"]["alerts"] == 1
    # flagged chunks counted independently of the code: score > threshold after warm-up
    assert summaries["mqtt"]["flagged chunks"] == sum(
        1 for c in chunks if c.protocol == "mqtt" and c.threshold is not None and c.score > c.threshold
    )
    page = render_html(chunks, alerts, summaries, days=days)
    rows = re.findall(r"<tr><td class=\"n\">(\d+)</td><td class=\"w\">([^<]*)</td>", page)
    assert [r for r in rows if r[0] in ("7", "9")] == [
        ("7", "2023-11-14T22:18:20.000Z"),
        ("9", "2023-11-14T22:18:30.000Z"),
    ]
    assert "site-a.pcapng" in page and "7501–7650" in page
    assert page.count("<svg") == 3  # two protocols + one meter measurement
    assert "1 flagged day(s)" in page and "2024-01-15" in page


def test_plot_coordinates_follow_the_scores() -> None:
    """Scores 0, 0.5, 1 with no threshold must land on the bottom, middle and top of the plot area."""
    chunks = [
        ChunkScored("mqtt", i, float(i), float(i), i, i, s, s, False, None) for i, s in enumerate([0, 0.5, 1])
    ]
    svg = loss_plot("t", chunks)
    lines = re.findall(r'<polyline points="([^"]+)" fill="none" stroke="#1f5fbf"', svg)
    ys = [float(p.split(",")[1]) for p in lines[0].split()]
    ph = H - MT - MB
    assert ys == [MT + ph, MT + ph / 2, MT]


def test_long_series_stay_small_and_keep_spikes() -> None:
    n = 100_000
    chunks = [ChunkScored("mqtt", i, float(i), float(i), i, i, 1.0 + (i == 73_333) * 99, 1.0, False, 10.0)
              for i in range(n)]  # fmt: skip
    svg = loss_plot("t", chunks)
    assert len(svg) < 200_000
    score_line = re.findall(r'<polyline points="([^"]+)" fill="none" stroke="#1f5fbf"', svg)[0]
    assert min(float(p.split(",")[1]) for p in score_line.split()) == MT  # the lone spike is the top


def test_empty_session_renders() -> None:
    page = render_html([], {}, {})
    assert "no alerts" in page and "no scored chunks" in page


def test_each_lstm_view_gets_its_own_loss_plot_and_summary_column(events) -> None:
    """MQTT's rhythm view is a second series: its own plot, its flagged chunks beside the flow LSTM's."""
    import dataclasses

    chunks, alerts, days = events
    rhythm = [dataclasses.replace(c, detector="rhythm", flagged=c.index == 151)
              for c in chunks if c.protocol == "mqtt"]  # fmt: skip
    summaries = summarise(chunks + rhythm, alerts.values())
    assert summaries["mqtt"]["chunks"] == 300  # the flow LSTM's series, not both
    assert summaries["mqtt"]["rhythm flagged chunks"] == 1
    assert "rhythm flagged chunks" not in summaries["modbus"]
    page = render_html(chunks + rhythm, alerts, summaries, days=days)
    assert page.count("<svg") == 4  # mqtt, mqtt rhythm, modbus + one meter measurement
    assert "mqtt rhythm: chunk scores" in page and "mqtt: chunk scores" in page
