"""A fresh net's initial weights come from flax's initialisation whether or not they were cached on disk."""

from __future__ import annotations

import numpy as np
import pytest

from spear_tui.detect.lstm import fresh_init
from spear_tui.detect.lstm.stacked_lstm import LSTMConfig, StackedLSTM, configure_xla

configure_xla()


@pytest.fixture
def cold(tmp_path, monkeypatch):
    """An empty on-disk cache and an empty in-process one."""
    monkeypatch.setenv("SPEAR_TUI_INIT_CACHE", str(tmp_path))
    monkeypatch.setattr(fresh_init, "_FRESH", {})
    return tmp_path


def _bits(flat) -> np.ndarray:
    return np.asarray(flat).view(np.uint32)


def test_cold_then_cached_weights_are_flax_initialisation_bit_for_bit(cold, monkeypatch):
    cfg = LSTMConfig()
    expected = fresh_init._make(cfg, 3)  # flax's op-by-op initialisation, what a net started from before
    first = fresh_init.fresh_params(cfg, 3)
    assert np.array_equal(_bits(first), _bits(expected))
    files = list(cold.glob("*.npy"))
    assert len(files) == 1 and "seed3" in files[0].name
    # A new process: nothing in memory, the file is read and flax is not run again.
    monkeypatch.setattr(fresh_init, "_FRESH", {})
    monkeypatch.setattr(fresh_init, "_make", lambda *a: pytest.fail("initialised again despite the cache"))
    again = fresh_init.fresh_params(cfg, 3)
    assert np.array_equal(_bits(again), _bits(expected))


def test_a_net_scores_the_same_from_a_cold_and_a_warm_cache(cold, monkeypatch):
    cfg = LSTMConfig()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(cfg.batch, cfg.seq_len, cfg.features)).astype(np.float32)
    y = rng.normal(size=x.shape).astype(np.float32)
    cold_scores = StackedLSTM(cfg, 5).run_chunk(x, y, 3)
    monkeypatch.setattr(fresh_init, "_FRESH", {})
    warm_scores = StackedLSTM(cfg, 5).run_chunk(x, y, 3)
    assert cold_scores == warm_scores


@pytest.mark.parametrize("content", [b"not a numpy file", "short", "nan"])
def test_a_damaged_cache_file_is_made_again(cold, monkeypatch, content):
    cfg = LSTMConfig()
    expected = fresh_init._make(cfg, 0)
    path = fresh_init._file(cfg, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    if content == "short":
        np.save(path, expected[:-1])
    elif content == "nan":
        np.save(path, np.full_like(expected, np.nan))
    else:
        path.write_bytes(content)
    got = fresh_init.fresh_params(cfg, 0)
    assert np.array_equal(_bits(got), _bits(expected))
    assert np.array_equal(_bits(np.load(path)), _bits(expected))  # rewritten


def test_seeds_get_their_own_weights(cold):
    cfg = LSTMConfig()
    a, b = fresh_init.fresh_params(cfg, 0), fresh_init.fresh_params(cfg, 1)
    assert not np.array_equal(np.asarray(a), np.asarray(b))
    assert len(list(cold.glob("*.npy"))) == 2


def test_an_unwritable_cache_only_costs_the_initialisation(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SPEAR_TUI_INIT_CACHE", str(blocker / "sub"))  # cannot be a directory
    monkeypatch.setattr(fresh_init, "_FRESH", {})
    cfg = LSTMConfig()
    assert np.array_equal(_bits(fresh_init.fresh_params(cfg, 0)), _bits(fresh_init._make(cfg, 0)))
