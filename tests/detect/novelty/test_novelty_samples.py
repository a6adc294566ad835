"""The project's labelled samples: no alert on the normal day after learning; incidents caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from novelty_tables import capture_table, feed_all, tshark_rows

from spear_tui.detect.novelty import NoveltyDetector

SAMPLES = Path(__file__).resolve().parents[3] / "sample_captures"


def _normal_capture() -> Path:
    """The normal day named by its labels file (the recorder may store it gzip-compressed)."""
    lab = SAMPLES / "normal.labels.json"
    return SAMPLES / json.loads(lab.read_text())["capture"] if lab.exists() else SAMPLES / "normal.pcapng"


NORMAL = _normal_capture()

pytestmark = pytest.mark.skipif(not NORMAL.exists(), reason=f"{NORMAL} not recorded")


def _labels(path: Path) -> dict:
    return json.loads(path.read_text())


def test_normal_sample_is_labelled_without_incidents() -> None:
    assert _labels(SAMPLES / "normal.labels.json")["incidents"] == []


@pytest.mark.parametrize("protocol", ["mqtt", "modbus", "bacnet"])
def test_normal_day_raises_nothing_after_learning_half_of_it(protocol: str) -> None:
    table = capture_table(NORMAL, protocol)
    start, end = float(table["time"].min()), float(table["time"].max())
    det = NoveltyDetector(protocol, learn_seconds=(end - start) / 2)
    alerts = feed_all(det, table, batch=1000)
    assert not det.learning and det.learned_messages < table.height
    assert alerts == [], [a.reason for a in alerts]


def test_control_a_write_first_seen_after_a_too_short_learning_period_is_reported() -> None:
    """Positive control for the test above: the same day, learning only its first quarter."""
    table = capture_table(NORMAL, "modbus")
    cut = float(table["time"].min()) + 36.0
    rows = tshark_rows(
        NORMAL,
        "mbtcp && tcp.dstport == 502 && modbus.func_code in {5,6,15,16,22,23}",
        ["frame.number", "frame.time_epoch", "ip.src", "ip.dst", "mbtcp.unit_id", "modbus.func_code"],
    )
    writes = [(int(f[0]), float(t[0]), s[0], d[0], int(u[0]), int(c[0])) for f, t, s, d, u, c in rows]
    learned = {w[2:] for w in writes if w[1] < cut}
    new = [w for w in writes if w[1] >= cut and w[2:] not in learned]
    assert new
    alerts = feed_all(NoveltyDetector("modbus", learn_seconds=36.0), table, batch=1000)
    assert len(alerts) >= 1
    assert alerts[0].first_frame == new[0][0]
    assert alerts[0].reason.startswith(f"{new[0][2]} sent Modbus write")


@pytest.mark.parametrize("protocol", ["mqtt", "modbus", "bacnet"])
def test_shipped_baselines_know_exactly_what_the_normal_day_shows(protocol: str) -> None:
    """models/<protocol>_novelty.msgpack matches the normal sample (re-learn it when the sample changes)."""
    shipped = SAMPLES.parent / "models" / f"{protocol}_novelty.msgpack"
    if not shipped.exists():
        pytest.skip(f"{shipped} not shipped")
    fresh = NoveltyDetector(protocol, learn_messages=10**12)
    fresh.feed(capture_table(NORMAL, protocol))
    sets = {k: sorted(map(tuple, v)) for k, v in fresh.rules.to_dict().items()}
    loaded = NoveltyDetector(protocol, baseline=shipped).rules.to_dict()
    assert {k: sorted(map(tuple, v)) for k, v in loaded.items()} == sets
