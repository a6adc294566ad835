"""Reasons carry packet text raw (markup stays literal) but never hide or drop characters silently."""

from __future__ import annotations

from spear_tui.detect.novelty._text import int_ranges, listing, quote


def test_markup_stays_literal_and_control_characters_are_shown_escaped() -> None:
    assert quote("[bold red]pwn[/]") == "'[bold red]pwn[/]'"
    assert quote("a\nb\x00c\x1b[2J") == "'a\\x0ab\\x00c\\x1b[2J'"
    assert "\n" not in quote("x\n" * 5)


def test_long_and_empty_strings_say_what_was_cut() -> None:
    q = quote("z" * 100)
    assert q.startswith("'" + "z" * 60 + "'") and q.endswith("(+40 more chars)")
    assert quote("") == "'' (empty)" and quote(None) == "(none)"


def test_lists_count_what_they_do_not_show() -> None:
    assert listing(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"
    assert listing(["a", "b"]) == "a and b"
    assert int_ranges([3, 1, 2, 7, 9, 10]) == "1–3, 7 and 9–10"


def test_bidi_overrides_and_line_separators_cannot_reorder_or_split_a_reason() -> None:
    assert quote("\u202etxt.exe") == "'\\u202etxt.exe'"
    assert quote("a\u2028b\u200bc") == "'a\\u2028b\\u200bc'"
    assert quote("é漢😀") == "'é漢😀'"  # printable text is left alone
