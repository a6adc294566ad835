"""Errors meant for the user: the CLI prints their message as one line and exits 2."""


class UserError(Exception):
    """Bad input or environment the user can fix (missing tshark, unreadable file, bad option)."""
