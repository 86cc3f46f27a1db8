"""`keel audit`: an account's security events, for an operator."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from entrypoints.cli.errors import readable_errors

if TYPE_CHECKING:
    from domain.security_event import SecurityEvent
    from entrypoints.container import Container


def audit(
    email: Annotated[str, typer.Option(help="The account's email")],
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="At most this many events, newest first")
    ] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array, each event as the API shows it")
    ] = False,
) -> None:
    """Print an account's security events, newest first."""
    from entrypoints.container import build_container
    from entrypoints.settings import load_settings

    with readable_errors():
        settings = load_settings()
        events = asyncio.run(_trail(build_container(settings), email, limit))
    if as_json:
        typer.echo(json.dumps([_fields(event) for event in events], indent=2))
        return
    if not events:
        typer.echo("no security events")
    for event in events:
        typer.echo(_line(event))


async def _trail(container: Container, email: str, limit: int) -> list[SecurityEvent]:
    from application.use_cases.audit.account_trail import AccountTrailCommand
    from entrypoints.container import shutdown_container

    try:
        return await container.account_trail().execute(AccountTrailCommand(email, limit))
    finally:
        await shutdown_container(container)


def _fields(event: SecurityEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "type": event.type.value,
        "user_id": str(event.user_id) if event.user_id else None,
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "address": event.address,
        "user_agent": event.user_agent,
        "at": event.at.isoformat().replace("+00:00", "Z"),
        "details": event.details,
    }


def _line(event: SecurityEvent) -> str:
    """One event a line; the user agent quoted (JSON), so that whatever a client sent stays
    on its line."""
    fields = _fields(event)
    actor = fields["actor_id"] or "system"
    details = json.dumps(event.details, separators=(",", ":"), sort_keys=True)
    return (
        f"{fields['at']}  {fields['type']:<20}  actor={actor}  address={event.address or '-'}  "
        f"user_agent={json.dumps(event.user_agent)}  details={details}"
    )
