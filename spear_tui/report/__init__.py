"""Incident reports: a self-contained HTML page (inline SVG plots) and CSV files."""

from spear_tui.report.csv_out import write_chunks_csv, write_csv
from spear_tui.report.html import render_html, write_html_report
from spear_tui.report.summary import summarise
from spear_tui.report.text import inert

__all__ = ["inert", "render_html", "summarise", "write_chunks_csv", "write_csv", "write_html_report"]
