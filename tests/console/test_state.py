"""ConsoleState: events fold in, and re-flagging from stored scores matches the detector's rule."""

from __future__ import annotations

import numpy as np

from spear_tui.console.state import ConsoleState
from spear_tui.detect.lstm.peaks import flag_scores
from spear_tui.events import Alert, DayScored, MessagesSeen, PacketsSkipped

from .harness import chunk_events, peak_series


def test_reflag_matches_detector_rule_and_moves_with_k() -> None:
    st = ConsoleState()
    scores = peak_series(80, peak=50)
    scores[60] = scores[59] * 1.6  # a smaller bump that only a sensitive k flags
    st.apply(chunk_events("mqtt", scores, warmup=8))
    tr = st.tracks[("mqtt", "lstm")]
    assert tr.warmup == 8
    counts = {}
    for k in (2.0, 5.0, 50.0):
        counts[k] = tr.reflag(k)
        want, _ = flag_scores(scores, k, 8)
        assert counts[k] == int(want.sum())
        assert np.array_equal(tr.current_flags(), want)
    assert counts[2.0] >= counts[5.0] >= counts[50.0]
    assert counts[2.0] > counts[50.0]
    assert tr.current_flags()[50] == (scores[50] > tr.current_thresholds()[50])


def test_engine_flags_shown_until_the_user_moves_k() -> None:
    st = ConsoleState()
    st.apply(chunk_events("modbus", [1.0, 1.0, 1.0, 9.0], warmup=2, flagged_at=(3,), threshold=2.0))
    tr = st.tracks[("modbus", "lstm")]
    assert tr.flagged == 1 and tr.threshold == 2.0 and tr.k is None


def test_counts_rate_and_other_events() -> None:
    st = ConsoleState()
    changed = st.apply(
        [
            MessagesSeen("mqtt", 100, 0.0, 1.0),
            MessagesSeen("mqtt", 300, 1.0, 2.0),
            PacketsSkipped("mqtt", 3, "malformed"),
            Alert("mqtt", "novelty", 0, 1, 1, 2, 1.0, 0.5, "new client", ("c",)),
            DayScored("active_power", "2024-01-01", 0.2, True, True, 0.1),
        ]
    )
    assert changed >= {"messages", "alerts", "days"}
    tr = st.tracks[("mqtt", "lstm")]
    assert tr.messages == 400 and st.skipped == {"mqtt": 3}
    assert tr.rate == 200.0  # 400 messages over 2 s of capture time
    assert st.alerts_total == 1


def test_meter_reflag() -> None:
    st = ConsoleState()
    mses = [0.01, 0.02, 0.5, 0.03, 0.2]
    st.apply([DayScored("p", f"2024-01-0{i + 1}", m, m > 0.1, True, 0.1) for i, m in enumerate(mses)])
    m = st.meters["p"]
    assert int(m.flags().sum()) == 2
    assert m.reflag(0.025) == sum(x > 0.025 for x in mses)
    assert m.current_threshold() == 0.025


def test_reflag_uses_the_rule_the_detector_sent() -> None:
    """A fresh net leaves its first warm-up scores out of the baseline (skip): re-flagging without that
    parameter flags other chunks, which is how the console once disagreed with the engine."""
    from spear_tui.detect.lstm.decision import PeakRule
    from spear_tui.events import DetectorStarted

    scores = np.r_[np.linspace(3.0, 1.5, 4), 1.0 + 0.01 * np.sin(np.arange(36))]
    scores[[8, 20]] = [1.15, 1.2]  # chunk 8 stands out only against a baseline without the first losses
    rule = PeakRule(warmup=8, window=50, skip=4)
    st = ConsoleState()
    st.apply([DetectorStarted("mqtt", "lstm", rule.to_dict(), 6.0), *chunk_events("mqtt", scores, warmup=8)])
    tr = st.tracks[("mqtt", "lstm")]
    assert tr.rule == rule
    n = st.reflag("mqtt", 4.0)
    want, thr = rule.flags(scores, 4.0)
    assert n == int(want.sum()) >= 1 and np.array_equal(tr.current_flags(), want)
    np.testing.assert_array_equal(tr.current_thresholds(), thr)
    without_skip, _ = flag_scores(scores, 4.0, 8)
    assert not np.array_equal(without_skip, want)  # the parameter matters on this series


def test_two_models_of_one_protocol_are_two_tracks_with_their_own_k() -> None:
    """MQTT's flow LSTM and its rhythm view: one series each, re-flagged and re-grouped independently;
    the alerts derived at a view's k carry that view's name."""
    import dataclasses

    from spear_tui.detect.lstm.decision import PeakRule
    from spear_tui.events import DetectorStarted

    st = ConsoleState()
    flow = peak_series(60, peak=40)
    rhythm = peak_series(60, peak=20, seed=1)
    rule = PeakRule(warmup=8)
    st.apply(
        [
            DetectorStarted("mqtt", "lstm", rule.to_dict(), 6.0),
            DetectorStarted("mqtt", "rhythm", rule.to_dict(), 6.0),
            MessagesSeen("mqtt", 1000, 0.0, 1.0),
            *chunk_events("mqtt", flow, warmup=8),
            *(dataclasses.replace(c, detector="rhythm") for c in chunk_events("mqtt", rhythm, warmup=8)),
            MessagesSeen("mqtt", 1000, 1.0, 2.0),
        ]
    )
    assert set(st.tracks) == {("mqtt", "lstm"), ("mqtt", "rhythm")}
    assert list(st.tracks[("mqtt", "rhythm")].scores.view()) == list(rhythm)
    assert st.messages == 2000  # counted once for the protocol, not once per model
    st.reflag("mqtt", 3.0, "rhythm")
    assert st.tracks[("mqtt", "lstm")].k is None and st.tracks[("mqtt", "rhythm")].k == 3.0
    want_rhythm = np.flatnonzero(flag_scores(rhythm, 3.0, 8)[0])
    assert 20 in want_rhythm
    derived = [a for a in st.regrouped["mqtt"][1].values() if a.chunk >= 0]
    assert sorted(a.chunk for a in derived) == sorted(want_rhythm.tolist())
    assert {a.detector for a in derived} == {"rhythm"}
    assert all("mqtt rhythm chunk" in a.reason for a in derived)
    st.reflag("mqtt", 50.0, "lstm")  # the flow view's own k: nothing; the rhythm view's alerts stay
    derived = [a for a in st.regrouped["mqtt"][1].values() if a.chunk >= 0]
    assert sorted(a.chunk for a in derived) == sorted(want_rhythm.tolist())
    assert st.tracks[("mqtt", "lstm")].flagged == 0
    assert any("rhythm" in inc.detectors for inc in st.incidents())
