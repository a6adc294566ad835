"""Incident reports: a self-contained HTML page (inline SVG plots) and CSV files.

The names below are loaded on first use: `report.text` is imported by every scan before its tshark
starts, and the HTML report's SVG plots need numpy (~75 ms).
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "inert": "spear_tui.report.text",
    "render_html": "spear_tui.report.html",
    "write_html_report": "spear_tui.report.html",
    "summarise": "spear_tui.report.summary",
    "write_chunks_csv": "spear_tui.report.csv_out",
    "write_csv": "spear_tui.report.csv_out",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
