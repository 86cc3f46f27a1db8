"""The `keel` command line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from entrypoints.cli.audit import audit
from entrypoints.cli.errors import fail, readable_errors, stdin_is_interactive
from entrypoints.cli.jobs import jobs_cli, worker
from entrypoints.cli.key_check import refuse_without_needed_key
from entrypoints.cli.users import users_cli

# Each command imports what it needs when it runs: `keel --help` and `keel migrate` load
# neither the web framework nor the container.
if TYPE_CHECKING:
    from application.use_cases.accounts.create_superuser import CreateSuperuser
    from entrypoints.container import Container
    from entrypoints.settings import Settings

OpenApiBuilder = Callable[["Settings"], dict[str, Any]]


def build_cli(*, asgi_factory_path: str, openapi_builder: OpenApiBuilder) -> typer.Typer:
    """The command line, given the HTTP side it serves and documents. This package does not
    import the HTTP entrypoint; the console script composes the two."""
    app = typer.Typer(
        name="keel",
        help="Keel: accounts-and-items API service.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port to bind")] = 8000,
        workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    ) -> None:
        """Serve the HTTP API with uvicorn (uvloop, httptools with bounded reads)."""
        import uvicorn

        from entrypoints.cli.listen import cannot_listen
        from entrypoints.cli.metrics import shared_metrics_directory
        from entrypoints.cli.server_options import server_options
        from entrypoints.logs import configure_logging
        from entrypoints.settings import load_settings

        with readable_errors():
            settings = load_settings()
            _one_secret_for_all_workers(settings)
        if (reason := cannot_listen(host, port)) is not None:
            raise fail(reason)
        configure_logging(settings.log_level, settings.effective_log_format)
        with readable_errors():
            refuse_without_needed_key(settings)
        # Uvicorn takes SIGTERM and SIGINT while it serves: it stops accepting, finishes the
        # requests in flight, runs the shutdown (which closes the pool), then raises the
        # signal again for the handler it found. With this one, SIGTERM then ends with
        # status 0 like SIGINT does, instead of killing the process by the signal.
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            with shared_metrics_directory(workers):
                uvicorn.run(
                    asgi_factory_path,
                    factory=True,
                    host=host,
                    port=port,
                    workers=workers,
                    loop="uvloop",
                    log_level=settings.log_level.lower(),
                    log_config=None,  # Keel's own logging (structlog) is set up in each worker
                    access_log=False,
                    proxy_headers=False,  # TRUSTED_PROXIES decides, in the app
                    server_header=False,
                    timeout_graceful_shutdown=20,
                    **server_options(settings),
                )
        finally:
            signal.signal(signal.SIGTERM, previous)

    @app.command()
    def openapi(
        output: Annotated[
            Path | None, typer.Option(help="File to write (default: standard output)")
        ] = None,
    ) -> None:
        """Write the OpenAPI document as JSON."""
        from entrypoints.settings import load_settings

        with readable_errors():
            text = json.dumps(openapi_builder(load_settings()), indent=2) + "\n"
            if output is None:
                typer.echo(text, nl=False)
                return
            output.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {output}", err=True)

    app.command()(worker)
    app.add_typer(jobs_cli, name="jobs")
    app.command()(migrate)
    app.command("create-superuser")(create_superuser)
    app.command("send-test-email")(send_test_email)
    app.command()(audit)
    app.add_typer(users_cli, name="users")
    return app


def _one_secret_for_all_workers(settings: Settings) -> None:
    """Each worker reads its settings afresh, and a secret made for one process (the file of
    development, the random one of ``ENVIRONMENT=test``) is made here, once, and handed to
    every worker in its environment: a token one worker signs, the others accept."""
    os.environ["JWT_SECRET"] = settings.jwt_secret_value()
    if (keys := settings.encryption_key_value()) is not None:
        os.environ["ENCRYPTION_KEY"] = keys


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM outside uvicorn's own handling: replayed after its graceful shutdown, or
    received before it started serving. Either way a stop was asked for."""
    raise SystemExit(0)


def migrate(
    to: Annotated[
        str | None, typer.Option("--to", help="Go up or down to this revision (or base, head)")
    ] = None,
    status: Annotated[bool, typer.Option("--status", help="Print current and head")] = False,
) -> None:
    """Upgrade the database to the newest migration, or move it to a given revision."""
    from entrypoints.container.migrations import migrator as make_migrator
    from entrypoints.container.migrations import schema_status
    from entrypoints.settings import load_settings

    with readable_errors():
        database_url = load_settings().database_url
        if status:
            current, chain = schema_status(database_url)
            state, code = _migration_state(current, chain.head, chain.knows)
            typer.echo(f"current: {current or 'base'}\nhead: {chain.head}\nstatus: {state}")
            raise typer.Exit(code)
        migrator = make_migrator(database_url)
        migrator.migrate_to(to or "head")
        typer.echo(f"database at {migrator.current() or 'base'}")


def _migration_state(
    current: str | None, head: str | None, knows: Callable[[str], bool]
) -> tuple[str, int]:
    """The status line and exit code of ``keel migrate --status``: a deploy script can wait
    for 0, migrate on 1 and stop on 2 (a database a newer release has migrated)."""
    if current == head:
        return "up to date", 0
    if current is not None and not knows(current):
        return "unknown revision", 2
    return "behind", 1


def send_test_email(
    to: Annotated[str, typer.Option("--to", help="Where to send the test mail")],
) -> None:
    """Send a test mail with the mail settings (SMTP_*), to check that they work."""
    from application.mail import Mail, MailKind
    from domain.email import Email
    from entrypoints.container import build_container
    from entrypoints.logs import configure_logging
    from entrypoints.settings import load_settings

    with readable_errors():
        settings = load_settings()
        configure_logging(settings.log_level, settings.effective_log_format)
        address = str(Email(to))
        asyncio.run(build_container(settings).email_sender().send(Mail(MailKind.TEST, to=address)))
        via = (
            f"SMTP {settings.smtp_host}:{settings.smtp_port}"
            if settings.smtp_host
            else "the log (SMTP_HOST is not set)"
        )
        typer.echo(f"sent a test mail to {address} via {via}")


def create_superuser(
    email: Annotated[str, typer.Option(help="The administrator's email")],
    full_name: Annotated[str | None, typer.Option(help="Display name")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create an administrator account."""
    from entrypoints.container import build_container
    from entrypoints.settings import load_settings

    with readable_errors():
        settings = load_settings()
        if not password_stdin and not stdin_is_interactive():
            raise fail("standard input is not a terminal: use --password-stdin")
        created = asyncio.run(
            _create_superuser(build_container(settings), email, full_name, password_stdin)
        )
        typer.echo(f"created administrator {created}")


async def _create_superuser(
    container: Container, email: str, full_name: str | None, password_stdin: bool
) -> str:
    from application.use_cases.accounts.create_superuser import CreateSuperuserCommand
    from entrypoints.container import shutdown_container

    try:
        use_case: CreateSuperuser = container.create_superuser()
        await use_case.check_email(email)
        # The prompt blocks the loop on purpose: nothing else runs in this process, and a
        # prompt in a thread would outlive a Ctrl-C.
        password = (
            _password_from_stdin() if password_stdin else _prompt_password(use_case.check_password)
        )
        command = CreateSuperuserCommand(email=email, password=password, full_name=full_name)
        user = await use_case.execute(command)
        return f"{user.email} ({user.id})"
    finally:
        await shutdown_container(container)


def _password_from_stdin() -> str:
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise fail("no password on standard input")
    return password


def _prompt_password(check: Callable[[str], None]) -> str:
    """Ask at the terminal until a password meets the policy."""
    from domain.errors import WeakPassword

    while True:
        password = str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
        try:
            check(password)
        except WeakPassword as exc:
            typer.echo(f"{exc.message}; try again.", err=True)
            continue
        return password
