"""Unhandled errors to Sentry, when ``SENTRY_DSN`` is set: the 500s the HTTP guard answers and
the jobs that ran out of tries. Without a DSN nothing here imports the SDK, so a serving
worker neither loads it nor pays for it.

Each report carries the request id, the route template (never the raw path, which holds ids),
the user's id (never the email), the environment and the release; what leaves goes through
the same redaction as the log lines."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from entrypoints.logs import redact

if TYPE_CHECKING:
    from entrypoints.settings import Settings

UNMATCHED_ROUTE = "<unmatched>"
# Addresses of the client and its proxies: personal data, which is not sent (as the SDK's
# ``send_default_pii=False`` does for what it collects itself).
_ADDRESS_HEADERS = frozenset({"forwarded", "x-forwarded-for", "x-real-ip"})


def _release() -> str:
    try:
        return f"keel@{version('keel')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "keel@unknown"


def start_error_reporting(settings: Settings) -> bool:
    """Once per process (each ``keel serve`` worker, each ``keel worker``); a no-op without a
    DSN or when this process already reports. True when reporting is on."""
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.atexit import AtexitIntegration
    from sentry_sdk.integrations.dedupe import DedupeIntegration
    from sentry_sdk.integrations.excepthook import ExcepthookIntegration

    if sentry_sdk.get_client().is_active():
        return True
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment,
        release=_release(),
        # The SDK's default integrations are off, and chosen one by one. Its logging
        # integration would send every error line as a second event (the guard and the job
        # runner log each failure they report) and every other line as a breadcrumb; its
        # Starlette, FastAPI, SQLAlchemy, Redis and HTTP integrations would collect the
        # request's body, cookies, SQL and URLs on their own (and trace, which OpenTelemetry
        # does). Kept: sending what is queued when the process exits, dropping a repeat of
        # the same exception, and the exceptions that end the process.
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[AtexitIntegration(), DedupeIntegration(), ExcepthookIntegration()],
        # Personal data (client addresses, cookies, the user's email) stays out: that is the
        # SDK's default (``send_default_pii`` unset, which this version deprecates setting),
        # under which its own scrubber also blanks the values of sensitive-looking keys.
        # A frame's local variables hold passwords, tokens and rows; redaction by name
        # would miss a secret held under an ordinary name.
        include_local_variables=False,
        max_breadcrumbs=0,
        traces_sample_rate=None,
        before_send=_redacted,
    )
    return True


def stop_error_reporting(timeout: float = 5.0) -> None:
    """Send what is queued and stop reporting (tests; a process's exit does it by itself)."""
    import sentry_sdk

    client = sentry_sdk.get_client()
    if client.is_active():
        client.close(timeout=timeout)
        sentry_sdk.get_global_scope().set_client(None)


def _redacted(event: Any, _hint: Any) -> Any:
    """Every event, whoever made it, goes through the log lines' redaction: secret-looking
    keys (authorization, cookie, anything with password or token) lose their values, and
    bearer tokens, JWTs, URL passwords and ``password=...`` are cut out of all text."""
    return redact(event)


def report_request_error(exc: BaseException, scope: Mapping[str, Any]) -> None:
    """An exception the HTTP guard turned into a 500."""
    import sentry_sdk

    route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
    state = scope.get("state", {})
    request = {
        "method": scope.get("method"),
        "headers": _headers(scope),
        # As pairs by name, so that a ``reset_token`` or ``password`` parameter is redacted
        # by its name, as a field of a log line is.
        "query_string": dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))),
    }
    with sentry_sdk.new_scope() as report:
        report.set_tag("request_id", state.get("request_id"))
        report.set_tag("route", route)
        report.set_transaction_name(f"{scope.get('method')} {route}")
        if state.get("user_id"):
            report.set_user({"id": state["user_id"]})
        report.add_event_processor(lambda event, _hint: {**event, "request": request})
        sentry_sdk.capture_exception(exc)


def report_job_failure(kind: str, attempt: int, exc: BaseException) -> None:
    """A job that failed for good: out of tries, or unreadable."""
    import sentry_sdk

    with sentry_sdk.new_scope() as report:
        report.set_tag("job_kind", kind)
        report.set_tag("job_attempt", str(attempt))
        report.set_transaction_name(f"job {kind}")
        sentry_sdk.capture_exception(exc)


def _headers(scope: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        key = name.decode("latin-1").lower()
        if key not in _ADDRESS_HEADERS:
            found[key] = value.decode("latin-1")
    return found
