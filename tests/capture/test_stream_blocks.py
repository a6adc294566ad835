"""A file's tshark output is cut into blocks of exactly `max_lines` frames (the last one holds the rest),
whatever sizes the pipe's reads come in: the batches, and so the order of every event after them, are
the same in every run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spear_tui.capture.stream import TsharkStream, _after_line
from spear_tui.cli import main

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
SAMPLES = Path(__file__).parents[2] / "sample_captures"


def test_after_line() -> None:
    data = b"a\nbb\n\nccc\nd"
    assert [_after_line(data, n) for n in (1, 2, 3, 4)] == [2, 5, 6, 10]


def test_file_blocks_hold_exactly_max_lines_frames() -> None:
    stream = TsharkStream(["-r", str(SAMPLES / "modbus_incidents.pcapng")], live=False)
    sizes = []
    try:
        for i, block in enumerate(stream.blocks(1000)):
            sizes.append(block.height)
            if i == 3:
                stream.max_lines = 777  # the source adapts the size as it goes
    finally:
        stream.close()
    assert len(sizes) > 6
    assert sizes[:4] == [1000] * 4 and set(sizes[4:-1]) == {777} and 0 < sizes[-1] <= 777


def test_scan_json_is_the_same_in_every_run(capsys: pytest.CaptureFixture) -> None:
    """Chunks, alert ids and incident ids follow the order events arrive in: with every batch the same,
    two runs over captures of three protocols print the same document."""
    files = [str(SAMPLES / f"{p}_incidents.pcapng") for p in ("mqtt", "modbus", "bacnet")]
    docs = []
    for _ in range(2):
        main(["scan", "--json", *files])
        docs.append(json.loads(capsys.readouterr().out))
    assert docs[0]["incidents"] and docs[0] == docs[1]
