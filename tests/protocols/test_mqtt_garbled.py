"""A frame whose MQTT type tshark's text gives as garbage: decoded with its type null, never an error,
and every other message as without it (the per-frame counts treat a null flag as not set)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from spear_tui.capture.stream import parse_lines
from spear_tui.protocols import mqtt
from spear_tui.protocols.fields import tshark_field_args

SAMPLE = Path(__file__).resolve().parents[2] / "sample_captures" / "mqtt_shuffle.pcapng"


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_a_garbled_message_type_is_null_and_the_rest_decode_as_before():
    out = subprocess.run(
        ["tshark", "-r", str(SAMPLE), "-n", *tshark_field_args()], capture_output=True, check=True
    ).stdout
    raw = parse_lines(b"\n".join(out.split(b"\n")[:400]) + b"\n")
    row = raw["mqtt_msgtype"].is_not_null().arg_true()[5]
    assert "\x1e" not in raw["mqtt_msgtype"][row]  # one message in that frame: it is the one garbled
    at_row = pl.int_range(pl.len()) == row
    garbled = pl.when(at_row).then(pl.lit("zz")).otherwise(pl.col("mqtt_msgtype"))
    damaged = raw.with_columns(mqtt_msgtype=garbled)
    want, _ = mqtt.decode(raw, 0)
    got, bad = mqtt.decode(damaged, 0)
    frame = int(raw["frame"][row])
    assert got.height == want.height and bad.height == 0
    assert got.filter(pl.col("frame") == frame)["msgtype"].to_list() == [None]
    assert got.filter(pl.col("frame") != frame).equals(want.filter(pl.col("frame") != frame))
