"""spear-tui: a terminal console for anomaly detection on smart-home/office networks."""

__version__ = "0.1.0"
