"""Errors a user can fix. Their messages say what was wrong and what to do."""


class KganError(Exception):
    """A failure with a one-line, actionable message (exit code 1 on the CLI)."""


class UsageError(KganError):
    """Bad input from the user: options, paths, files (exit code 2 on the CLI)."""


def first_line(error):
    """The first line of an exception's message (its class name when it has none), for one-line errors."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
