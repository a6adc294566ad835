"""The engines know nothing of the console: importing them pulls in neither Textual nor the console,
and no module under spear_tui/engines/ names either (an AST walk catches a lazy import too)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ROOT / "spear_tui" / "engines"
FORBIDDEN = ("textual", "spear_tui.console")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_engine_module_imports_the_console_or_textual() -> None:
    modules = sorted(ENGINES.glob("*.py"))
    assert len(modules) >= 7  # packet, meter, meter_live, review, builder, outbox, contract (+ __init__)
    bad = {
        p.name: sorted(n for n in _imports(p) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))
        for p in modules
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_importing_every_engine_module_loads_no_console() -> None:
    names = [f"spear_tui.engines.{p.stem}" for p in sorted(ENGINES.glob("*.py")) if p.stem != "__init__"]
    code = (
        "import importlib, json, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual' "
        "or m.startswith('spear_tui.console'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(proc.stdout.splitlines()[-1]) == []


def test_the_check_would_catch_a_console_import(tmp_path: Path) -> None:
    """The AST walk is not vacuous: a module with a lazy console import is found."""
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from spear_tui.console.app import SpearApp\n    import textual.app\n")
    assert {"spear_tui.console.app", "textual.app"} <= _imports(sneaky)
