"""`spear-tui scan`: the --json contract, the text report, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REAL

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
BURST = Path(__file__).parents[1] / "capture" / "data" / "mqtt_burst.pcapng"
SAMPLES = Path(__file__).parents[2] / "sample_captures"


def spear(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spear_tui", *args], capture_output=True, text=True, timeout=300
    )


def tshark_type_histogram(path: Path, field: str, decode_as: tuple[str, ...] = ()) -> dict[str, int]:
    args = [
        "tshark",
        "-r",
        str(path),
        "-n",
        "-T",
        "fields",
        "-e",
        field,
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]
    for d in decode_as:
        args += ["-d", d]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    hist: dict[str, int] = {}
    for line in out.split():
        for v in line.split(","):
            hist[v] = hist.get(v, 0) + 1
    return hist


def test_json_contract_on_three_protocols() -> None:
    files = [
        REAL / "mqtt/ndpi_mqtt.pcap",
        REAL / "modbus/iti_modbus_test.pcap",
        REAL / "bacnet/bacnet_example.pcap",
    ]
    r = spear("scan", "--json", *map(str, files))
    assert r.returncode in (0, 1), r.stderr  # 1 = alerts found (detectors are the engine's part)
    doc = json.loads(r.stdout)
    assert set(doc["protocols"]) == {"mqtt", "modbus", "bacnet"}
    for name, p in doc["protocols"].items():
        for key in ("messages", "skipped", "types", "type_codes", "talkers", "first_time", "last_time"):
            assert key in p, (name, key)
        assert p["messages"] == sum(p["types"].values()) == sum(p["type_codes"].values())
    mqtt = doc["protocols"]["mqtt"]
    assert mqtt["types"] == {
        "CONNECT": 2,
        "CONNACK": 1,
        "PUBLISH": 2,
        "SUBSCRIBE": 1,
        "SUBACK": 1,
        "DISCONNECT": 1,
    }
    assert {c["id"] for c in mqtt["clients"]} == {"cbaabcbabacbbbbbaaaaab", "P47775ID170W2120"}
    modbus = doc["protocols"]["modbus"]
    expected = tshark_type_histogram(files[1], "modbus.func_code")
    assert modbus["type_codes"] == expected
    assert doc["protocols"]["bacnet"]["messages"] == 3257
    assert doc["files"] == [str(f) for f in files]
    assert isinstance(doc["other_frames"], int)


def test_json_message_types_equal_tsharks_histogram_with_decode_as() -> None:
    rule = "tcp.port==43253,mqtt"
    r = spear("scan", "--json", "--decode-as", rule, str(BURST))
    assert r.returncode in (0, 1), r.stderr  # 1 = alerts found (detectors are the engine's part)
    types = json.loads(r.stdout)["protocols"]["mqtt"]["type_codes"]
    assert types == tshark_type_histogram(BURST, "mqtt.msgtype", (rule,))


def test_text_report_escapes_hostile_strings() -> None:
    cap = Path(__file__).parents[1] / "capture" / "data" / "mqtt_multi_subscribe.pcapng"
    r = spear("scan", "--decode-as", "tcp.port==40357,mqtt", str(cap))
    assert r.returncode in (0, 1), r.stderr  # 1 = alerts found (detectors are the engine's part)
    assert "mqtt: 22 messages" in r.stdout
    assert "raw,client id [b]x" in r.stdout  # brackets shown as-is: plain text, no markup


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/x.pcap"], "no such file"),
        (["/"], "is a directory"),
        ([str(Path(__file__))], "not a capture file"),
        (["--decode-as", "bogus", str(REAL / "mqtt/ndpi_mqtt.pcap")], "bad --decode-as"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    r = spear("scan", *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spear-tui: error: ") and message in lines[0]
    assert "Traceback" not in r.stderr


def test_help() -> None:
    r = spear("scan", "--help")
    assert r.returncode == 0 and "--decode-as" in r.stdout
    r = spear("interfaces", "--help")
    assert r.returncode == 0


def test_text_report_names_message_types_next_to_their_codes() -> None:
    """Each type line of the text report is tshark's count for a function code, with its name."""
    from spear_tui.protocols.names import message_type_label

    cap = REAL / "modbus" / "iti_bro_modbusSmall.pcap"
    r = spear("scan", "--no-lstm", str(cap))
    assert r.returncode in (0, 1), r.stderr
    counts = tshark_type_histogram(cap, "modbus.func_code")
    assert len(counts) >= 2
    for code, n in counts.items():
        assert f"  {n:>9}  {message_type_label('modbus', int(code))}\n" in r.stdout
    assert "Read Coils (1)" in r.stdout


def test_a_scan_ends_at_once_with_every_output_complete(tmp_path) -> None:
    """The process skips Python's teardown once scan is done (cli.end_process): what it printed and
    wrote must be whole by then (stdout buffered, as outside this sandbox), and the exit code kept."""
    csv, store = tmp_path / "alerts.csv", tmp_path / "scan.db"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout buffered, as usual
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    proc = subprocess.run(
        [sys.executable, "-m", "spear_tui", "scan", "--json", "--csv", str(csv), "--store", str(store),
         str(SAMPLES / "mqtt_incidents.pcapng")],
        capture_output=True, text=True, timeout=300, env=env,
    )
    doc = json.loads(proc.stdout)  # the whole document: a cut one does not parse
    assert proc.returncode == 1 and doc["alerts"]  # alerts found
    assert len(csv.read_text().splitlines()) == len(doc["alerts"]) + 1
    assert len((tmp_path / "alerts.csv.chunks.csv").read_text().splitlines()) == len(doc["chunks"]) + 1
    with sqlite3.connect(store) as db:  # committed and closed: every alert is in it
        assert db.execute("SELECT count(*) FROM alerts").fetchone()[0] == len(doc["alerts"])
    head = subprocess.run(  # a reader that stops early: no traceback, no hang
        f"{sys.executable} -m spear_tui scan --json {SAMPLES / 'mqtt_incidents.pcapng'} | head -c 100",
        shell=True, capture_output=True, text=True, timeout=300, env=env,
    )
    assert len(head.stdout) == 100 and "Traceback" not in head.stderr


@pytest.mark.parametrize("given", [None, "2"])
def test_a_scan_keeps_polars_and_openblas_on_one_thread_unless_told(given) -> None:
    """Set before either library loads (they read it once): in a child interpreter, not this one."""
    env = {k: v for k, v in os.environ.items() if k not in ("POLARS_MAX_THREADS", "OPENBLAS_NUM_THREADS")}
    if given is not None:
        env["POLARS_MAX_THREADS"] = env["OPENBLAS_NUM_THREADS"] = given
    code = (
        "import os, sys, spear_tui.cli as cli\n"
        f"cli.main(['scan', '--no-lstm', {str(SAMPLES / 'mqtt_shuffle.pcapng')!r}])\n"
        "import numpy, polars\n"
        "e = os.environ\n"
        "print(e['POLARS_MAX_THREADS'], e['OPENBLAS_NUM_THREADS'], polars.thread_pool_size(),\n"
        "      file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    want = given or "1"
    assert proc.stderr.split()[-3:] == [want, want, want]
