"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from entrypoints.container import Container, build_container, shutdown_container
from entrypoints.http.errors import install_error_handlers
from entrypoints.http.middleware.access_log import AccessLogMiddleware
from entrypoints.http.middleware.request_context import RequestContextMiddleware
from entrypoints.http.middleware.unhandled_errors import UnhandledErrorMiddleware
from entrypoints.http.routers import auth, health, items, users
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings, load_settings

DESCRIPTION = """Accounts and items. Every error answer uses one envelope:
`{"error": {"code", "message", "details", "request_id"}}`."""


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or load_settings()
    container = container or build_container(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container.token_service()  # fail at start-up, not on the first request
        # Long-lived objects made at start-up stay out of full collections from now on.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await shutdown_container(container)

    docs = settings.effective_docs_enabled
    app = FastAPI(
        title="Keel",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.container = container
    app.state.settings = settings

    for router in (users.router, auth.router, items.router, health.router):
        app.include_router(router)

    install_error_handlers(app)
    # Added last is outermost: request id and headers wrap everything, errors inside them.
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(RequestContextMiddleware, hsts=settings.environment != "development")
    return app


def create_app_from_env() -> FastAPI:
    """For ``uvicorn --factory``: settings from the environment, logging set up per worker."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    return create_app(settings)
