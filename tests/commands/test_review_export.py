"""`spear-tui review` and `spear-tui export` as a user runs them: exit codes, one-line errors, inert text."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spear_tui.events import Alert, ChunkScored, MessagesSeen, PacketsSkipped
from spear_tui.store import AlertStore

REAL = Path(__file__).parents[1] / "data" / "real"
CAPTURE = REAL / "modbus" / "iti_bro_modbusSmall.pcap"
HOSTILE = "\x1b]0;pwned\x07\x1b[2J<script>[bold red]\u202e"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spear_tui", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "alerts.db"
    with AlertStore(path, {"command": "scan", "sources": [str(CAPTURE)]}) as s:
        s.write([
            ChunkScored("modbus", 0, 1.4e9, 1.4e9 + 1, 1, 50, 0.1, 0.05, False, None),
            ChunkScored("modbus", 1, 1.4e9 + 1, 1.4e9 + 2, 51, 100, 0.9, 0.2, True, 0.5, talkers=(HOSTILE,)),
            MessagesSeen("modbus", 100, 1.4e9, 1.4e9 + 2), PacketsSkipped("modbus", 2, "malformed"),
            Alert("modbus", "lstm", 1.4e9 + 1, 1.4e9 + 2, 51, 100, 0.9, 0.5, "loss " + HOSTILE, (HOSTILE,),
                  "high"),
        ])  # fmt: skip
    with AlertStore(path, {"command": "replay <x>", "sources": [str(CAPTURE)]}) as s:
        s.write(
            [Alert("modbus", "novelty", 1.4e9, 1.4e9, 10, 12, 1.0, 1.0, "new unit id", ("10.0.0.1",), "low")]
        )
    return path


def test_review_text_is_inert_and_lists_latest_session(store: Path) -> None:
    proc = cli("review", str(store))
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\u202e" not in proc.stdout
    assert "2 session(s)" in proc.stdout
    assert "session 2: 1 alert(s)" in proc.stdout and "new unit id" in proc.stdout
    assert "loss" not in proc.stdout  # session 1's alert is not in the default (latest) selection
    everything = cli("review", str(store), "--all-sessions")
    assert "all sessions: 2 alert(s)" in everything.stdout
    assert "\\x1b]0;pwned\\x07\\x1b[2J<script>[bold red]\\u202e" in everything.stdout


def test_review_json_and_reports(store: Path, tmp_path: Path) -> None:
    proc = cli("review", str(store), "--session", "1", "--json", "--report", str(tmp_path / "r.html"),
               "--csv", str(tmp_path / "a.csv"), "--chunks-csv", str(tmp_path / "c.csv"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.isascii()  # control characters only as \\u escapes
    doc = json.loads(proc.stdout)
    assert [a["id"] for a in doc["alerts"]] == [1]
    assert doc["alerts"][0]["talkers"] == [HOSTILE]  # exact data for scripts
    assert doc["summaries"]["modbus"]["messages"] == 100 and doc["summaries"]["modbus"]["skipped"] == 2
    assert [s["interrupted"] for s in doc["sessions"]] == [False, False]
    assert "&lt;script&gt;" in (tmp_path / "r.html").read_text()
    assert len((tmp_path / "c.csv").read_text().splitlines()) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "{missing}"], "no such store"),
        (["review", "{text}"], "is not a spear-tui store"),
        (["review", "{store}", "--session", "9"], "has no session 9"),
        (["export", "--alert", "7", "{store}", "-o", "{out}"], "has no alert 7"),
        (["export", "--alert", "1", "{text}", "-o", "{out}"], "is not a spear-tui store"),
    ],
)
def test_errors_are_one_line_exit_2(store: Path, tmp_path: Path, args: list[str], message: str) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("just text\n" * 100)
    names = {"missing": tmp_path / "nope.db", "text": text, "store": store, "out": tmp_path / "e.pcapng"}
    proc = cli(*(a.format(**names) for a in args))
    assert proc.returncode == 2
    assert (
        proc.stderr.count("\n") == 1
        and proc.stderr.startswith("spear-tui: error: ")
        and message in proc.stderr
    )
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap (tshark) not installed")
def test_export_writes_the_alert_window(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "alert1.pcapng"
    proc = cli("export", "--alert", "1", str(store), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("alert 1: 50 frame(s) 51..100 of ")
    count = subprocess.run(["capinfos", "-c", "-M", "-T", "-r", str(out)], capture_output=True, text=True)
    assert count.stdout.split("\t")[-1].strip() == "50"


def test_review_of_a_store_still_being_written(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    writer = AlertStore(path, {"command": "live eth0", "sources": ["eth0"]})
    writer.write(
        [Alert("mqtt", "lstm", 1.4e9 + i, 1.4e9 + i, i, i, 2.0, 1.0, f"spike {i}") for i in range(1, 6)]
    )
    proc = cli("review", str(path), "--limit", "2")
    writer.close()
    assert proc.returncode == 0, proc.stderr
    assert "interrupted (not closed)" in proc.stdout  # the writer has not closed its session yet
    assert "session 1: 2 alert(s)" in proc.stdout
    assert "spike 5" in proc.stdout and "spike 4" in proc.stdout and "spike 3" not in proc.stdout
