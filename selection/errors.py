"""The one error type the command line turns into a one-line message and a non-zero exit."""


class SelectionError(Exception):
    """Bad input or an unrecoverable condition; the message names the fix."""
