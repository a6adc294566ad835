"""Errors meant for the user: the CLI prints their message as one line and exits 2."""

from spear_tui.text import escape_controls


class UserError(Exception):
    """Bad input or environment the user can fix (missing tshark, unreadable file, bad option).

    Messages quote file content (column names, cells, paths), which may hold newlines or terminal
    escapes: `str()` escapes them, so every sink gets one inert line whatever the file holds.
    """

    def __str__(self) -> str:
        return escape_controls(super().__str__())
