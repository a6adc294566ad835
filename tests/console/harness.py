"""Console test harness: an engine that hands the app a fixed list of real event dataclasses.

It stands in for the integrator's PacketEngine only in UI tests (what the console does with events is
under test, not how they are computed); nothing here is reachable from the product.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from textual.widgets import DataTable

from spear_tui.console.app import SpearApp
from spear_tui.console.settings import Settings
from spear_tui.engines.contract import Engine
from spear_tui.engines.outbox import Outbox
from spear_tui.events import Alert, ChunkScored, MessagesSeen, SourceProgress
from spear_tui.incidents import IncidentStage


class ScriptedEngine(Engine):
    """Emits `batches` one by one (each a list of events), then idles until stop(). `extras` replace
    contract methods (e.g. messages_for=..., day_series=..., learning=...) and switch on the matching
    capability, as an engine that has it would."""

    def __init__(self, batches: Sequence[list[Any]] = (), **extras: Any) -> None:
        super().__init__(speed=1.0)
        self.batches = list(batches)
        self.calls: list[tuple] = []
        self.done = threading.Event()
        self.keeps_messages = "messages_for" in extras
        self.keeps_days = "day_series" in extras
        for k, v in extras.items():
            setattr(self, k, v)

    def work(self, out: Outbox) -> None:
        incidents = IncidentStage()  # what every engine does between its detectors and its sinks
        for batch in self.batches:
            if self._stop.is_set():
                break
            out.extend(incidents(batch))
            out.flush()  # one delivery per scripted batch
        self.done.set()
        self._stop.wait(60)

    def pause(self) -> None:
        super().pause()
        self.calls.append(("pause",))

    def resume(self) -> None:
        super().resume()
        self.calls.append(("resume",))

    def set_speed(self, speed: float | None) -> None:
        super().set_speed(speed)
        self.calls.append(("speed", speed))

    def set_sensitivity(self, protocol: str, detector: str, k: float) -> None:
        self.calls.append(("sensitivity", protocol, detector, k))


def chunk_events(
    protocol: str,
    scores: Sequence[float],
    warmup: int = 5,
    t0: float = 1_700_000_000.0,
    flagged_at: Sequence[int] = (),
    threshold: float = 1.0,
) -> list[ChunkScored]:
    out = []
    for i, s in enumerate(scores):
        out.append(
            ChunkScored(
                protocol=protocol,
                index=i,
                start=t0 + 10 * i,
                end=t0 + 10 * i + 9.9,
                first_frame=500 * i + 1,
                last_frame=500 * (i + 1),
                score=float(s),
                train_loss=float(s) / 2,
                flagged=i in flagged_at,
                threshold=None if i < warmup else threshold,
                talkers=("10.0.0.1",),
            )
        )
    return out


def peak_series(n: int = 60, peak: int = 40, seed: int = 0) -> np.ndarray:
    """A decaying loss with noise and one tall peak, like the paper's figure 4."""
    rng = np.random.default_rng(seed)
    s = 0.05 + 0.5 * np.exp(-np.arange(n) / 5) + rng.normal(0, 0.004, n)
    s[peak] = 0.4
    return np.abs(s)


def alert_for(ev: ChunkScored, source: str = "", talkers: tuple[str, ...] = ("10.0.0.1",)) -> Alert:
    return Alert(
        protocol=ev.protocol,
        detector="lstm",
        start=ev.start,
        end=ev.end,
        first_frame=ev.first_frame,
        last_frame=ev.last_frame,
        score=ev.score,
        threshold=ev.threshold or 0.0,
        reason="loss peak",
        talkers=talkers,
        source=source,
        detectors=("lstm",),
    )


class FixedClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make_app(engine: ScriptedEngine, settings: Settings, **kw: Any) -> SpearApp:
    return SpearApp(
        lambda: engine,
        source=kw.pop("source", "sample.pcap"),
        settings=settings,
        clock=kw.pop("clock", FixedClock()),
        **kw,
    )


def basic_batches(n: int = 60, peak: int = 40) -> tuple[list[list[Any]], list[ChunkScored]]:
    scores = peak_series(n, peak)
    chunks = chunk_events("mqtt", scores, flagged_at=(peak,), threshold=0.1)
    seen = [MessagesSeen("mqtt", 500, c.start, c.end) for c in chunks]
    batches: list[list[Any]] = [
        [*chunks[:30], *seen[:30]],
        [*chunks[30:], *seen[30:], alert_for(chunks[peak])],
    ]
    batches.append([SourceProgress("sample.pcap", position=300.0, total=600.0)])
    return batches, chunks


async def settle(app: SpearApp, pilot: Any, engine: ScriptedEngine | None = None) -> None:
    """Wait until the scripted engine emitted everything, then drain it into the UI deterministically."""
    for _ in range(200):
        if engine is None or engine.done.is_set():
            break
        await pilot.pause(0.05)
    await pilot.pause()
    app.drain()
    await tables_measured(app, pilot)


async def tables_measured(app: SpearApp, pilot: Any, tries: int = 200) -> None:
    """Pause until every DataTable on screen has measured its new rows and cells.

    A DataTable sizes its columns in its Idle handler. Under CPU load one `pilot.pause()` can return
    before that handler ran, and the screen then shows new rows cut to the old column widths (seen in
    CI as a talkers cell rendered as "[bold r").
    """
    for _ in range(tries):
        await pilot.pause()
        tables = app.screen.query(DataTable)
        if not any(t._require_update_dimensions or t._updated_cells for t in tables):
            await pilot.pause()  # let the compositor take the new sizes
            return
    raise AssertionError(f"DataTables still measuring after {tries} pauses")


async def screen_text(app: SpearApp, pilot: Any) -> str:
    """Plain text of what the app shows once its tables are measured (one line per terminal row)."""
    await tables_measured(app, pilot)
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
