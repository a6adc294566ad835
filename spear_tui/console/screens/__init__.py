"""Console screens, one module each; `make_modes` maps the app's modes (keys 1-7) to screen factories."""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen


def make_modes(kind: str) -> dict[str, Callable[[], Screen]]:
    from spear_tui.console.screens.detectors import DetectorsScreen
    from spear_tui.console.screens.incidents import IncidentsScreen
    from spear_tui.console.screens.meter import MeterScreen
    from spear_tui.console.screens.overview import OverviewScreen
    from spear_tui.console.screens.protocol import ProtocolScreen

    modes: dict[str, Callable[[], Screen]] = {"meter": MeterScreen}
    if kind != "meter":
        modes.update(
            {
                "overview": OverviewScreen,
                "mqtt": lambda: ProtocolScreen("mqtt"),
                "modbus": lambda: ProtocolScreen("modbus"),
                "bacnet": lambda: ProtocolScreen("bacnet"),
                "incidents": IncidentsScreen,
                "detectors": DetectorsScreen,
            }
        )
    return modes
