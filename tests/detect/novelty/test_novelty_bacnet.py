"""BACnet novelty rules on real captures, checked against tshark's own view of the same frames."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from novelty_tables import capture_table, feed_all, learn_cut, tshark_rows

from spear_tui.detect.novelty import NoveltyDetector
from spear_tui.detect.novelty._text import bacnet_service

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
ERA = REAL / "bacnet" / "bacnet_error_reject_abort.pcap"  # one PDU of each kind, one per second
EXAMPLE = REAL / "bacnet" / "bacnet_example.pcap"  # 3,257 frames: polling, then ReinitializeDevice and Errors
CONTROL = "bacapp.type == 0 && bacapp.confirmed_service in {15,16,17,20}"
FIELDS = ["frame.number", "frame.time_epoch", "ip.src", "ip.dst", "bacapp.confirmed_service"]


def _control_truth(path: Path, learn_s: float) -> dict[str, list[tuple[int, float, str, int]]]:
    first = tshark_rows(path, "bvlc", ["frame.time_epoch"])
    cut = learn_cut(first, learn_s)
    rows = [
        (int(f[0]), float(t[0]), s[0], d[0], int(c[0]))
        for f, t, s, d, c in tshark_rows(path, CONTROL, FIELDS)
    ]
    learned = {(s, c) for _, t, s, _, c in rows if t < cut}
    out: dict[str, list[tuple[int, float, str, int]]] = {}
    for frame, t, src, dst, svc in rows:
        if t >= cut and (src, svc) not in learned:
            out.setdefault(src, []).append((frame, t, dst, svc))
    return out


@pytest.mark.parametrize(("path", "learn_s"), [(ERA, 5.0), (EXAMPLE, 10.0)])
def test_control_services_from_new_sources_raise_one_alert_per_source(path: Path, learn_s: float) -> None:
    truth = _control_truth(path, learn_s)
    assert truth, "both captures send control services after the learning period"
    alerts = feed_all(NoveltyDetector("bacnet", learn_seconds=learn_s), capture_table(path, "bacnet"))
    control = [a for a in alerts if "never seen sending it before" in a.reason]
    assert sorted(a.reason.split(" ")[0] for a in control) == sorted(truth)
    for a in control:
        rows = truth[a.reason.split(" ")[0]]
        # one alert per new (source, service): an episode lasts at most max_hold (60 s) of capture time,
        # after which what it showed is known and the rest of a longer sweep adds no alert
        rows = [r for r in rows if r[1] < rows[0][1] + 60.0]
        lead = min(rows, key=lambda r: (r[3] not in (17, 20), r[1]))
        assert a.reason.startswith(
            f"{a.reason.split(' ')[0]} sent BACnet {bacnet_service(lead[3])} to {lead[2]}"
        )
        for svc in {r[3] for r in rows}:
            assert bacnet_service(svc) in a.reason
        assert a.first_frame == min(r[0] for r in rows)
        assert a.last_frame == max(r[0] for r in rows)
        assert a.severity == ("high" if {17, 20} & {r[3] for r in rows} else "medium")
        assert f"; {len(rows)} request(s)" in a.reason


def _error_bins(learn_s: float) -> tuple[dict[int, list[float]], float]:
    cut = learn_cut(tshark_rows(EXAMPLE, "bvlc", ["frame.time_epoch"]), learn_s)
    times = [float(t[0]) for (t,) in tshark_rows(EXAMPLE, "bacapp.type in {5,6,7}", ["frame.time_epoch"])]
    assert all(t >= cut for t in times), "the learning period holds no error PDU"
    bins: dict[int, list[float]] = {}
    for t in times:
        bins.setdefault(math.floor(t / 10.0), []).append(t)
    return bins, cut


def test_error_burst_alerts_cover_exactly_the_windows_over_threshold() -> None:
    bins, _ = _error_bins(10.0)
    flagged = {b: ts for b, ts in bins.items() if len(ts) >= 10}  # never seen in learning: min_count 10
    assert flagged
    alerts = feed_all(NoveltyDetector("bacnet", learn_seconds=10.0), capture_table(EXAMPLE, "bacnet"))
    bursts = [a for a in alerts if "Error/Reject/Abort" in a.reason]
    assert bursts
    covered = set()
    for a in bursts:
        mine = {b: ts for b, ts in flagged.items() if a.start <= min(ts) and max(ts) <= a.end}
        assert mine, a
        covered |= set(mine)
        assert a.start == pytest.approx(min(min(ts) for ts in mine.values()))
        assert a.end == pytest.approx(max(max(ts) for ts in mine.values()))
        assert a.score == max(len(ts) for ts in mine.values())
        assert a.threshold == 10
        assert f"{sum(len(ts) for ts in mine.values())} BACnet Error/Reject/Abort PDUs" in a.reason
    assert covered == set(flagged)


def test_lower_sensitivity_silences_error_bursts_below_the_raised_threshold() -> None:
    bins, _ = _error_bins(10.0)
    peak = max(len(ts) for ts in bins.values())
    assert peak < 20
    det = NoveltyDetector("bacnet", learn_seconds=10.0, rate_sensitivity=0.5)  # threshold 10 / 0.5 = 20
    alerts = feed_all(det, capture_table(EXAMPLE, "bacnet"))
    assert not [a for a in alerts if "Error/Reject/Abort" in a.reason]
    assert Counter(a.severity for a in alerts)  # the ReinitializeDevice alert is still there
