"""The one table from error to exit code and message for the command line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError

from application.errors import MigrationError, StorageUnavailable
from application.mail import MailDeliveryFailed
from domain.errors import DomainError, ValidationFailed
from entrypoints.settings import describe_settings_error


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def readable_errors() -> Iterator[None]:
    """Every expected failure ends as one line on standard error and exit code 1."""
    try:
        yield
    except ValidationError as exc:
        raise fail(describe_settings_error(exc)) from None
    except ValidationFailed as exc:
        raise fail(f"{exc.field}: {exc.message}") from None
    except DomainError as exc:
        raise fail(exc.message) from None
    except StorageUnavailable as exc:
        raise fail(exc.message) from None
    except MigrationError as exc:
        raise fail(str(exc)) from None
    except MailDeliveryFailed as exc:
        raise fail(f"mail not delivered: {exc}") from None
    except OSError as exc:
        raise fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None


def stdin_is_interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()
