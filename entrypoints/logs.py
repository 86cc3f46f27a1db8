"""Logging: structlog for Keel's own lines, and the same pipeline for uvicorn's and
SQLAlchemy's. JSON lines in production, readable lines in development. Secrets never leave:
a processor redacts them from every line, whoever logged it."""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import threading
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import structlog
from structlog.types import EventDict, Processor

REDACTED = "[REDACTED]"
_SECRET_KEYS = re.compile(
    r"pass(word)?|secret|token|authorization|cookie|api[_-]?key|credential|dsn", re.IGNORECASE
)
_SECRET_TEXT = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"\beyJ[\w-]*\.[\w-]*\.[\w-]*"), REDACTED),  # anything shaped like a JWT
    (re.compile(r"(\w+://[^:/@\s]*:)[^@\s]+@"), r"\1" + REDACTED + "@"),  # passwords in URLs
    (
        # The name may have a prefix: access_token=, reset_token:, client_secret=.
        re.compile(
            r"(?i)\b([\w-]*?(?:password|passwd|secret|token))(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"
        ),
        r"\1\2" + REDACTED,
    ),
]
_FOREIGN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic")


# Every pattern above needs one of these; most text (paths, ids, addresses) has none of
# them, and is let through after one check instead of four substitutions.
_MIGHT_HOLD_A_SECRET = re.compile(r"(?i)bearer|basic|eyJ|://|passw|secret|token")


def _might_hold_a_secret(text: str) -> bool:
    """``_MIGHT_HOLD_A_SECRET``'s answer. ASCII text (nearly all) is looked through in lower
    case for each mark, at a tenth of the regular expression's cost; other text goes to the
    expression, whose case-blind matching also takes the long s (U+017F) for ``s``."""
    if text.isascii():
        low = text.lower()
        return (
            "bearer" in low
            or "basic" in low
            or "eyj" in low
            or "://" in low
            or "passw" in low
            or "secret" in low
            or "token" in low
        )
    return _MIGHT_HOLD_A_SECRET.search(text) is not None


def redact_text(text: str) -> str:
    if not _might_hold_a_secret(text):
        return text
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=1024)
def _is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEYS.search(key))


def _redact(value: Any, key: str = "") -> Any:
    if key and value is not None and _is_secret_key(key):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, int | float):  # most values that are not text
        return value
    if isinstance(value, MutableMapping):
        return {k: _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact(value: Any) -> Any:
    """The log lines' redaction, for what leaves the process another way (error reports)."""
    return _redact(value)


# The one deliberate exception: the link of a mail written to the log instead of sent. That
# log is the development mail box; in staging and production the sender hides the token.
MAIL_LOGGER, MAIL_LINK = "keel.mail", "link"


def redact_secrets(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Replace the values of secret-looking keys, and secrets inside any text."""
    for key, value in list(event_dict.items()):
        if key == MAIL_LINK and event_dict.get("logger") == MAIL_LOGGER:
            continue
        if key == "event":
            event_dict[key] = redact_text(str(value))
        elif key not in ("level", "timestamp", "logger"):
            event_dict[key] = _redact(value, key)
    return event_dict


def _render_exception(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    if event_dict.get("exc_info"):
        event_dict = structlog.processors.format_exc_info(_logger, _method, event_dict)
        event_dict["exception"] = redact_text(event_dict.get("exception", ""))
    return event_dict


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the line, not when logging was
    set up (a replaced or closed stream would otherwise lose lines or raise)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _StderrWriter:
    """A structlog logger that writes rendered lines to ``sys.stderr`` as it is at the time,
    like ``_StderrHandler``, one whole line at a time."""

    _lock = threading.Lock()

    def __init__(self, name: str) -> None:
        self.name = name  # for ``add_logger_name``

    def msg(self, message: str) -> None:
        stream = sys.stderr
        with self._lock:
            stream.write(message + "\n")
            stream.flush()

    debug = info = warning = error = critical = exception = msg


ACCESS_LOGGER = "keel.access"
# Until logging is configured, access lines take the standard library's way.
_access: Any = structlog.stdlib.get_logger(ACCESS_LOGGER)


def access_logger() -> Any:
    """The logger of the access line, one per request: the same processors and renderer as
    every line, but the line is written directly instead of by way of the standard library's
    logging, at a third of the cost."""
    return _access


class _JsonAccessLog:
    """The access line in JSON, as the general pipeline writes it (the same fields in the
    same order, the same redaction, the same renderer), built in one step: structlog's
    bound logger and its chain of processors cost some 30 µs a line, twice this, on every
    request. A line with an exception in it takes the general way."""

    def __init__(self, enabled: bool, renderer: Processor, general: Any) -> None:
        self._enabled = enabled
        self._renderer = renderer
        self._general = general
        self._writer = _StderrWriter(ACCESS_LOGGER)

    def info(self, event: str, **fields: Any) -> None:
        if not self._enabled:
            return
        if "exc_info" in fields:
            self._general.info(event, **fields)
            return
        line: EventDict = {key: _redact(value, key) for key, value in fields.items()}
        line["event"] = redact_text(event)
        line["logger"] = ACCESS_LOGGER
        line["level"] = "info"
        line["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        if _span_ids is not None and (ids := _span_ids()) is not None:
            line["trace_id"], line["span_id"] = ids
        try:
            # As the renderer writes it: its fallback is only for values JSON has no type for.
            text = _PLAIN_JSON(line)
        except TypeError:
            text = str(self._renderer(self._writer, "info", line))
        self._writer.msg(text)


# One encoder made once: ``json.dumps`` with any option (the renderer's fallback) makes one
# per call.
_PLAIN_JSON = json.JSONEncoder().encode


def _drop_color_message(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Uvicorn passes a second, ANSI-coloured copy of its message as an extra field."""
    event_dict.pop("color_message", None)
    return event_dict


# procrastinate's lines about one job, by their ``action``: Keel logs each job's failures
# itself (kind, attempt, error), without the job's arguments.
_JOB_ACTIONS = frozenset(
    {
        "about_to_defer_jobs",
        "jobs_deferred",
        "loaded_job_info",
        "start_job",
        "job_success",
        "job_error",
        "job_error_retry",
        "job_aborted",
        "job_aborted_retry",
        "ending_job",
    }
)


def _not_about_one_job(record: logging.LogRecord) -> bool:
    return not (
        record.name.startswith("procrastinate") and getattr(record, "action", None) in _JOB_ACTIONS
    )


# Set once tracing is on: the current span's trace and span ids (hex), or None outside one.
_span_ids: Callable[[], tuple[str, str] | None] | None = None


def log_trace_ids(span_ids: Callable[[], tuple[str, str] | None]) -> None:
    """From now on, every line written inside a span carries ``trace_id`` and ``span_id``."""
    global _span_ids
    _span_ids = span_ids


def _add_trace_ids(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    if _span_ids is not None and (ids := _span_ids()) is not None:
        event_dict["trace_id"], event_dict["span_id"] = ids
    return event_dict


def configure_logging(level: str = "INFO", log_format: str = "console") -> None:
    # No line shows the caller's thread or process: don't look them up for every record.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # The request's context, for Keel's own lines; the access line carries it in its fields
    # (the request id and the user, from the request's scope) and skips the look-up.
    context: Processor = structlog.contextvars.merge_contextvars
    # What the standard library's records need besides Keel's own lines.
    foreign_only: list[Processor] = [structlog.stdlib.ExtraAdder(), _drop_color_message]
    # One definition of a line, whoever writes it.
    shared: list[Processor] = [
        context,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
        *foreign_only,
        _render_exception,
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    global _access  # set up with the rest of logging, once per process
    # A bound logger made directly, not through ``wrap_logger``'s proxy: no look-up per line.
    bound_logger: Any = structlog.make_filtering_bound_logger(logging.getLevelName(level))
    skipped = [context, *foreign_only]
    _access = bound_logger(
        _StderrWriter(ACCESS_LOGGER), [*(s for s in shared if s not in skipped), renderer], {}
    )
    if log_format == "json":
        _access = _JsonAccessLog(logging.getLevelName(level) <= logging.INFO, renderer, _access)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in _FOREIGN_LOGGERS:
        foreign = logging.getLogger(name)
        foreign.handlers = []
        foreign.propagate = True
    # One line per driver call even at DEBUG would drown everything else.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLevelName(level)))
    # The access line is Keel's own (with the route template and the user); uvicorn's is off.
    logging.getLogger("uvicorn.access").disabled = True
    # So are the lines about each job: procrastinate's print the job's arguments (addresses).
    handler.addFilter(_not_about_one_job)
