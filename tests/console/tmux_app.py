"""Test-only launcher: the console on the scripted engine, for the real-terminal (tmux) test.

Run as `python tests/console/tmux_app.py`; it is never part of the product (the events are the
snapshot scenario's fixed test data, not a demo).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parents[2]))  # this checkout's spear_tui, even beside another install

from console.harness import ScriptedEngine  # noqa: E402
from console.test_snapshots import day, scenario  # noqa: E402
from spear_tui.console.app import run_console  # noqa: E402

if __name__ == "__main__":
    engine = ScriptedEngine(scenario(), day_series=day)
    sys.exit(run_console(lambda: engine, source="test-scenario"))
