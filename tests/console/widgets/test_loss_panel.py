from __future__ import annotations

import numpy as np

from spear_tui.console.widgets.loss_panel import chart_rows, fmt_score


def test_chart_marks_peak_flag_and_threshold() -> None:
    scores = np.array([1.0, 1.0, 8.0, 1.0])
    thr = np.array([np.nan, 4.0, 4.0, 4.0])
    flags = np.array([False, False, True, False])
    rows = chart_rows(scores, thr, flags, width=6, height=4)  # vmax 8 -> 32 levels, thr at level 16: row 2
    assert len(rows) == 4 and all(len(r) == 6 for r in rows)
    col = [rows[r][4] for r in range(4)]  # the peak, newest-but-one column (right aligned)
    assert all(kind == "flag" for _, kind in col) and col[0][0] == "█"
    # the threshold line is in row index 1 from the top (row 2 from the bottom) for the later columns
    assert rows[1][3][1] == "thr" and rows[1][5][1] == "thr"
    assert rows[1][2][1] == ""  # no threshold during warm-up (NaN)
    assert rows[0][0] == (" ", "") and rows[0][1] == (" ", "")  # 2 columns of padding on the left


def test_fmt_score() -> None:
    assert fmt_score(None) == "—" and fmt_score(float("nan")) == "—"
    assert fmt_score(0.012345) == "0.01235" and fmt_score(1.5e-6) == "1.50e-06"
