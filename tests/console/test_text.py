"""Hostile packet strings are shown literally: no markup, no escape sequences, no bidi reordering."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from spear_tui.console.text import escape_controls, inert

HOSTILE = [
    "\x1b]8;;http://x\x07click\x1b]8;;\x07",
    "[bold red]x[/]",
    "[link=http://x]y[/link]",
    "abc\u202edef",
    "a\x1b[2Jb\x9bc\u2066d\u2069\r\n\t\x00",
]


def rendered(text) -> str:
    buf = io.StringIO()
    Console(file=buf, force_terminal=True, color_system="truecolor", width=200).print(text)
    return buf.getvalue()


@pytest.mark.parametrize("s", HOSTILE)
def test_inert_output_has_no_raw_controls_or_bidi(s: str) -> None:
    plain = inert(s).plain
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in plain)
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in plain)
    out = rendered(inert(s))
    # The terminal output may hold Rich's own SGR codes, but never the packet's OSC 8 / clear-screen / bidi.
    assert "\x1b]8;;http://x" not in out and "\x1b[2J" not in out and "\u202e" not in out


def test_markup_is_shown_literally() -> None:
    assert inert("[bold red]x[/]").plain == "[bold red]x[/]"
    assert inert("[link=http://x]y[/link]").plain == "[link=http://x]y[/link]"
    out = rendered(inert("[link=http://x]y[/link]"))
    assert "[link=http://x]y[/link]" in out
    assert "\x1b]8;" not in out  # no hyperlink was created


def test_escapes_are_visible_and_distinct() -> None:
    assert inert("a\x1bb").plain == "a\\x1bb"
    assert inert("abc\u202edef").plain == "abc\\u202edef"
    assert escape_controls("\x07\x9b\u2069") == "\\x07\\x9b\\u2069"
    # the escape is highlighted so a literal backslash-x typed by a sender looks different
    t = inert("a\x1b")
    assert any(span.style for span in t.spans)
    assert not inert("a\\x1b").spans


def test_plain_text_untouched_and_truncated() -> None:
    assert inert("sensor/kitchen/temp é 温度").plain == "sensor/kitchen/temp é 温度"
    assert inert("x" * 100, max_len=10).plain == "x" * 9 + "…"
    assert inert(None).plain == ""
