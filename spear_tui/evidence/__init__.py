"""Evidence export: an alert's window of frames cut from its source capture, plus its messages."""

from spear_tui.evidence.export import Evidence, alert_source, export_alert, export_evidence

__all__ = ["Evidence", "alert_source", "export_alert", "export_evidence"]
