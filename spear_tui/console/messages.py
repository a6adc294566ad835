"""What a screen asks of the engine, as messages: screens post them, the app acts on the engine.

So screens never hold the engine for intents (and never probe it): a moved slider, a switched rule or
an accepted alert bubbles up to `SpearApp`, which saves the setting and calls the engine contract
(spear_tui.engines.contract.Engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from spear_tui.events import Alert


@dataclass
class ThresholdMoved(Message):
    """A slider moved: `detector` of `protocol` (a measurement for seq2seq) now uses `value` (k for the
    LSTM and the novelty rates, an MSE for seq2seq); `key` is the slider's settings key."""

    key: str
    protocol: str
    detector: str
    value: float


@dataclass
class RulesChanged(Message):
    """A rule-based detector's switches changed: only `rules` alert from now on (none: it is off)."""

    protocol: str
    detector: str
    rules: frozenset[str] = field(default_factory=frozenset)


@dataclass
class AcceptRequested(Message):
    """The user accepts `alert` as normal (its novelty joins the baseline, recorded in the site)."""

    alert: Alert
