"""One online model's chunk scores: a small bar chart with its threshold marked, and its counters.

The chart shows the last N chunk scores (one column each, newest right) scaled to the largest visible
score or threshold. The per-chunk threshold is drawn as a dotted line where the bar stays below it,
so a peak crossing the threshold is visible at a glance, and flagged chunks are drawn in the error colour.
"""

from __future__ import annotations

import math

import numpy as np
from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from spear_tui.console.state import ModelTrack

BLOCKS = " ▁▂▃▄▅▆▇█"


def fmt_score(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    if v == 0 or 1e-3 <= abs(v) < 1e4:
        return f"{v:.4g}"
    return f"{v:.2e}"


def chart_rows(
    scores: np.ndarray, thresholds: np.ndarray, flags: np.ndarray, width: int, height: int
) -> list[list[tuple[str, str]]]:
    """Cells (char, kind) row by row, top first. Pure, for testing.

    kind ∈ {"ok", "flag", "thr", "ok-thr", ""}: "thr" is the dotted threshold line where the bar does not
    reach its row; "ok-thr" is a bar cell in the threshold's row that stays below the threshold (drawn on
    the threshold colour, so the line stays visible through low bars)."""
    n = min(len(scores), width)
    s, t, f = scores[-n:], thresholds[-n:], flags[-n:]
    finite_t = t[np.isfinite(t)]
    # Scale to the scored-with-threshold part: warm-up losses (huge while the net learns) clip at the top
    # instead of flattening every later peak.
    scaled = s[np.isfinite(t)] if len(finite_t) else s
    vmax = max(
        float(np.nanmax(scaled)) if len(scaled) else 0.0, float(finite_t.max()) if len(finite_t) else 0.0
    )
    vmax = vmax if vmax > 0 else 1.0
    levels = height * 8
    rows: list[list[tuple[str, str]]] = [[(" ", "")] * width for _ in range(height)]
    for col in range(n):
        x = width - n + col
        v = s[col]
        eighths = 0 if not math.isfinite(v) else int(round(min(v, vmax) / vmax * levels))
        if math.isfinite(v) and v > 0 and eighths == 0:
            eighths = 1
        kind = "flag" if f[col] else "ok"
        thr_row = None
        if math.isfinite(t[col]):
            thr_eighths = min(levels - 1, int(t[col] / vmax * levels))
            thr_row = thr_eighths // 8  # row index from the bottom
        for r in range(height):  # r from the bottom
            fill = min(8, max(0, eighths - r * 8))
            row = rows[height - 1 - r]
            if thr_row == r and fill == 0:
                row[x] = ("┈", "thr")
            elif thr_row == r and eighths <= thr_eighths and kind == "ok":
                row[x] = (BLOCKS[fill], "ok-thr")
            elif fill > 0:
                row[x] = (BLOCKS[fill], kind)
    return rows


class LossPanel(Widget):
    """Chunk-score chart + `last · thr · msgs/s · chunks · flagged · alerts` for one ModelTrack."""

    DEFAULT_CSS = """
    LossPanel {
        height: 4;
        width: 1fr;
    }
    LossPanel > .loss--title { text-style: bold; color: $accent; }
    LossPanel > .loss--ok { color: $success; }
    LossPanel > .loss--flag { color: $error; text-style: bold; }
    LossPanel > .loss--thr { color: $warning; }
    LossPanel > .loss--muted { color: $foreground-muted; }
    """
    COMPONENT_CLASSES = {"loss--title", "loss--ok", "loss--flag", "loss--thr", "loss--muted"}

    def __init__(self, track: ModelTrack, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.track = track

    def header(self) -> Text:
        tr = self.track
        style = self.get_component_rich_style
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{tr.protocol.upper()} {tr.detector}", style("loss--title"))
        text.append(f"  last {fmt_score(tr.last_score)}")
        text.append(f"  thr {fmt_score(tr.threshold)}", style("loss--thr"))
        text.append(f"  {tr.rate:,.0f} msg/s  chunks {tr.scores.n:,}")
        flagged = tr.flagged
        text.append(f"  flagged {flagged}", style("loss--flag") if flagged else None)
        text.append(f"  alerts {tr.alerts}")
        if tr.scores.n and tr.scores.n <= tr.warmup:
            text.append("  warm-up", style("loss--muted"))
        return text

    def render(self) -> Group:
        width = max(1, self.size.width or 60)
        height = max(1, (self.size.height or 4) - 1)
        tr = self.track
        lines = [self.header()]
        if tr.scores.n == 0:
            lines.append(
                Text(
                    "waiting for the first scored chunk…", style=self.get_component_rich_style("loss--muted")
                )
            )
            return Group(*lines)
        rows = chart_rows(tr.scores.view(), tr.current_thresholds(), tr.current_flags(), width, height)
        styles = {k: self.get_component_rich_style(f"loss--{k}") for k in ("ok", "flag", "thr")}
        thr_colour = styles["thr"].color
        styles["ok-thr"] = styles["ok"] + Style(bgcolor=thr_colour.name if thr_colour else "yellow")
        for row in rows:
            line = Text(no_wrap=True, overflow="crop")
            run, run_kind = "", ""
            for ch, kind in row:  # merge runs of one kind: a handful of spans per line
                if kind != run_kind and run:
                    line.append(run, styles.get(run_kind))
                    run = ""
                run += ch
                run_kind = kind
            line.append(run, styles.get(run_kind))
            lines.append(line)
        return Group(*lines)
