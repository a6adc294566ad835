"""NaN/Inf in the online LSTM: the detector resets itself and reports it, and its score series stays
finite. Driven with real MQTT messages from a recorded capture (first 1,500 messages)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from spear_tui.events import Alert, ChunkScored

from .cli import ROOT, need_tshark

CAPTURE = ROOT / "tests" / "capture" / "data" / "mqtt_burst.pcapng"


@pytest.fixture(scope="module")
def messages() -> pl.DataFrame:
    need_tshark()
    from spear_tui.commands.experiment import load_messages

    t = load_messages(CAPTURE, "mqtt", 1500, ["tcp.port==43253,mqtt"])
    if t.height < 1500:
        pytest.skip(f"{CAPTURE} has only {t.height} MQTT messages")
    return t


def _nan_params(det) -> dict:
    import jax

    params = det.model.state_dict()["params"]
    return {"params": jax.tree.map(lambda a: np.full_like(np.asarray(a), np.nan), params)}


def test_poisoned_weights_reset_and_alert(messages: pl.DataFrame) -> None:
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    det = OnlineLSTMDetector("mqtt", seed=0)
    first = det.feed(messages.slice(0, 500))
    assert [e for e in first if isinstance(e, ChunkScored)] and math.isfinite(det.scores[-1])

    det.model.load_state_dict(_nan_params(det))  # weights gone NaN (what a diverged step leaves behind)
    events = det.feed(messages.slice(500, 500))
    resets = [e for e in events if isinstance(e, Alert) and "non-finite" in e.reason]
    assert len(resets) == 1 and det.resets == 1
    assert resets[0].detector == "lstm" and resets[0].protocol == "mqtt"
    assert not [e for e in events if isinstance(e, ChunkScored)]  # the poisoned chunk is not scored
    assert all(math.isfinite(s) for s in det.scores)

    after = det.feed(messages.slice(1000, 500))  # recovered: scores again, finitely
    scored = [e for e in after if isinstance(e, ChunkScored)]
    assert len(scored) == 1 and math.isfinite(scored[0].score) and math.isfinite(scored[0].train_loss)
    assert np.all(np.isfinite(np.asarray(det.reflag()[1], dtype=float)[~np.isnan(det.reflag()[1])]))


def test_absurd_lengths_never_give_a_nan_score(messages: pl.DataFrame) -> None:
    """Largest representable lengths (a hostile peer can claim them) through the real feature path."""
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    big = messages.slice(0, 1000).with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(pl.lit(np.iinfo(np.int32).max, pl.Int32))
        .otherwise(pl.col("length"))
        .alias("length")
    )
    det = OnlineLSTMDetector("mqtt", seed=0)
    events = det.feed(big)
    scored = [e for e in events if isinstance(e, ChunkScored)]
    reset = [e for e in events if isinstance(e, Alert) and "non-finite" in e.reason]
    assert len(scored) + len(reset) == 2
    assert all(math.isfinite(e.score) and math.isfinite(e.train_loss) for e in scored)


def test_the_chunk_queued_behind_a_reset_is_redone_on_the_reset_weights(messages: pl.DataFrame) -> None:
    """Chunks are queued two deep, so when a chunk comes back non-finite the next one has already been
    queued on the poisoned weights: it must be done again from the reset state, exactly as a fresh
    detector would do it."""
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    det = OnlineLSTMDetector("mqtt", seed=0)
    det.model.load_state_dict(_nan_params(det))
    events = det.feed(messages.slice(0, 1000))  # chunk 0 poisoned, chunk 1 queued behind it
    resets = [e for e in events if isinstance(e, Alert) and "non-finite" in e.reason]
    scored = [e for e in events if isinstance(e, ChunkScored)]
    assert len(resets) == 1 and len(scored) == 1 and resets[0].last_frame <= scored[0].first_frame

    fresh = OnlineLSTMDetector("mqtt", seed=0)  # the state a reset goes back to
    fresh.feed(messages.slice(500, 500))
    assert det.scores == fresh.scores and det.train_losses == fresh.train_losses
