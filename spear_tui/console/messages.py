"""Small messages that cross between the console's screens and its app (thread → UI goes via a deque)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class StateChanged(Message):
    """The app folded a batch of engine events into its state; `changed` names what kinds moved."""

    changed: frozenset[str]


@dataclass
class ThresholdMoved(Message):
    """A slider was moved: re-flag `key`'s stored scores with `value` (k for LSTM, MSE for seq2seq)."""

    key: str
    value: float
