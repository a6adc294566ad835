"""The recorder's schedule logic, without recording (no ports, no capture rights needed)."""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sample_captures"))

from recorder import incidents  # noqa: E402
from recorder.day import SENSORS, modbus_day, mqtt_day  # noqa: E402
from recorder.schedule import Schedule  # noqa: E402


def _day(seed: int, t1: float = 20.0) -> Schedule:
    s = Schedule()
    mqtt_day(s, random.Random(f"{seed}-mqtt"), 0.0, t1, 9 * 3600, drops=False)
    return s


def _publishes(s: Schedule) -> list[tuple[float, str, bytes]]:
    return [(a.t, a.actor, a.args["payload"]) for a in s.sorted() if a.kind == "publish"]


def test_the_schedule_depends_on_the_seed_only() -> None:
    assert _publishes(_day(7)) == _publishes(_day(7))
    assert _publishes(_day(7)) != _publishes(_day(8))


def test_sensors_keep_their_period_qos_and_topic() -> None:
    s = _day(7, t1=30.0)  # 5 virtual hours
    by_actor = Counter(a.actor for a in s.actions if a.kind == "publish")
    sensors = {x.name: x for x in SENSORS}
    for name, n in by_actor.items():
        if name in sensors and sensors[name].period:
            expected = 30.0 * 600 / sensors[name].period
            assert 0.9 * expected <= n <= 1.1 * expected + 1, name
    for a in s.actions:
        if a.kind == "publish" and a.actor in sensors:
            assert a.args["topic"] == sensors[a.actor].topic and a.args["qos"] == sensors[a.actor].qos


def test_shuffle_permutes_the_window_and_nothing_else() -> None:
    for fraction, kind in ((1.0, "shuffle_full"), (0.1, "shuffle_10pct")):
        s = _day(7)
        before = [(a.t, a.actor, a.args["payload"]) for a in s.sorted() if a.kind == "publish"]
        label = incidents.shuffle(s, random.Random(1), start=5.0, count=500, fraction=fraction, kind=kind)
        after = [(a.t, a.actor, a.args["payload"]) for a in s.sorted() if a.kind == "publish"]
        first = next(i for i, b in enumerate(before) if b[0] >= 5.0)
        window = slice(first, first + 500)
        assert (
            before[: window.start] == after[: window.start] and before[window.stop :] == after[window.stop :]
        )
        assert [b[0] for b in before] == [a[0] for a in after]  # same time slots
        assert Counter(b[1:] for b in before[window]) == Counter(a[1:] for a in after[window])
        moved = sum(b[1:] != a[1:] for b, a in zip(before[window], after[window], strict=True))
        assert (moved > 400) if fraction == 1.0 else (moved <= 50)
        assert label["kind"] == kind and label["protocol"] == "mqtt"


def test_modbus_poll_cycle_is_fixed() -> None:
    s = Schedule()
    modbus_day(s, random.Random("7-modbus"), 0.0, 10.0, 0.0)
    polls = sorted(
        a.t for a in s.actions if a.kind == "request" and a.args["fc"] == 4 and a.args["unit"] == 1
    )
    gaps = {round(b - a, 6) for a, b in zip(polls, polls[1:], strict=False)}
    assert gaps == {0.2}  # 120 virtual seconds at 600x
