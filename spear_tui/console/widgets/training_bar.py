"""Training progress of offline models (e.g. seq2seq epochs): one line per model, hidden when idle."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from spear_tui.console.widgets.loss_panel import fmt_score
from spear_tui.events import TrainingProgress


class TrainingBar(Widget):
    DEFAULT_CSS = """
    TrainingBar { height: auto; max-height: 3; width: 1fr; display: none; }
    TrainingBar.-active { display: block; }
    TrainingBar > .training--bar { color: $secondary; }
    """
    COMPONENT_CLASSES = {"training--bar"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.training: dict[str, TrainingProgress] = {}

    def update_training(self, training: dict[str, TrainingProgress]) -> None:
        self.training = dict(training)
        self.set_class(any(t.epoch < t.epochs for t in self.training.values()), "-active")
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        return max(1, len(self.training))

    def render(self) -> Text:
        width = self.size.width or 80
        out = Text(no_wrap=True, overflow="crop")
        for i, (name, t) in enumerate(sorted(self.training.items())):
            if i:
                out.append("\n")
            head = f"train {name} "
            tail = f" {t.epoch}/{t.epochs}  loss {fmt_score(t.loss)}"
            if t.val_loss is not None:
                tail += f"  val {fmt_score(t.val_loss)}"
            bar_w = max(4, width - len(head) - len(tail))
            filled = int(round(bar_w * t.epoch / max(1, t.epochs)))
            out.append(head)
            out.append("█" * filled, self.get_component_rich_style("training--bar"))
            out.append("░" * (bar_w - filled))
            out.append(tail)
        return out
