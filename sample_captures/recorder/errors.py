"""The one error the recorder reports as a single line."""


class RecorderError(Exception):
    """A problem the user can fix (busy port, missing tool); printed as one line."""
