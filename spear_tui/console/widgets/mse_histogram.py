"""Histogram of day MSEs with the threshold marked: how the slider splits normal from flagged days."""

from __future__ import annotations

import numpy as np
from rich.console import Group
from rich.text import Text
from textual.widget import Widget

from spear_tui.console.widgets.loss_panel import BLOCKS, fmt_score


def histogram(values: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    if hi <= lo:
        hi = lo + 1.0
    counts, _ = np.histogram(values[np.isfinite(values)], bins=bins, range=(lo, hi))
    return counts


class MseHistogram(Widget):
    DEFAULT_CSS = """
    MseHistogram { height: 6; }
    MseHistogram > .hist--ok { color: $success; }
    MseHistogram > .hist--flag { color: $error; }
    MseHistogram > .hist--thr { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {"hist--ok", "hist--flag", "hist--thr"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.values = np.zeros(0)
        self.threshold: float | None = None
        self.label = "threshold"

    def show(self, values: np.ndarray, threshold: float | None, label: str = "threshold") -> None:
        """`label` says what the line is: the slider's fixed threshold, or the engine's per-day rule
        (whose thresholds move day by day; the line is then the latest one)."""
        self.values = np.asarray(values, dtype=np.float64)
        self.threshold = threshold if threshold is not None and np.isfinite(threshold) else None
        self.label = label
        self.refresh()

    def render(self) -> Group:
        style = self.get_component_rich_style
        width = max(8, self.size.width or 60)
        height = max(2, (self.size.height or 6) - 1)
        v = self.values[np.isfinite(self.values)]
        if len(v) == 0:
            return Group(Text("MSE histogram: no scored days yet"))
        lo = 0.0
        hi = max(float(v.max()), self.threshold or 0.0) * 1.02 or 1.0
        counts = histogram(v, width, lo, hi)
        cmax = max(1, int(counts.max()))
        thr_col = None
        if self.threshold is not None:
            thr_col = min(width - 1, int((self.threshold - lo) / (hi - lo) * width))
        lines = []
        for r in range(height - 1, -1, -1):
            line = Text(no_wrap=True, overflow="crop")
            for x in range(width):
                eighths = int(round(counts[x] / cmax * height * 8))
                fill = min(8, max(0, eighths - r * 8))
                if x == thr_col and fill < 8:
                    line.append("│", style("hist--thr"))
                else:
                    above = thr_col is not None and x >= thr_col
                    line.append(BLOCKS[fill], style("hist--flag" if above else "hist--ok"))
            lines.append(line)
        foot = Text(no_wrap=True, overflow="ellipsis")
        foot.append(f"0 … {fmt_score(hi)}   days {len(v)}  {self.label} ")
        foot.append(fmt_score(self.threshold), style("hist--thr"))
        if self.threshold is not None:
            foot.append(f"  above {int((v > self.threshold).sum())}")
        lines.append(foot)
        return Group(*lines)
