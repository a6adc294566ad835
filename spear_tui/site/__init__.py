"""Site profiles: everything learned about one network (models, baselines, settings, manifest)."""

from spear_tui.site.profile import Site, open_site

__all__ = ["Site", "open_site"]
