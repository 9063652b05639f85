"""Turns kgan's domain errors into one-line Click errors at the edge."""

import functools

import click

from kgan.errors import KganError, UsageError


class OneLineUsageError(click.ClickException):
    """A usage error printed as one line (no usage block), exit code 2."""

    exit_code = 2


def reports_errors(command):
    """Decorator: KganError becomes a one-line Click error (exit 2 for UsageError, else 1)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UsageError as error:
            raise OneLineUsageError(str(error)) from error
        except KganError as error:
            raise click.ClickException(str(error)) from error

    return wrapper
