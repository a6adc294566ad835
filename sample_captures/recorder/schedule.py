"""The seeded schedule: a list of (time, actor, action) and the loop that performs it.

Time compression: the recordings squeeze a day into minutes. ``COMPRESSION`` virtual seconds
pass per wall-clock second, so a sensor that reports every 60 s in the home reports every
0.1 s in the capture, and a 24 h day lasts 144 s.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

COMPRESSION = 600.0


def wall(virtual_seconds: float) -> float:
    """Wall-clock seconds for a span of virtual (home) time."""
    return virtual_seconds / COMPRESSION


@dataclass(order=True)
class Action:
    """One scheduled step: at ``t`` wall seconds after the start, ``actor`` performs ``kind``."""

    t: float
    seq: int = field(compare=True)
    actor: str = field(compare=False)
    kind: str = field(compare=False)
    args: dict[str, Any] = field(default_factory=dict, compare=False)


class Schedule:
    """A growing list of actions; ``seq`` keeps ties in insertion order."""

    def __init__(self) -> None:
        self.actions: list[Action] = []

    def add(self, t: float, actor: str, kind: str, **args: Any) -> Action:
        action = Action(t, len(self.actions), actor, kind, args)
        self.actions.append(action)
        return action

    def mark(self, t: float, name: str) -> None:
        """A named instant whose wall-clock time is recorded (label start/end)."""
        self.add(t, "-", "mark", name=name)

    def sorted(self) -> list[Action]:
        return sorted(self.actions)

    @property
    def end(self) -> float:
        return max((a.t for a in self.actions), default=0.0)


Dispatch = Callable[[Action], Awaitable[None] | None]


async def perform(actions: list[Action], dispatch: Dispatch) -> dict[str, float]:
    """Perform the actions in list order at their times; returns epoch times of the marks.

    Actions that wait for a response (Modbus, BACnet requests) run as tasks so a slow reply
    never delays the next scheduled step; MQTT publishes are written synchronously, so their
    order on the wire is the order of the list.
    """
    marks: dict[str, float] = {}
    tasks: set[asyncio.Task[None]] = set()
    start = time.monotonic()
    for action in actions:
        delay = start + action.t - time.monotonic()
        await asyncio.sleep(max(delay, 0.0))  # always yield, so sockets are read even when late
        if action.kind == "mark":
            marks[action.args["name"]] = time.time()
            continue
        result = dispatch(action)
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    return marks
