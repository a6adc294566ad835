"""Help (? / F1): the screens, the keys, and what the numbers mean."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = [
    (
        "Screens",
        [
            ("1", "Overview: loss panel + sensitivity slider per protocol model, meter summary, incidents"),
            ("2 3 4", "MQTT / Modbus / BACnet tables"),
            (
                "5",
                "Incidents (Enter: its alerts, again: a chunk's messages, again: a packet; o: newest or "
                "worst first; f: detector filter; s: severity filter; a: accept as normal)",
            ),
            ("6", "Meter: scored days, day plot, MSE histogram, threshold slider"),
            ("7", "Detectors: novelty on/off, rule switches and rate sensitivity per protocol"),
            ("ctrl+p", "Command palette: every action by name"),
        ],
    ),
    (
        "Replay",
        [
            ("space", "Pause / resume"),
            ("+ / -", "Faster / slower (0.25× … max)"),
            ("n / p", "Next / previous incident"),
        ],
    ),
    (
        "Sliders (Tab to focus)",
        [
            ("← / →", "Fine step"),
            ("shift+← / →", "Coarse step (×10)"),
            ("home / end", "Minimum / maximum; the mouse can click or drag the track too"),
            ("", "Moving a slider re-flags the stored scores at once and is saved per model"),
        ],
    ),
    (
        "Tables",
        [
            ("/", "Filter rows (Esc clears)"),
            ("s / r", "Sort by next column / reverse"),
            ("v", "Next view (e.g. MQTT clients ↔ topics)"),
            ("Esc", "Back from a drill-down"),
        ],
    ),
    ("", [("q", "Quit"), ("? / F1", "This help (Esc closes)")]),
]


def help_text() -> Text:
    text = Text()
    for title, rows in HELP:
        if title:
            text.append(f"{title}\n", style="bold underline")
        for key, what in rows:
            text.append(f"  {key:<13}", style="bold")
            text.append(f"{what}\n")
        text.append("\n")
    text.append(
        "k (LSTM sensitivity): a chunk is flagged when its score exceeds the detector's level by k.\n"
    )
    text.append("MSE (seq2seq): a day is flagged when its reconstruction error exceeds the threshold.\n")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,question_mark,f1,q", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "spear-tui help"
            yield Static(help_text())

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
