"""The rhythm view's scores do not depend on how the stream was batched: each talker's rhythm continues
across the tables the engine hands over (tshark's pace decides those, so without the carry the same
capture scored differently from run to run)."""

from pathlib import Path

import numpy as np
import pytest

from spear_tui.detect.lstm.features import rhythm_feature
from spear_tui.detect.lstm.rhythm_carry import RhythmCarry

ROOT = Path(__file__).resolve().parents[3]
SHUFFLE = ROOT / "sample_captures" / "mqtt_shuffle.pcapng"
CKPT = ROOT / "models" / "mqtt_rhythm.msgpack"


def _keys(codes: np.ndarray, msgtype: np.ndarray, fs: np.ndarray) -> np.ndarray:
    return (codes * 512 + (msgtype + 1) % 256) * 2 + fs


def test_split_tables_give_the_whole_tables_rhythm():
    rng = np.random.default_rng(1)
    n = 400
    t = np.cumsum(rng.exponential(0.05, n))
    codes = rng.integers(0, 4, n)
    msgtype = np.where(rng.random(n) < 0.8, 3, 12)
    fs = np.zeros(n, np.int64)
    names = ["a", "b", "c", "d"]
    whole = rhythm_feature(_keys(codes, msgtype, fs), t, fs.astype(bool))
    carry = RhythmCarry()
    parts = []
    for lo, hi in ((0, 7), (7, 150), (150, 151), (151, 400)):
        # each table has its own talker codes (as features._codes makes them): reverse them in every other
        flip = lo % 2 == 1
        c = (3 - codes[lo:hi]) if flip else codes[lo:hi]
        nm = names[::-1] if flip else names
        parts.append(carry.feature(_keys(c, msgtype[lo:hi], fs[lo:hi]), nm, t[lo:hi], fs[lo:hi].astype(bool)))
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-12)
    # without the carry, every table's first messages of each talker lose their rhythm: not the same
    assert not np.allclose(
        np.concatenate([rhythm_feature(_keys(codes[a:b], msgtype[a:b], fs[a:b]), t[a:b]) for a, b in
                        ((0, 7), (7, 150), (150, 151), (151, 400))]), whole)  # fmt: skip


def test_a_new_pass_over_the_same_table_starts_fresh():
    """Offline training feeds the same normal table every epoch: time going back is not a gap."""
    t = np.arange(10) * 0.1
    key = _keys(np.zeros(10, np.int64), np.full(10, 3), np.zeros(10, np.int64))
    carry = RhythmCarry()
    first = carry.feature(key, ["a"], t, np.zeros(10, bool))
    again = carry.feature(key, ["a"], t, np.zeros(10, bool))
    np.testing.assert_array_equal(first, again)


@pytest.mark.slow
@pytest.mark.skipif(not SHUFFLE.exists() or not CKPT.exists(), reason="capture or rhythm model missing")
def test_rhythm_view_scores_do_not_depend_on_batching():
    from spear_tui.commands.experiment import load_messages
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    table = load_messages(SHUFFLE, "mqtt", 10**12, []).slice(0, 3300)

    def scores(sizes: list[int]) -> list[float]:
        det = OnlineLSTMDetector("mqtt", checkpoint=CKPT, name="rhythm")
        lo = 0
        for size in sizes:
            det.feed(table.slice(lo, size))
            lo += size
        det.feed(table.slice(lo))
        det.flush()
        return det.scores

    one = scores([])
    np.testing.assert_allclose(scores([333, 1200, 17, 900]), one, rtol=1e-5)
    np.testing.assert_allclose(scores([501, 499, 1000, 250]), one, rtol=1e-5)


def test_the_carry_stays_bounded_however_many_talkers_come_and_go(monkeypatch) -> None:
    """A flood of one-message talkers (random client ids) must not grow the carry without bound; the
    talkers heard from last are the ones kept."""
    import numpy as np

    from spear_tui.detect.lstm import rhythm_carry

    monkeypatch.setattr(rhythm_carry, "MAX_KEYS", 100)
    carry = rhythm_carry.RhythmCarry()
    for batch in range(10):
        names = [f"bot-{batch}-{i}" for i in range(40)]
        key = (np.arange(40) * 512 + 3) * 2
        carry.feature(key, names, batch * 100.0 + np.arange(40.0), np.zeros(40, bool))
        assert len(carry.last) <= 100
    assert ("bot-9-39", 3, 0) in carry.last and ("bot-0-0", 3, 0) not in carry.last
