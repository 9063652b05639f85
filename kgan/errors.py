"""Errors a user can fix. Their messages say what was wrong and what to do."""


class KganError(Exception):
    """A failure with a one-line, actionable message (exit code 1 on the CLI)."""


class UsageError(KganError):
    """Bad input from the user: options, paths, files (exit code 2 on the CLI)."""
