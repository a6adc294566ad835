"""What the console needs from the engine, as typing Protocols (the integrator's engine satisfies them).

Only `run`, `pause`, `resume`, `set_speed`, `stop` and `set_sensitivity` are required. The rest are
optional capabilities the console uses when present (checked with `hasattr`), so the console works with
a packet engine, a meter engine, or an engine that does not retain messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from spear_tui.events import Alert

Emit = Callable[[list[Any]], None]


@runtime_checkable
class EngineLike(Protocol):
    paused: bool
    speed: float | None

    def run(self, emit: Emit) -> None:
        """Blocking; the console calls it from a worker thread."""

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def set_speed(self, speed: float | None) -> None: ...
    def stop(self) -> None: ...
    def set_sensitivity(self, protocol: str, detector: str, k: float) -> None: ...


class RetainsMessages(Protocol):
    """Optional: the messages of an alert's chunk (spear_tui.retain.MessageRetainer.messages_for)."""

    def messages_for(self, alert: Alert) -> Any:  # polars.DataFrame | None
        ...


class DissectsFrames(Protocol):
    """Optional: decode-as options for drill-down (`-d` style strings), e.g. ("tcp.port==1884,mqtt",)."""

    decode_as: Sequence[str] | dict | None


class ReconstructsDays(Protocol):
    """Optional (meter engine): measured and reconstructed 96-sample arrays of one scored day."""

    def day_series(self, measurement: str, date: str) -> tuple[Sequence[float], Sequence[float]] | None: ...


class ReportsSensitivity(Protocol):
    """Optional: the sensitivity k the engine currently uses, so the slider starts where the engine is."""

    def get_sensitivity(self, protocol: str, detector: str) -> float | None: ...


EngineFactory = Callable[[], EngineLike]
