"""Screens post intents (console/messages.py), the app acts on the engine contract and saves settings.

Each message is posted where a screen would post it (on the visible screen, so it has to bubble up to
the app); the scripted engine records what the app asked of it.
"""

from __future__ import annotations

from collections.abc import Iterable

from spear_tui.console.messages import AcceptRequested, RulesChanged, ThresholdMoved
from spear_tui.console.settings import Settings
from spear_tui.events import Alert

from .harness import ScriptedEngine, basic_batches, make_app, settle

NOVEL = Alert(
    "modbus", "novelty", 10.0, 12.0, 5, 9, 1.0, 0.0, "new function code 8 from 10.0.0.9",
    accept='{"known-set": [["10.0.0.9", 8]]}',
)  # fmt: skip


class Recording(ScriptedEngine):
    """Records rule switches and accepts, as the packet engine would apply them."""

    accepts_alerts = True

    def set_rules(self, protocol: str, detector: str, rules: Iterable[str]) -> None:
        self.calls.append(("rules", protocol, detector, frozenset(rules)))

    def accept(self, alert: Alert) -> bool:
        self.calls.append(("accept", alert.reason))
        return True


async def test_threshold_moved_bubbles_to_the_app_which_saves_it_and_tells_the_engine(
    settings: Settings,
) -> None:
    eng = Recording(basic_batches()[0])
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        app.screen.post_message(ThresholdMoved("mqtt/lstm", "mqtt", "lstm", 4.5))
        await pilot.pause()
        assert ("sensitivity", "mqtt", "lstm", 4.5) in eng.calls
    assert Settings().get("mqtt/lstm") == 4.5  # saved where the next session reads it


async def test_rules_changed_switches_the_engine_detector(settings: Settings) -> None:
    eng = Recording()
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        app.screen.post_message(RulesChanged("modbus", "novelty", frozenset({"new-function"})))
        await pilot.pause()
    assert ("rules", "modbus", "novelty", frozenset({"new-function"})) in eng.calls


async def _accept(eng: ScriptedEngine, settings: Settings) -> list[str]:
    """Post AcceptRequested as the alerts screen would; the notifications the user then sees."""
    app = make_app(eng, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        app.screen.post_message(AcceptRequested(NOVEL))
        await pilot.pause()
        return [str(n.message) for n in app._notifications]


async def test_accept_requested_reaches_a_running_detector(settings: Settings) -> None:
    eng = Recording()
    shown = await _accept(eng, settings)
    assert ("accept", NOVEL.reason) in eng.calls
    assert any(s.startswith("accepted as normal on this session") for s in shown), shown


async def test_accept_without_a_running_detector_or_a_site_says_where_to_go(settings: Settings) -> None:
    # the contract's default: nothing here can accept (like a stored session)
    shown = await _accept(ScriptedEngine(), settings)
    assert shown == ["no site to accept into: open the review with --site NAME"]
