"""Events with hostile text shared by the report tests."""

from __future__ import annotations

import pytest

from spear_tui.events import Alert, ChunkScored, DayScored

# would paint the page red if it ever ran; ANSI colour, Rich markup, OSC hyperlink, RTL override
HOSTILE = (
    "<script>document.documentElement.style.background='rgb(255,0,0)'</script>"
    "<img src=x onerror=alert(1)>\x1b[31m[bold]boom[/bold]\x1b]8;;http://evil\x07link\u202eevil\u200b"
)


@pytest.fixture
def events() -> tuple[list[ChunkScored], dict[int, Alert], list[DayScored]]:
    chunks = []
    for proto, base in (("mqtt", 0.2), ("modbus", 0.05)):
        for i in range(300):
            score = base * (1.0 + 0.2 * ((i * 37) % 11) / 11) + (4 * base if 150 <= i < 153 else 0.0)
            thr = None if i < 20 else base * 2.5
            chunks.append(
                ChunkScored(proto, i, 1.7e9 + 2 * i, 1.7e9 + 2 * i + 2, 50 * i + 1, 50 * i + 50, score,
                            score * 0.8, thr is not None and score > thr, thr, talkers=(HOSTILE,))
            )  # fmt: skip
    alerts = {
        7: Alert("mqtt", "lstm", 1.7e9 + 300, 1.7e9 + 306, 7501, 7650, 1.0, 0.5,
                 "loss above threshold " + HOSTILE,
                 ("10.0.0.5", HOSTILE), "high", 0, "/captures/site-a.pcapng", ("lstm", "novelty")),
        9: Alert("modbus", "novelty", 1.7e9 + 310, 1.7e9 + 311, 7800, 7801, 1.0, 1.0, "=HYPERLINK(\"http://x\")",
                 ("-1+1",), "low", 1, "/captures/site-b.pcapng", ()),
    }  # fmt: skip
    days = [
        DayScored("kwh", f"2024-01-{d:02d}", 0.1 + 0.3 * (d == 15), d == 15, True, 0.3) for d in range(1, 31)
    ]
    return chunks, alerts, days
