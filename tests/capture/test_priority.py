"""A whole-program scan's threads give way to its pre-started tshark; nothing else changes priority."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_captures" / "mqtt_shuffle.pcapng"
RULE = "tcp.port==1883,mqtt"

# In a child interpreter (a nice value cannot be raised back, so never in the test process): a process
# started before give_way, give_way, then a thread started after it; each one's nice value.
MECHANISM = """
import json, os, subprocess, sys, threading
from spear_tui.capture.priority import give_way
before = os.getpriority(os.PRIO_PROCESS, 0)
child = subprocess.Popen(["sleep", "5"])
applied = give_way()
seen = {}
t = threading.Thread(target=lambda: seen.update(thread=os.getpriority(os.PRIO_PROCESS, 0)))
t.start(); t.join()
out = dict(before=before, applied=applied, main=os.getpriority(os.PRIO_PROCESS, 0),
           child=os.getpriority(os.PRIO_PROCESS, child.pid), **seen)
child.kill(); child.wait()
print(json.dumps(out))
"""


def _run(code: str, **env: str) -> dict:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    if "SPEAR_TUI_NICE" not in env:
        full.pop("SPEAR_TUI_NICE", None)
    done = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr  # a scan that raised alerts exits 1
    return json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][0])


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no nice values on this platform")
@pytest.mark.parametrize(("setting", "levels"), [(None, 10), ("4", 4), ("0", 0), ("lots", 10)])
def test_give_way_lowers_this_thread_and_later_ones_not_a_process_started_before(setting, levels):
    got = _run(MECHANISM, **({"SPEAR_TUI_NICE": setting} if setting is not None else {}))
    want = min(got["before"] + levels, 19)
    assert got["applied"] == levels
    assert got["main"] == want and got["thread"] == want
    assert got["child"] == got["before"]  # the process already running keeps its priority


# `scan` as the program (cli.entry) or as a call: the priority seen as the scan's work starts, and the
# pre-started tshark's. The scan's last step ends the process (os._exit), so this prints before that.
SCAN = """
import json, os, sys
import spear_tui.cli as cli
import spear_tui.commands.scan as scan
from spear_tui.capture import prestart
from spear_tui.capture.tshark import find_tshark
find_tshark()  # remembered: what the pre-start runs
inner = scan._run
def probe(args):
    with prestart._LOCK:
        tsharks = [os.getpriority(os.PRIO_PROCESS, p.pid) for p, _ in prestart._READY.values()]
    print(json.dumps(dict(main=os.getpriority(os.PRIO_PROCESS, 0), tsharks=tsharks,
                          before=BEFORE)), flush=True)
    return inner(args)
scan._run = probe
BEFORE = os.getpriority(os.PRIO_PROCESS, 0)
cli._WHOLE_PROCESS = {whole}
cli.main(["scan", "--no-lstm", "--decode-as", {rule!r}, *{files!r}])
"""


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
@pytest.mark.parametrize(("whole", "files", "gives_way"), [
    (True, [SAMPLE], True),
    (False, [SAMPLE], False),  # a call from a test or a tool: the caller's priority stays
    (True, [SAMPLE, ROOT / "sample_captures" / "mqtt_incidents.pcapng"], False),  # nothing pre-started
])
def test_only_a_whole_program_scan_with_a_pre_started_tshark_gives_way(tmp_path, whole, files, gives_way):
    code = SCAN.format(whole=whole, rule=RULE, files=[str(f) for f in files])
    got = _run(code, SPEAR_TUI_TSHARK_CACHE=str(tmp_path / "versions.json"))
    # a tshark started before the scan's set-up (one small file: a whole-file read) keeps its priority
    assert got["tsharks"] == ([got["before"]] if len(files) == 1 else [])
    assert got["main"] == (min(got["before"] + 10, 19) if gives_way else got["before"])
