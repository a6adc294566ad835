"""Rendering of the shuffle experiment: a plain-text plot for the terminal and a dependency-free SVG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spear_tui.commands.experiment import ModeResult, ShuffleResult


def terminal_plot(res: ShuffleResult, mode: ModeResult, height: int = 10, width: int = 100) -> str:
    """A plain-text plot of one mode's score series: '*' score, '-' threshold, F/P shuffled chunks."""
    import numpy as np  # here, not at import: every command's start-up imports this module

    s = np.asarray(mode.scores)
    t = np.asarray([np.nan if v is None else v for v in mode.thresholds])
    n = len(s)
    cols = min(n, width)
    bins = np.array_split(np.arange(n), cols)
    top = float(np.nanmax(np.concatenate([s, t[~np.isnan(t)]]))) if n else 1.0
    bot = float(np.nanmin(s)) if n else 0.0
    span = max(top - bot, 1e-9)

    def row(v: float) -> int:
        return int(round((v - bot) / span * (height - 1)))

    grid = [[" "] * cols for _ in range(height)]
    marks = [" "] * cols
    for c, b in enumerate(bins):
        tv = np.nanmax(t[b]) if not np.all(np.isnan(t[b])) else np.nan
        if not np.isnan(tv):
            grid[height - 1 - min(row(tv), height - 1)][c] = "-"
        grid[height - 1 - row(float(s[b].max()))][c] = "*"
        if res.full_at in b:
            marks[c] = "F"
        elif res.partial_at in b:
            marks[c] = "P"
        elif any(i in mode.flagged for i in b):
            marks[c] = "!"
    lines = [f"{top:8.3f} |" + "".join(grid[0])]
    lines += ["         |" + "".join(r) for r in grid[1:-1]]
    lines.append(f"{bot:8.3f} |" + "".join(grid[-1]))
    lines.append("          " + "".join(marks))
    return "\n".join(lines)


def write_svg(res: ShuffleResult, path: Path) -> None:
    """One panel per mode: score polyline, threshold, shuffled chunks shaded. Plain SVG, no deps."""
    import numpy as np

    w, ph, pad = 900, 220, 50
    h = pad + len(res.modes) * (ph + pad)
    colours = {"flow": "#1f77b4", "direction": "#2ca02c", "paper": "#d62728"}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="monospace" '
        f'font-size="12"><rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{pad}" y="25" font-size="14">shuffle experiment: {res.protocol}, {res.messages} messages, '
        f"{res.chunks} chunks of 500; F = fully shuffled chunk {res.full_at}, P = 50/500 shuffled chunk "
        f"{res.partial_at}; k = {res.k:g}</text>",
    ]
    n = res.chunks
    for j, m in enumerate(res.modes):
        y0 = pad + j * (ph + pad)
        s = np.asarray(m.scores)
        t = [v for v in m.thresholds if v is not None]
        lo, hi = float(s.min()), float(max(s.max(), max(t) if t else s.max()))
        span = max(hi - lo, 1e-9)

        def xy(i: int, v: float, y0: int = y0, lo: float = lo, span: float = span) -> tuple[float, float]:
            return pad + i * (w - 2 * pad) / max(n - 1, 1), y0 + ph - (v - lo) / span * ph

        for i, lab in ((res.full_at, "F"), (res.partial_at, "P")):
            x, _ = xy(i, lo)
            out.append(f'<rect x="{x - 4:.1f}" y="{y0}" width="8" height="{ph}" fill="#ffe08a"/>')
            out.append(f'<text x="{x - 4:.1f}" y="{y0 + ph + 14}">{lab}</text>')
        out.append(
            f'<rect x="{pad}" y="{y0}" width="{w - 2 * pad}" height="{ph}" fill="none" stroke="#999"/>'
        )
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(i, v) for i, v in enumerate(s)))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colours.get(m.mode, "black")}"/>')
        tp = " ".join(
            f"{a:.1f},{b:.1f}" for a, b in (xy(i, v) for i, v in enumerate(m.thresholds) if v is not None)
        )
        if tp:
            out.append(f'<polyline points="{tp}" fill="none" stroke="#777" stroke-dasharray="4 3"/>')
        for i in m.flagged:
            a, b = xy(i, s[i])
            out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="red"/>')
        out.append(
            f'<text x="{pad}" y="{y0 - 6}">mode {m.mode}: full {m.full_height:.1f} SDs, partial '
            f"{m.partial_height:.1f} SDs, false alarms {len(m.false_alarms)} (loss {lo:.3g}..{hi:.3g})</text>"
        )
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
