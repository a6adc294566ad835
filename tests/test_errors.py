"""UserError messages stay one inert line whatever file content they quote."""

from __future__ import annotations

import pytest

from spear_tui.errors import UserError
from spear_tui.logs import inert_error_line


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        ("b\nc", "b\\x0ac"),
        ("b\r\nc", "b\\x0d\\x0ac"),
        ("b\u2028c", "b\\u2028c"),
        ("\x1b[31mred", "\\x1b[31mred"),
    ],
)
def test_str_escapes_line_breaks_and_escapes(content: str, shown: str) -> None:
    exc = UserError(f"no numeric measurement columns (columns: time, {content})")
    assert str(exc) == f"no numeric measurement columns (columns: time, {shown})"
    assert len(inert_error_line(exc).splitlines()) == 1


def test_escaping_twice_changes_nothing() -> None:
    """The CLI escapes the line again; an already escaped message must come out unchanged."""
    once = str(UserError("a\nb"))
    assert str(UserError(once)) == once
