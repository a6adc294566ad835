"""One meter day, measured vs reconstructed (as the paper's figures 5/6), with the per-sample error.

Drawn on a braille canvas (2x4 dots per cell) so 96 samples fit in 48+ columns: measured in the error
colour (the paper's red), reconstructed in the accent colour (the paper's blue), cells holding both in
the warning colour. The bottom line is the per-sample squared error as block heights.
"""

from __future__ import annotations

import numpy as np
from rich.console import Group
from rich.text import Text
from textual.widget import Widget

from spear_tui.console.widgets.loss_panel import BLOCKS, fmt_score

BRAILLE_BASE = 0x2800
# dot bit for (x in 0..1, y in 0..3), y from the top
DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def braille_masks(series: np.ndarray, width: int, height: int, lo: float, hi: float) -> np.ndarray:
    """(height, width) int array of braille dot bits for one line series. Pure, for testing."""
    masks = np.zeros((height, width), dtype=np.int32)
    n = len(series)
    if n == 0 or width <= 0 or height <= 0:
        return masks
    xs = np.linspace(0, width * 2 - 1, n)
    span = hi - lo if hi > lo else 1.0
    ys = (1 - (np.clip(series, lo, hi) - lo) / span) * (height * 4 - 1)
    # connect consecutive samples so the line has no gaps
    px = np.interp(np.arange(width * 2), xs, np.arange(n))
    dense = np.interp(px, np.arange(n), ys)
    for x2, y4 in enumerate(np.round(dense).astype(int)):
        masks[y4 // 4, x2 // 2] |= DOTS[y4 % 4][x2 % 2]
    return masks


class DayPlot(Widget):
    DEFAULT_CSS = """
    DayPlot { height: 1fr; min-height: 5; }
    DayPlot > .plot--measured { color: $error; }
    DayPlot > .plot--reconstructed { color: $accent; }
    DayPlot > .plot--both { color: $warning; }
    DayPlot > .plot--error { color: $secondary; }
    DayPlot > .plot--muted { color: $foreground-muted; }
    """
    COMPONENT_CLASSES = {"plot--measured", "plot--reconstructed", "plot--both", "plot--error", "plot--muted"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = ""
        self.measured: np.ndarray | None = None
        self.reconstructed: np.ndarray | None = None
        self.note = "select a day"
        self.why = ""

    def show(self, title: str, measured: object, reconstructed: object, why: str = "") -> None:
        """`why`: one line under the title saying why a flagged day was flagged (inert text)."""
        self.title, self.why = title, why
        self.measured = np.asarray(measured, dtype=np.float64)
        self.reconstructed = np.asarray(reconstructed, dtype=np.float64)
        self.note = ""
        self.refresh()

    def show_note(self, title: str, note: str) -> None:
        self.title, self.note, self.why = title, note, ""
        self.measured = self.reconstructed = None
        self.refresh()

    def render(self) -> Group:
        style = self.get_component_rich_style
        width = max(8, self.size.width or 60)
        height = max(3, self.size.height or 10)
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(self.title, style="bold")
        if self.measured is None or self.reconstructed is None:
            return Group(head, Text(self.note, style=style("plot--muted")))
        m, r = self.measured, self.reconstructed
        finite = np.concatenate([m[np.isfinite(m)], r[np.isfinite(r)]])
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        err = (m - r) ** 2
        head.append("  ")
        head.append("measured", style("plot--measured"))
        head.append(" / ")
        head.append("reconstructed", style("plot--reconstructed"))
        head.append(f"  range {fmt_score(lo)}..{fmt_score(hi)}  MSE {fmt_score(float(np.nanmean(err)))}")
        lines = [head]
        if self.why:
            lines.append(Text(self.why, style=style("plot--muted"), no_wrap=True, overflow="ellipsis"))
        plot_h = max(1, height - 1 - len(lines))
        mm = braille_masks(np.nan_to_num(m, nan=lo), width, plot_h, lo, hi)
        rm = braille_masks(np.nan_to_num(r, nan=lo), width, plot_h, lo, hi)
        for y in range(plot_h):
            line = Text(no_wrap=True, overflow="crop")
            for x in range(width):
                a, b = int(mm[y, x]), int(rm[y, x])
                kind = "both" if a and b else "measured" if a else "reconstructed" if b else ""
                line.append(
                    chr(BRAILLE_BASE | a | b) if (a or b) else " ", style(f"plot--{kind}") if kind else None
                )
            lines.append(line)
        idx = np.linspace(0, len(err) - 1, width).round().astype(int) if len(err) else np.zeros(0, int)
        e = np.nan_to_num(err[idx], nan=0.0) if len(err) else np.zeros(width)
        emax = float(e.max()) if len(e) and e.max() > 0 else 1.0
        bar = "".join(BLOCKS[int(round(v / emax * 8))] for v in e)
        lines.append(Text(bar, style=style("plot--error"), no_wrap=True, overflow="crop"))
        return Group(*lines)
