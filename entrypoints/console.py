"""The `keel` console script: the command line, wired to the HTTP application."""

from __future__ import annotations

from typing import Any

from entrypoints.cli.main import build_cli
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

ASGI_FACTORY = "entrypoints.http.app:create_app_from_env"


def openapi_document(settings: Settings) -> dict[str, Any]:
    return create_app(settings).openapi()


def main() -> None:
    build_cli(asgi_factory_path=ASGI_FACTORY, openapi_builder=openapi_document)()


if __name__ == "__main__":
    main()
