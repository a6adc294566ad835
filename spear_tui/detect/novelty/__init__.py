"""Protocol-aware novelty alerts (issue 9): cheap, explainable rules beside the sequence models.

Public API: `NoveltyDetector` (one per protocol, fed message tables), `RULES` (rule names and
descriptions per protocol, for the console's switches) and `merge_alerts` (one alert per incident,
naming every detector that agrees).
"""

from spear_tui.detect.novelty.detector import DEFAULT_LEARN_SECONDS, RULES, NoveltyDetector
from spear_tui.detect.novelty.merge import merge_alerts

__all__ = ["DEFAULT_LEARN_SECONDS", "RULES", "NoveltyDetector", "merge_alerts"]
