"""The learning period in the console: the header counts down what the engine reports and, when the
period ends, the console lists what was learned (the real engine's numbers are tested in tests/sites
and tests/console/test_tmux_site.py; here the console's handling of them)."""

from __future__ import annotations

from spear_tui.console.settings import Settings

from .harness import FixedClock, ScriptedEngine, basic_batches, make_app, screen_text, settle


async def test_header_counts_down_and_lists_what_was_learned(settings: Settings) -> None:
    reports = [{"left": 161.4, "learned": []}]

    def learning() -> dict:
        return reports[-1]

    eng = ScriptedEngine(basic_batches()[0], learning=learning)
    clock = FixedClock()
    app = make_app(eng, settings, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, eng)
        clock.t += 2
        app.drain()
        await pilot.pause()
        assert "learning: 2:41 left" in (await screen_text(app, pilot)).splitlines()[0]
        reports.append({"left": None, "learned": ["modbus: 5154 messages, 3 masters, 1 writers"]})
        clock.t += 2
        app.drain()
        await pilot.pause()
        assert "learning:" not in (await screen_text(app, pilot)).splitlines()[0]
        shown = [str(n.message) for n in app._notifications]
        assert any("learning done: modbus: 5154 messages, 3 masters" in m for m in shown)
