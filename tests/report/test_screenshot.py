"""The report renders in a real browser: headless Chromium screenshot, checked pixel by pixel."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from spear_tui.report import summarise, write_html_report
from spear_tui.report.svg import FLAG, SCORE

CHROMIUM = shutil.which("chromium")


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])


def _screenshot(page: Path, png: Path, profile: Path) -> None:
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1200,900", page.as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert png.exists(), proc.stderr[-2000:]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make test installs Debian's chromium)")
def test_report_screenshot_is_drawn_and_scripts_do_not_run(tmp_path: Path, events) -> None:
    from PIL import Image

    chunks, alerts, days = events
    page = write_html_report(
        tmp_path / "report.html", chunks, alerts, summarise(chunks, alerts.values()), days=days,
        meta={"session": 1}, sources=["/captures/site-a.pcapng", "/captures/site-b.pcapng"],
    )  # fmt: skip
    png = tmp_path / "report.png"
    _screenshot(page, png, tmp_path / "profile")
    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert img.shape == (900, 1200, 3)
    white = (img >= 245).all(axis=2)
    assert 0.02 < 1 - white.mean() < 0.6  # text, tables and plots, not a blank or flooded page
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50  # anti-aliased text and lines
    # the hostile <script> would paint the page background red: the corners stay white
    for y, x in ((2, 2), (2, 1100), (890, 2)):
        assert (img[y, x] >= 245).all(), img[y, x]

    def near(colour: str) -> int:
        return int((np.abs(img - _rgb(colour)).sum(axis=2) < 40).sum())

    assert near(SCORE) > 300  # score polylines were drawn
    assert near(FLAG) > 30  # flagged-chunk markers were drawn
