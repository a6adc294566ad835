"""Protocol-aware novelty alerts (issue 9): cheap, explainable rules beside the sequence models.

Public API: `NoveltyDetector` (one per protocol, fed message tables) and `RULES` (rule names and
descriptions per protocol, for the console's switches). Which alerts make one incident is decided once,
for every detector, by `spear_tui.incidents`.
"""

from spear_tui.detect.novelty.detector import DEFAULT_LEARN_SECONDS, RULES, NoveltyDetector

__all__ = ["DEFAULT_LEARN_SECONDS", "RULES", "NoveltyDetector"]
