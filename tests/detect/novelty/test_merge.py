"""merge_alerts: one alert per incident per (protocol, file), naming every detector that agrees."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from spear_tui.detect.novelty import merge_alerts
from spear_tui.events import Alert


def _alert(start, end, detector="novelty", protocol="modbus", file=0, severity="medium", reason=None, **kw):
    return Alert(
        protocol=protocol,
        detector=detector,
        start=start,
        end=end,
        first_frame=int(start * 10),
        last_frame=int(end * 10),
        score=1.0,
        threshold=0.5,
        reason=reason or f"{detector} {start}",
        severity=severity,
        file=file,
        **kw,
    )


def test_overlapping_lstm_and_novelty_alerts_become_one_naming_both() -> None:
    lstm = _alert(10, 20, "lstm", reason="chunk loss 3.2 over threshold 1.1", talkers=("10.0.0.1",))
    nov = _alert(
        15, 16, "novelty", severity="high", reason="10.0.0.9 sent Modbus write", talkers=("10.0.0.9",)
    )
    (m,) = merge_alerts([lstm, nov], slack_s=0)
    assert m.detectors == ("lstm", "novelty")
    assert (m.start, m.end, m.first_frame, m.last_frame) == (10, 20, 100, 200)
    assert m.detector == "novelty" and m.severity == "high"  # the lead is the most severe
    assert m.reason == "10.0.0.9 sent Modbus write | chunk loss 3.2 over threshold 1.1"
    assert set(m.talkers) == {"10.0.0.1", "10.0.0.9"}


def test_slack_joins_near_alerts_and_keeps_far_ones_apart() -> None:
    a, b = _alert(0, 1), _alert(3, 4, "lstm")
    assert len(merge_alerts([a, b], slack_s=1.9)) == 2
    (m,) = merge_alerts([a, b], slack_s=2.0)
    assert m.detectors == ("lstm", "novelty")


def test_other_protocols_and_files_never_merge() -> None:
    out = merge_alerts([_alert(0, 5), _alert(1, 2, protocol="mqtt"), _alert(1, 2, file=1)], slack_s=10)
    assert len(out) == 3 and all(len(a.detectors) == 1 for a in out)


def test_chains_merge_transitively_and_duplicate_reasons_appear_once() -> None:
    out = merge_alerts([_alert(0, 2, reason="x"), _alert(1.5, 4, reason="x"), _alert(3.5, 6, "lstm")], 0)
    assert len(out) == 1 and out[0].reason.count("x") == 1 and (out[0].start, out[0].end) == (0, 6)


windows = st.lists(
    st.tuples(
        st.floats(0, 100),
        st.floats(0, 10),
        st.sampled_from(["lstm", "novelty", "seq2seq"]),
        st.sampled_from(["mqtt", "modbus"]),
    ),
    max_size=25,
)


@given(windows, st.floats(0, 5))
def test_merged_alerts_cover_every_input_once_and_are_separated_by_more_than_slack(ws, slack) -> None:
    alerts = [_alert(s, s + d, det, proto) for s, d, det, proto in ws]
    out = merge_alerts(alerts, slack)
    for a in alerts:
        owners = [m for m in out if m.protocol == a.protocol and m.start <= a.start and a.end <= m.end]
        assert len(owners) == 1 and a.detector in owners[0].detectors
    for proto in ("mqtt", "modbus"):
        mine = sorted((m for m in out if m.protocol == proto), key=lambda m: m.start)
        for x, y in zip(mine, mine[1:], strict=False):
            assert y.start > x.end + slack
