"""ProtocolSummary: incremental over batches equals one pass; counts agree with the table; bounded."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import polars as pl
import pytest

from spear_tui.capture import summary as summary_mod
from spear_tui.capture.source import open_capture_files
from spear_tui.capture.summary import CaptureSummary, ProtocolSummary

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
BURST = Path(__file__).parent / "data" / "mqtt_burst.pcapng"


@functools.cache
def batches():
    return list(open_capture_files([BURST], decode_as=["tcp.port==43253,mqtt"], batch_messages=500).batches())


def test_incremental_equals_single_pass_and_matches_the_table() -> None:
    assert len(batches()) > 3
    table = pl.concat([b.tables["mqtt"] for b in batches() if "mqtt" in b.tables])
    inc = CaptureSummary()
    for b in batches():
        inc.update(b)
    one = ProtocolSummary("mqtt")
    one.update(table)
    doc = inc.to_json()["protocols"]["mqtt"]
    assert doc == one.to_json()
    assert doc["messages"] == table.height
    expected = table.group_by("msgtype").len()
    assert doc["type_codes"] == {str(k): v for k, v in zip(expected["msgtype"], expected["len"], strict=True)}
    assert {c["id"] for c in doc["clients"]} == {f"spear-client-{i}" for i in range(4)}
    assert doc["distinct_topics"] == table["topic"].drop_nulls().n_unique()
    assert inc.to_json()["other_frames"] == sum(b.other_frames for b in batches())


def test_distinct_keys_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(summary_mod, "MAX_KEYS", 5)
    s = ProtocolSummary("mqtt")
    for b in batches():
        if "mqtt" in b.tables:
            s.update(b.tables["mqtt"])
    assert len(s.topics) <= 5 and s.to_json()["distinct_topics"] <= 5
    assert s.messages == sum(b.tables["mqtt"].height for b in batches() if "mqtt" in b.tables)
