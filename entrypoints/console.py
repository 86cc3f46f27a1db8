"""The `keel` console script: the command line, wired to the HTTP application.

Each worker of ``keel serve --workers N`` starts by importing this module again (the
multiprocessing "spawn" start re-runs the main script) before it can answer its supervisor's
health pings: so it imports nothing until a command runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entrypoints.settings import Settings

ASGI_FACTORY = "entrypoints.http.app:create_app_from_env"


def openapi_document(settings: Settings) -> dict[str, Any]:
    from entrypoints.http.app import create_app

    return create_app(settings).openapi()


def main() -> None:
    from entrypoints.cli.errors import run_command_line
    from entrypoints.cli.main import build_cli

    run_command_line(build_cli(asgi_factory_path=ASGI_FACTORY, openapi_builder=openapi_document))


if __name__ == "__main__":
    main()
