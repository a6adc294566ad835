"""The stacked LSTM's decision without a net (pure: scores in, flags and alerts out): the warm-up review,
the alert words, and `lstm_alerts` = what the online detector raised."""

from __future__ import annotations

import numpy as np

from spear_tui.detect.lstm import peaks
from spear_tui.detect.lstm.decision import PeakRule, chunk_alert, lstm_alerts, reset_alert, review_alerts
from spear_tui.events import ChunkScored


def _chunk(index: int, score: float, threshold: float | None = None, talkers=("10.0.0.5",)) -> ChunkScored:
    return ChunkScored(
        protocol="modbus", index=index, start=100.0 + index, end=101.0 + index, first_frame=500 * index + 1,
        last_frame=500 * index + 500, score=score, train_loss=score, flagged=threshold is not None,
        threshold=threshold, file=0, talkers=talkers, messages=500,
    )


TRAINED = PeakRule(warmup=8, window=50, skip=0, review=24)


def test_warmup_review_flags_only_what_stands_above_the_first_scores():
    rng = np.random.default_rng(3)
    first = 1.0 + 0.05 * rng.standard_normal(24)
    first[2] = 4.0  # one warm-up chunk far above the rest
    chunks = [_chunk(i, float(s)) for i, s in enumerate(first[:8])]
    alerts = review_alerts(chunks, first, TRAINED, k=6.0)
    med, dev = peaks.warmup_baseline(first)
    assert [a.first_frame for a in alerts] == [c.first_frame for c in chunks if c.score > med + 6.0 * dev]
    assert [a.first_frame for a in alerts] == [1001]
    (a,) = alerts
    assert a.threshold == med + 6.0 * dev and a.detectors == ("lstm",) and a.talkers == ("10.0.0.5",)
    assert "chunk 2 (warm-up, judged after 24 chunks)" in a.reason and "10.0.0.5" in a.reason
    assert a.severity == ("high" if (a.score - med) / dev >= 12.0 else "medium") and a.chunk == 2


def test_warmup_review_needs_enough_scores_and_a_trained_net():
    few = np.array([1.0, 1.1, 9.0])
    assert review_alerts([_chunk(2, 9.0)], few, TRAINED, k=6.0) == []
    first = np.r_[np.linspace(1.0, 1.2, 23), 9.0]
    fresh = PeakRule(warmup=8, skip=4, review=0)  # a fresh net's first losses are it learning
    assert review_alerts([_chunk(0, 9.0)], first, fresh, k=6.0) == []


def test_non_finite_warmup_chunk_is_never_an_alert():
    first = np.linspace(1.0, 1.2, 24)
    assert review_alerts([_chunk(0, float("nan")), _chunk(1, float("inf"))], first, TRAINED, 6.0) == []


def test_chunk_alert_carries_the_chunk_and_its_baseline():
    c = _chunk(30, 3.0, threshold=2.5, talkers=())
    low = chunk_alert(c, k=6.0, med=1.0, dev=0.25)  # 8 SDs: below 2k
    high = chunk_alert(c, k=6.0, med=1.0, dev=0.1)  # 20 SDs
    assert (low.severity, high.severity) == ("medium", "high")
    assert (low.first_frame, low.last_frame, low.threshold, low.score) == (15001, 15500, 2.5, 3.0)
    assert "chunk 30 (500 messages)" in low.reason
    assert "8.0 baseline SDs above the rolling median 1" in low.reason
    assert "threshold 2.5 at k=6" in low.reason and "most messages from unknown" in low.reason


def test_lstm_alerts_are_the_rolling_flags_plus_the_review():
    rng = np.random.default_rng(0)
    scores = 1.0 + 0.02 * rng.standard_normal(80)
    scores[[3, 40, 60]] = [3.0, 2.0, 1.3]
    chunks = [_chunk(i, float(s)) for i, s in enumerate(scores)]
    for k in (3.0, 6.0, 20.0):
        flags, _ = TRAINED.flags(scores, k)
        alerts = lstm_alerts(chunks, TRAINED, k)
        assert sorted(a.chunk for a in alerts if "warm-up" not in a.reason) == list(np.flatnonzero(flags))
        assert [a.chunk for a in alerts if "warm-up" in a.reason] == [3]  # ~100 SDs above the first 24
        assert all(f"at k={k:g}" in a.reason for a in alerts)


def test_reset_alert_is_low_and_unscored():
    a = reset_alert("mqtt", (1.0, 2.0, 10, 20, 1), 11, ("a",), float("nan"), float("inf"), 2)
    assert (a.severity, a.score, a.threshold, a.file, a.first_frame) == ("low", 0.0, 0.0, 1, 10)
    assert "reset 2" in a.reason and "11 messages" in a.reason
