"""A site's console settings (thresholds, detector and rule switches) for headless runs too.

The console saves them in `<site>/settings.json` when it runs with `--site`; `scan --site` applies the
same values, so a threshold tuned in the console is the one `scan` judges by.
"""

from __future__ import annotations

from typing import Any

from spear_tui.protocols.schema import PROTOCOLS
from spear_tui.site.profile import Site


def apply_site_settings(engine: Any, site: Site, *, lstm_k_given: bool) -> list[str]:
    """Apply the site's saved LSTM k (unless --sensitivity was given), novelty sensitivities and rule
    switches to a built engine; returns the keys applied (nothing when the site has no settings)."""
    if site.sample or not site.settings_path.is_file():
        return []
    from spear_tui.console.app import lstm_key
    from spear_tui.console.screens.detectors import apply_saved
    from spear_tui.console.settings import Settings

    settings = Settings(site.settings_path)
    applied = []
    from spear_tui.detect.lstm.views import lstm_views

    for protocol in PROTOCOLS:
        for view in lstm_views(protocol):
            k = settings.get(lstm_key(protocol, view))
            if k is not None and not lstm_k_given:
                engine.set_sensitivity(protocol, view, k)
                applied.append(lstm_key(protocol, view))
    apply_saved(engine, settings)
    return applied
