"""Which stacked-LSTM views a protocol runs: the flow LSTM ("lstm") and, for some, a second view.

"rhythm" (issue 18): the flow sequence design plus the per-talker rhythm input (`LSTMConfig.timing`),
which sees real clients publishing in shuffled order that the flow view cannot, while the flow view
keeps what the rhythm one loses (a CONNECT flood flagged online); alerts of either view are raised
(BENCHMARKS.md "Shuffle experiment on recorded clients"). No heavy imports: the console reads it.
"""

from __future__ import annotations

FLOW = "lstm"
# extra view -> protocols it runs for (from `<protocol>_<view>.msgpack`, or from scratch when learning)
EXTRA_VIEWS: dict[str, tuple[str, ...]] = {"rhythm": ("mqtt",)}


def lstm_views(protocol: str) -> list[str]:
    """The LSTM detectors a protocol gets: the flow view first, then its extra views."""
    return [FLOW, *(v for v, protos in EXTRA_VIEWS.items() if protocol in protos)]


def is_lstm(detector: str) -> bool:
    """Is `detector` one of the LSTM views (the incident filter "lstm" means any of them)?"""
    return detector == FLOW or detector in EXTRA_VIEWS


def checkpoint_name(protocol: str, view: str = FLOW) -> str:
    """`<protocol>.msgpack` for the flow view, `<protocol>_<view>.msgpack` for another view."""
    return f"{protocol}.msgpack" if view == FLOW else f"{protocol}_{view}.msgpack"


def view_config(view: str):
    """The starting config of a view's net (a checkpoint's own architecture replaces it)."""
    from spear_tui.detect.lstm.stacked_lstm import LSTMConfig

    if view == "rhythm":
        return LSTMConfig(timing=True, features=3)
    return LSTMConfig()
