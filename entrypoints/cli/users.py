"""`keel users`: an operator's help with accounts."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from entrypoints.cli.errors import readable_errors

if TYPE_CHECKING:
    from application.use_cases.mfa.reencrypt_secrets import Reencrypted
    from entrypoints.container import Container

users_cli = typer.Typer(help="Help users with their accounts", no_args_is_help=True)


@users_cli.command("disable-mfa")
def disable_mfa(email: Annotated[str, typer.Option(help="The account's email")]) -> None:
    """Turn a locked-out user's second factor off: the TOTP secret and every recovery code
    are deleted, and the security trail records it (the actor: the system). The user logs
    in with the password alone until they set a second factor up again (at once, when
    their role requires one)."""
    from entrypoints.container import build_container
    from entrypoints.settings import load_settings

    with readable_errors():
        settings = load_settings()
        asyncio.run(_disable(build_container(settings), email))
    typer.echo(f"second factor turned off for {email.strip()}")


@users_cli.command("reencrypt-secrets")
def reencrypt_secrets() -> None:
    """Re-encrypt every stored TOTP secret under the first key of ENCRYPTION_KEY, so that the
    keys after it can be removed. Exit code 1 when a secret no configured key opens is left."""
    from application.errors import SecondFactorUnavailable
    from entrypoints.container import build_container
    from entrypoints.settings import load_settings

    with readable_errors():
        settings = load_settings()
        if settings.encryption_key_value() is None:
            raise SecondFactorUnavailable()  # nothing to encrypt under, even with no secrets
        done = asyncio.run(_reencrypt(build_container(settings)))
    typer.echo(f"{done.rewritten} secrets re-encrypted under the first key")
    if done.unreadable:
        typer.echo(f"error: {done.unreadable} secrets open with no configured key", err=True)
        raise typer.Exit(1)


async def _reencrypt(container: Container) -> Reencrypted:
    from entrypoints.container import shutdown_container

    try:
        return await container.reencrypt_secrets().execute()
    finally:
        await shutdown_container(container)


async def _disable(container: Container, email: str) -> None:
    from application.use_cases.mfa.operator_disable import OperatorDisableMfaCommand
    from entrypoints.container import shutdown_container

    try:
        await container.operator_disable_mfa().execute(OperatorDisableMfaCommand(email))
    finally:
        await shutdown_container(container)
