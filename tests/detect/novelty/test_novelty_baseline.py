"""Baselines: a msgpack checkpoint that reloads to the same alerts; bad files are one-line errors."""

from __future__ import annotations

from pathlib import Path

import msgpack
import pytest
from novelty_tables import capture_table, feed_all

from spear_tui.detect.lstm.checkpoint import load_checkpoint
from spear_tui.detect.novelty import NoveltyDetector
from spear_tui.errors import UserError

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
EXAMPLE = REAL / "bacnet" / "bacnet_example.pcap"


def _key(alerts):
    return [(a.reason, a.first_frame, a.last_frame, a.start, a.end, a.severity, a.score) for a in alerts]


def test_saved_baseline_gives_the_same_alerts_as_continuous_learning(tmp_path: Path) -> None:
    table = capture_table(EXAMPLE, "bacnet")
    cut = float(table["time"].min()) + 10.0
    continuous = feed_all(NoveltyDetector("bacnet", learn_seconds=10.0), table)
    assert continuous  # ReinitializeDevice and Error bursts (see test_novelty_bacnet)

    learner = NoveltyDetector("bacnet", learn_seconds=10.0)
    assert learner.feed(table.filter(table["time"] < cut)) == []
    assert learner.learning
    path = tmp_path / "bacnet_novelty.ckpt"
    learner.save_baseline(path)

    ckpt = load_checkpoint(path, "novelty")  # the project's checkpoint format, never pickle
    assert ckpt.extra["protocol"] == "bacnet"
    assert ckpt.extra["learned"]["messages"] == table.filter(table["time"] < cut).height

    loaded = NoveltyDetector("bacnet", baseline=path)
    assert not loaded.learning
    assert _key(feed_all(loaded, table.filter(table["time"] >= cut))) == _key(continuous)


def test_baseline_of_another_protocol_is_refused(tmp_path: Path) -> None:
    det = NoveltyDetector("bacnet", learn_messages=10)
    det.feed(capture_table(EXAMPLE, "bacnet").head(20))
    path = tmp_path / "b.ckpt"
    det.save_baseline(path)
    with pytest.raises(UserError, match="is a bacnet baseline, not modbus"):
        NoveltyDetector("modbus", baseline=path)


def test_damaged_or_foreign_baselines_are_one_line_user_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"\x80\x04not msgpack at all")
    bad_body = tmp_path / "bad.ckpt"
    bad_body.write_bytes(
        msgpack.packb(
            {
                "format": "spear-tui-checkpoint",
                "version": 1,
                "kind": "novelty",
                "config": {},
                "params": {},
                "extra": {"protocol": "mqtt"},
            }
        )
    )
    for path in (garbage, bad_body, tmp_path / "missing.ckpt"):
        with pytest.raises(UserError) as err:
            NoveltyDetector("mqtt", baseline=path)
        assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_unknown_protocol_and_bad_settings_are_user_errors() -> None:
    with pytest.raises(UserError, match="not 'dnp3'"):
        NoveltyDetector("dnp3")
    with pytest.raises(UserError):
        NoveltyDetector("mqtt", rate_sensitivity=0)


def test_learning_by_message_count_splits_a_batch_at_the_exact_message() -> None:
    table = capture_table(EXAMPLE, "bacnet")
    det = NoveltyDetector("bacnet", learn_messages=100)
    det.feed(table.head(60))
    assert det.learning and det.learned_messages == 60
    det.feed(table.slice(60, 100))
    assert not det.learning and det.learned_messages == 100
