"""Hostile client ids, topics and names (ANSI/OSC escapes, Rich markup, U+202E) from a real recording:
inert in `scan` text, `scan --json` (escaped, round-trips exactly), the HTML report, `review` and the CSV.
"""

from __future__ import annotations

import csv
import html
import json

import pytest

from .cli import assert_no_traceback, need_tshark, run
from .hostile import HOSTILE, RAW_CONTROLS, hostile_actors, make_baseline


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict:
    need_tshark()
    if not HOSTILE.exists():
        pytest.skip("sample_captures/hostile_strings.pcapng is missing (run sample_captures/record.py)")
    d = tmp_path_factory.mktemp("hostile")
    models = make_baseline(d / "models")
    out = {k: d / k for k in ("report.html", "alerts.csv", "store.db")}
    common = ["--no-lstm", "--model", str(models), str(HOSTILE)]
    text = run(
        [
            "scan",
            *common,
            "--report",
            str(out["report.html"]),
            "--csv",
            str(out["alerts.csv"]),
            "--store",
            str(out["store.db"]),
        ]
    )
    assert_no_traceback(text)
    js = run(["scan", "--json", *common])
    assert_no_traceback(js)
    review = run(["review", str(out["store.db"])])
    assert_no_traceback(review, codes=(0, 1))
    return {"text": text, "json": js, "review": review, **out}


def _assert_inert(s: str, where: str) -> None:
    for c in RAW_CONTROLS:
        assert c not in s, f"raw {c!r} in {where}"


def test_scan_text_is_inert(scanned: dict) -> None:
    out = scanned["text"].stdout + scanned["text"].stderr
    _assert_inert(out, "scan text")
    # shown, escaped, not dropped: the escape sequence appears as visible text
    assert "\\x1b[31mRED\\x1b[0m-sensor" in out
    assert "\\u202etxt.exe" in out


def test_scan_json_escapes_and_round_trips(scanned: dict) -> None:
    raw = scanned["json"].stdout
    _assert_inert(raw, "scan --json")
    doc = json.loads(raw)
    clients = {c["id"] for c in doc["protocols"]["mqtt"]["clients"]}
    hostile = [c for c in clients if any(ch in c for ch in "\x1b\u202e[")]
    # exact wire strings survive JSON (JSON escapes them; it does not drop or mangle them). The summary
    # lists the top clients only, so check those that made it, and that some did.
    assert len(hostile) >= 3, clients
    labelled = hostile_actors()
    # tshark prints a backspace in a field as the two characters "\b": compare on that representation
    assert all(c in labelled or c.replace("\\b", "\b") in labelled for c in hostile), hostile
    reasons = " ".join(a["reason"] for a in doc["alerts"])
    assert "[bold red]x[/]" in reasons  # markup kept literally in the alert reason


def test_html_report_is_inert(scanned: dict) -> None:
    page = scanned["report.html"].read_text(encoding="utf-8")
    _assert_inert(page, "HTML report")
    assert 'href="http://x' not in page and 'href="http://evil' not in page
    assert html.escape("[link=http://x]y[/link]", quote=True) in page or "[link=http://x]y[/link]" in page
    assert "hostile-03" in page  # the alerts with hostile topics are in the report at all


def test_csv_is_inert(scanned: dict) -> None:
    text = scanned["alerts.csv"].read_text(encoding="utf-8")
    _assert_inert(text, "alerts CSV")
    rows = list(csv.DictReader(text.splitlines()))
    assert rows and all(not str(v).startswith(("=", "+", "@")) for r in rows for v in r.values() if v)


def test_review_is_inert(scanned: dict) -> None:
    out = scanned["review"].stdout + scanned["review"].stderr
    _assert_inert(out, "review")
    assert "[bold red]x[/]" in out  # literal, not swallowed as markup
