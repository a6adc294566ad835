"""One definition of inert text, and every sink applies it the same way."""

import pytest

from spear_tui.console.text import inert as console_inert
from spear_tui.detect.novelty._text import quote
from spear_tui.report.text import inert as report_inert
from spear_tui.text import escape_controls

HOSTILE = [
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("\x1b]8;;http://x\x07link\x1b]8;;\x07", "\\x1b]8;;http://x\\x07link\\x1b]8;;\\x07"),
    ("abc\u202edef", "abc\\u202edef"),
    ("zero\u200bwidth", "zero\\u200bwidth"),
    ("line\u2028sep", "line\\u2028sep"),
    ("c1\x9bcsi", "c1\\x9bcsi"),
    ("[bold red]x[/]", "[bold red]x[/]"),  # markup is not a control: kept, and shown literally
    ("Θεσσαλονίκη 温度", "Θεσσαλονίκη 温度"),  # printable text in any script stays readable
]


@pytest.mark.parametrize(("raw", "shown"), HOSTILE)
def test_every_sink_escapes_the_same_way(raw, shown):
    assert escape_controls(raw) == shown
    assert report_inert(raw) == shown
    assert console_inert(raw).plain == shown
    assert quote(raw) == f"'{shown}'"  # alert reasons quote packet strings
    assert not any(ch in console_inert(raw).plain for ch in "\x1b\x07\u202e\u200b\u2028\x9b")


def test_none_is_empty():
    assert escape_controls(None) == ""
