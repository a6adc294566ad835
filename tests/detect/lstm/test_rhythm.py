"""The per-talker rhythm feature: regular senders give ~0; an interleaving change of the same messages
breaks every sender's rhythm (pure numpy, then on the recorded real-client shuffle capture)."""

import json
from pathlib import Path

import numpy as np
import pytest

from spear_tui.detect.lstm.features import RHYTHM_CLIP, rhythm_feature

ROOT = Path(__file__).resolve().parents[3]
SHUFFLE = ROOT / "sample_captures" / "mqtt_shuffle.pcapng"


def test_regular_senders_have_no_rhythm_and_a_shuffle_breaks_it():
    # three senders every 0.1 s, interleaved in a fixed cycle; then the same slots in shuffled order
    rng = np.random.default_rng(0)
    slots = np.arange(300) * 0.1 / 3
    cycle = np.tile([0, 1, 2], 100)
    normal = rhythm_feature(cycle, slots)
    assert np.abs(normal).max() < 1e-9
    shuffled = rhythm_feature(rng.permutation(cycle), slots)
    assert np.abs(shuffled).mean() > 0.5
    assert np.abs(shuffled).max() <= RHYTHM_CLIP


def test_first_two_of_a_key_and_server_messages_are_zero():
    key = np.array([5, 5, 5, 7, 7, 5])
    t = np.array([0.0, 1.0, 2.0, 2.5, 3.0, 4.0])
    r = rhythm_feature(key, t)
    assert r[0] == r[1] == r[3] == r[4] == 0.0
    assert r[2] == pytest.approx(0.0, abs=1e-9)  # gap 1 after gap 1
    assert r[5] == pytest.approx(np.log((2 + 1e-3) / (1 + 1e-3)))
    srv = np.array([False, False, False, False, False, True])
    assert rhythm_feature(key, t, srv)[5] == 0.0


@pytest.mark.slow
@pytest.mark.skipif(not SHUFFLE.exists(), reason="recorded shuffle capture missing")
def test_recorded_shuffle_windows_break_the_publishers_rhythm():
    from spear_tui.commands.experiment import load_messages
    from spear_tui.detect.lstm.features import mqtt_client_ids, prepare

    table = load_messages(SHUFFLE, "mqtt", 10**12, [])
    prep = prepare(table, "mqtt", mqtt_client_ids(table), timing=True)
    plain = prepare(table, "mqtt", mqtt_client_ids(table))
    assert prep.raw.shape == (table.height, 3) and np.array_equal(prep.raw[:, :2], plain.raw)
    rhythm = np.abs(prep.raw[:, 2])
    labels = json.loads(SHUFFLE.with_name("mqtt_shuffle.labels.json").read_text())["incidents"]
    inside = {inc["kind"]: (prep.time >= inc["start"]) & (prep.time <= inc["end"]) for inc in labels}
    normal = ~(inside["shuffle_full"] | inside["shuffle_10pct"])
    publish = table.get_column("msgtype").to_numpy() == 3
    base = rhythm[normal & publish].mean()
    assert base < 0.1  # real clients on a schedule: steady
    assert rhythm[inside["shuffle_full"] & publish].mean() > 5 * base
    assert rhythm[inside["shuffle_10pct"] & publish].mean() > 1.5 * base


@pytest.mark.slow
@pytest.mark.skipif(not SHUFFLE.exists() or not (ROOT / "sample_captures" / "normal.pcapng.gz").exists(),
                    reason="recorded captures missing")
def test_flow_with_rhythm_flags_the_recorded_full_shuffle():
    """The recorded capture (real broker, real paho clients): a detector pretrained on the normal day
    like the shipped models, flow mode plus the rhythm feature, flags the fully shuffled window with at
    most one false alarm in the capture (the warm-up review included, as the detector runs it)."""
    from spear_tui.commands.experiment import load_messages, score_incidents

    normal = load_messages(ROOT / "sample_captures" / "normal.pcapng.gz", "mqtt", 10**12, [])
    table = load_messages(SHUFFLE, "mqtt", 10**12, [])
    labels = json.loads(SHUFFLE.with_name("mqtt_shuffle.labels.json").read_text())["incidents"]
    r = score_incidents(table, labels, "mqtt", mode="flow", seed=0, k=None, pretrain=normal, timing=True)
    full = next(x for x in r["incidents"] if x["kind"] == "shuffle_full")
    assert full["flagged"] and full["height"] > 6, r
    assert len(r["false_alarms"]) <= 1, r
