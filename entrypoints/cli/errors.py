"""The one table from error to exit code and message for the command line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from application.errors import MigrationError, SecondFactorUnavailable, StorageUnavailable
from application.mail import MailDeliveryFailed
from domain.errors import DomainError, ValidationFailed


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def readable_errors() -> Iterator[None]:
    """Every expected failure ends as one line on standard error and exit code 1."""
    try:
        yield
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None
    except Exception as exc:
        message = _describe(exc)
        if message is None:
            raise
        raise fail(message) from None


def _describe(exc: Exception) -> str | None:
    """The line for an expected failure; None for anything else. Pydantic is imported here,
    once settings have failed, so that a command that needs none pays nothing for it."""
    if isinstance(exc, ValidationFailed):
        return f"{exc.field}: {exc.message}"
    if isinstance(exc, DomainError | StorageUnavailable | SecondFactorUnavailable):
        return exc.message
    if isinstance(exc, MigrationError):
        return str(exc)
    if isinstance(exc, MailDeliveryFailed):
        return f"mail not delivered: {exc}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
    if "pydantic" in sys.modules:
        from pydantic import ValidationError

        from entrypoints.settings import describe_settings_error

        if isinstance(exc, ValidationError):
            return describe_settings_error(exc)
    return None


def stdin_is_interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def run_command_line(app: typer.Typer) -> None:
    """Run ``app`` as the ``keel`` command: a usage error (an unknown command or option, a
    value out of range) is one ``error:`` line and exit code 2, like every other refusal,
    rather than the framework's boxed, many-line message."""
    # Typer's own copy of click; its exceptions are not re-exported by Typer.
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `keel` alone: the help, as before
        exc.show()
        sys.exit(exc.exit_code)
    except UsageError as exc:
        path = exc.ctx.command_path if exc.ctx is not None else "keel"
        typer.echo(f"error: {exc.format_message()} (see '{path} --help')", err=True)
        sys.exit(exc.exit_code)
    except ClickException as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
