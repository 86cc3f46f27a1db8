"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from entrypoints.container import Container, build_container, shutdown_container
from entrypoints.container.tracing import (
    configure_tracing,
    flush_traces,
    tracer_provider,
    tracing_enabled,
)
from entrypoints.error_reporting import report_request_error, start_error_reporting
from entrypoints.heap import settle_heap
from entrypoints.http.asyncapi import install_asyncapi
from entrypoints.http.docs import install_docs
from entrypoints.http.errors import install_error_handlers
from entrypoints.http.live.going_away import close_sockets_on_sigterm
from entrypoints.http.live.session import ConnectionCounter
from entrypoints.http.middleware.access_log import AccessLogMiddleware
from entrypoints.http.middleware.body_limit import BodyLimitMiddleware
from entrypoints.http.middleware.client_address import ClientAddressMiddleware
from entrypoints.http.middleware.compression import CompressionMiddleware
from entrypoints.http.middleware.cors import CORSMiddleware
from entrypoints.http.middleware.methods import MethodsMiddleware
from entrypoints.http.middleware.request_context import RequestContextMiddleware
from entrypoints.http.middleware.tracing import UNTRACED, GatedFastAPI, request_telemetry
from entrypoints.http.middleware.trusted_hosts import TrustedHostMiddleware
from entrypoints.http.middleware.unhandled_errors import UnhandledErrorMiddleware
from entrypoints.http.pages import routes as pages
from entrypoints.http.paths import ATTACHMENTS_PATH
from entrypoints.http.readiness import Readiness
from entrypoints.http.routers import (
    attachments,
    auth,
    credentials,
    health,
    items,
    me,
    metrics,
    mfa,
    realtime,
    security_events,
    users,
)
from entrypoints.logs import configure_logging
from entrypoints.metrics import Metrics
from entrypoints.settings import Settings, load_settings

GZIP_MINIMUM_BYTES = 1024
# Room for the multipart framing around an upload's bytes: boundaries and part headers.
MULTIPART_FRAMING_BYTES = 64 * 1024
DESCRIPTION = """Accounts and items. Every error answer uses one envelope:
`{"error": {"code", "message", "details", "request_id"}}`."""


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or load_settings()
    container = container or build_container(settings)
    readiness = Readiness(container)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container.token_service()  # fail at start-up, not on the first request
        # Before any other thread starts: the hashing threads then share the heap they trim.
        container.prepare_hashing()
        settle_heap()
        await readiness.start()
        live: ConnectionCounter = app.state.live_connections
        live.renew()
        restore_sigterm = close_sockets_on_sigterm(live.stop, live.all_closed)
        runner = None
        if settings.effective_jobs_in_process:
            runner = container.job_runner()
            runner.start()
        try:
            yield
        finally:
            restore_sigterm()
            if runner is not None:
                await runner.stop()
            await readiness.stop()
            await shutdown_container(container)
            container.metrics().close()
            flush_traces()

    docs = settings.effective_docs_enabled
    traced = tracing_enabled()
    # With tracing off, FastAPI itself: not even the gate's frame on a request's way.
    app = (GatedFastAPI if traced else FastAPI)(
        title="Keel",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Keel serves its own pages for these (docs.py), which need no CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        # One spelling per path: a trailing slash is a 404, never a redirect, whose Location
        # the router would build from the request's Host header.
        redirect_slashes=False,
        # The request's span is FastAPI's own, behind Keel's sampling gate (tracing.py).
        telemetry=request_telemetry(tracer_provider()) if traced else UNTRACED,
    )
    app.state.container = container
    app.state.settings = settings
    app.state.readiness = readiness
    app.state.live_connections = ConnectionCounter()

    # /users/me before /users/{user_id}, which would take "me" for an id. The router tries
    # each route in this order on every request, at a cost per route tried: the hottest
    # routes (users/me, the items) come first. No path of theirs matches another router's.
    routers = (
        me.router,
        items.router,
        security_events.router,
        users.router,
        auth.router,
        credentials.router,
        mfa.router,
        attachments.router,
        health.router,
        metrics.router,
        realtime.router,
        pages.router,
    )
    for router in routers:
        app.include_router(router)
    if docs:
        install_docs(app)
        install_asyncapi(app)

    install_error_handlers(app)
    install_middleware(app, settings, container.metrics())
    if isinstance(app, GatedFastAPI):
        app.trace_requests(tracer_provider())
    return app


def install_middleware(app: FastAPI, settings: Settings, app_metrics: Metrics) -> None:
    """All plain ASGI. From the outside in: the client's address behind trusted proxies;
    request id and security headers; access log and metrics; CORS; unexpected errors to
    500; trusted hosts; body limit; HEAD and OPTIONS; compression."""
    # Added last is outermost.
    app.add_middleware(CompressionMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6)
    # Outside compression, so that HEAD's headers are those of the GET a client would get.
    app.add_middleware(MethodsMiddleware)
    upload_limit = settings.attachment_max_bytes + MULTIPART_FRAMING_BYTES
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_body_bytes,
        streamed=("POST", ATTACHMENTS_PATH, upload_limit),
    )
    if "*" not in settings.trusted_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    # The 500s go to Sentry when a DSN is set (``start_error_reporting`` in each worker).
    on_error = report_request_error if settings.sentry_dsn is not None else None
    app.add_middleware(UnhandledErrorMiddleware, on_error=on_error)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, origins=settings.cors_origins)
    app.add_middleware(AccessLogMiddleware, metrics=app_metrics)
    app.add_middleware(RequestContextMiddleware, hsts=settings.environment != "development")
    if settings.trusted_proxies:
        app.add_middleware(
            ClientAddressMiddleware,
            trusted=settings.trusted_proxies,
            header=settings.forwarded_header,
        )


def create_app_from_env() -> FastAPI:
    """For ``uvicorn --factory``: settings from the environment; logging and error reporting
    set up per worker."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    start_error_reporting(settings)
    configure_tracing()
    return create_app(settings)
