import pickle

import msgpack
import numpy as np
import pytest

from spear_tui.detect.lstm.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from spear_tui.errors import UserError


def _ckpt() -> Checkpoint:
    rng = np.random.default_rng(0)
    return Checkpoint(
        kind="stacked_lstm",
        config={"layers": 6, "units": 10, "name": "mqtt"},
        params={"lstm": {"0": {"kernel": rng.normal(size=(2, 40)).astype(np.float32)}}, "b": np.arange(3)},
        extra={"mean": np.array([1.5, 2.5]), "count": 7},
    )


def test_round_trip_keeps_arrays_and_config(tmp_path):
    path = tmp_path / "m.ckpt"
    original = _ckpt()
    save_checkpoint(path, original)
    loaded = load_checkpoint(path, "stacked_lstm")
    assert loaded.config == original.config
    np.testing.assert_array_equal(
        loaded.params["lstm"]["0"]["kernel"], original.params["lstm"]["0"]["kernel"]
    )
    assert loaded.params["lstm"]["0"]["kernel"].dtype == np.float32
    np.testing.assert_array_equal(loaded.params["b"], np.arange(3))
    assert loaded.extra["count"] == 7
    assert not list(tmp_path.glob(".m.ckpt.*")), "temporary file left behind"


def test_wrong_kind_is_refused(tmp_path):
    path = tmp_path / "m.ckpt"
    save_checkpoint(path, _ckpt())
    with pytest.raises(UserError, match="expected 'seq2seq'"):
        load_checkpoint(path, "seq2seq")


def test_version_mismatch_is_refused(tmp_path):
    path = tmp_path / "m.ckpt"
    path.write_bytes(msgpack.packb({"format": "spear-tui-checkpoint", "version": 99, "kind": "seq2seq"}))
    with pytest.raises(UserError, match="version 99"):
        load_checkpoint(path, "seq2seq")


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00\x01garbage" * 10, b"not a checkpoint\n", pickle.dumps({"format": "spear-tui-checkpoint"})],
    ids=["empty", "random", "text", "pickle"],
)
def test_corrupt_files_are_one_line_errors(tmp_path, payload):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(payload)
    with pytest.raises(UserError) as info:
        load_checkpoint(path, "stacked_lstm")
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_truncated_checkpoint_is_refused(tmp_path):
    path = tmp_path / "m.ckpt"
    save_checkpoint(path, _ckpt())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError):
        load_checkpoint(path, "stacked_lstm")


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="cannot read checkpoint"):
        load_checkpoint(tmp_path / "nope.ckpt", "stacked_lstm")
