"""Modbus novelty rules on real captures, checked against tshark's own view of the same frames."""

from __future__ import annotations

from pathlib import Path

import pytest
from novelty_tables import capture_table, feed_all, tshark_rows

from spear_tui.detect.novelty import NoveltyDetector

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
BIG = REAL / "modbus" / "iti_ModbusTCP.pcap"  # one master 141.81.0.10 polling 12 slaves, 85 s
SMALL = REAL / "modbus" / "iti_modbus_test.pcap"  # five masters, one server 192.168.0.20, 119 s
WRITES = {5, 6, 15, 16, 22, 23}
FIELDS = ["frame.number", "frame.time_epoch", "ip.src", "ip.dst", "mbtcp.unit_id", "modbus.func_code"]


def _requests(path: Path) -> list[tuple[int, float, str, str, int, int]]:
    """(frame, time, src, dst, unit, fc) of every request PDU, per tshark (zipped per frame)."""
    out = []
    for frame, t, src, dst, units, fcs in tshark_rows(path, "mbtcp && tcp.dstport == 502", FIELDS):
        for unit, fc in zip(units, fcs, strict=False):
            out.append((int(frame[0]), float(t[0]), src[0], dst[0], int(unit), int(fc)))
    return out


def _first_time(path: Path) -> float:
    return float(tshark_rows(path, "mbtcp", ["frame.time_epoch"])[0][0][0])


@pytest.fixture(scope="module")
def big_table():
    return capture_table(BIG, "modbus")


def test_new_write_tuples_after_learning_raise_one_alert_naming_each(big_table) -> None:
    cut = _first_time(BIG) + 20.0
    reqs = _requests(BIG)
    learned = {(s, d, u, f) for _, t, s, d, u, f in reqs if t < cut and f in WRITES}
    novel = [r for r in reqs if r[1] >= cut and r[5] in WRITES and (r[2], r[3], r[4], r[5]) not in learned]
    masters_before = {s for _, t, s, *_ in reqs if t < cut}
    assert novel, "the capture is expected to hold writes first seen after 20 s"
    assert {r[2] for r in reqs if r[1] >= cut} <= masters_before  # no new master: only new_write applies

    alerts = feed_all(NoveltyDetector("modbus", learn_seconds=20.0), big_table)
    writes = [a for a in alerts if "write" in a.reason]
    assert len(writes) == 1, [a.reason for a in alerts]
    alert = writes[0]
    src = novel[0][2]
    assert alert.reason.startswith(f"{src} sent Modbus write")
    for _, _, _, dst, unit, _ in novel:
        assert f"{dst} unit {unit}" in alert.reason
    assert alert.first_frame == min(r[0] for r in novel)
    assert alert.start == pytest.approx(min(r[1] for r in novel))
    assert alert.end == pytest.approx(max(r[1] for r in novel))
    assert alert.detector == "novelty" and alert.detectors == ("novelty",)
    # the writer wrote before and to these units before: only the function is new → low severity
    assert alert.severity == "low"
    assert not any("never seen acting as a master" in a.reason for a in alerts)


def test_batch_size_does_not_change_novelty_alerts(big_table) -> None:
    def run(batch: int) -> list[tuple]:
        alerts = feed_all(NoveltyDetector("modbus", learn_seconds=20.0), big_table, batch=batch)
        return [(a.reason, a.first_frame, a.last_frame, a.severity) for a in alerts]

    assert run(100) == run(big_table.height)


def test_steady_polling_raises_nothing_after_learning() -> None:
    table = capture_table(SMALL, "modbus")
    cut = _first_time(SMALL) + 30.0
    reqs = _requests(SMALL)
    before = [r for r in reqs if r[1] < cut]
    after = [r for r in reqs if r[1] >= cut]
    # ground truth: nothing after 30 s is new for the rules (masters, written tuples, polled units)
    assert {r[2] for r in after} <= {r[2] for r in before}
    assert {(r[3], r[4]) for r in after} <= {(r[3], r[4]) for r in before}
    assert {r[2:] for r in after if r[5] in WRITES} <= {r[2:] for r in before if r[5] in WRITES}
    assert feed_all(NoveltyDetector("modbus", learn_seconds=30.0), table) == []


def test_unseen_master_and_unit_ids_found_when_learning_is_too_short() -> None:
    """Learn 2 s only: every master/unit first seen later must be reported, and only those."""
    table = capture_table(SMALL, "modbus")
    cut = _first_time(SMALL) + 2.0
    reqs = _requests(SMALL)
    masters = {r[2] for r in reqs if r[1] < cut}
    new_masters = {r[2] for r in reqs if r[1] >= cut and r[2] not in masters}
    alerts = feed_all(NoveltyDetector("modbus", learn_seconds=2.0), table)
    flagged = {a.reason.split(" ")[0] for a in alerts if "never seen acting as a master" in a.reason}
    assert flagged == new_masters
    for a in alerts:
        if "never seen acting as a master" in a.reason:
            first = min(r for r in reqs if r[2] == a.reason.split(" ")[0] and r[1] >= cut)
            assert a.first_frame == first[0]
            assert a.reason.startswith(f"{first[2]} sent Modbus")


def test_rate_sensitivity_scales_the_request_rate_threshold() -> None:
    """A master's rate rule: doubling the learned rate is normal, a sensitivity of 100 flags it."""
    table = capture_table(SMALL, "modbus")
    quiet = feed_all(NoveltyDetector("modbus", learn_seconds=30.0, rate_sensitivity=1.0), table)
    loud = feed_all(NoveltyDetector("modbus", learn_seconds=30.0, rate_sensitivity=100.0), table)
    assert not [a for a in quiet if a.threshold > 0]
    rate = [a for a in loud if "Modbus requests in" in a.reason]
    assert rate and all(a.score >= a.threshold for a in rate)
    det = NoveltyDetector("modbus", learn_seconds=30.0, rate_sensitivity=100.0)
    det.enabled_rules.discard("rate_jump")
    assert not [a for a in feed_all(det, table) if "Modbus requests in" in a.reason]
