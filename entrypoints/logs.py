"""Logging: structlog for Keel's own lines, and the same pipeline for uvicorn's and
SQLAlchemy's. JSON lines in production, readable lines in development. Secrets never leave:
a processor redacts them from every line, whoever logged it."""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, cast

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
        re.compile(r"(?i)\b(password|passwd|secret|token)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"),
        r"\1\2" + REDACTED,
    ),
]
_FOREIGN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic")


# Every pattern above needs one of these; most text (paths, ids, addresses) has none of
# them, and is let through after one search instead of four substitutions.
_MIGHT_HOLD_A_SECRET = re.compile(r"(?i)bearer|basic|eyJ|://|passw|secret|token")


def redact_text(text: str) -> str:
    if not _MIGHT_HOLD_A_SECRET.search(text):
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
    if isinstance(value, MutableMapping):
        return {k: _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


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


class _JsonAccessLogger:
    """The access line in JSON: its fields redacted like every line's, the logger's name,
    level and time added, rendered by the same processors, and written whole. Nothing is
    taken from the context: the request id and the user come with the fields."""

    def __init__(self, level: int, renderer: Processor) -> None:
        self._enabled = level <= logging.INFO
        self._writer = _StderrWriter(ACCESS_LOGGER)
        self._stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
        self._render = renderer

    def info(self, event: str, **fields: Any) -> None:
        if not self._enabled:
            return
        line = {key: _redact(value, key) for key, value in fields.items()}
        line["event"] = redact_text(event)
        line["logger"] = ACCESS_LOGGER
        line["level"] = "info"
        self._writer.msg(cast(str, self._render(None, "info", self._stamp(None, "info", line))))


ACCESS_LOGGER = "keel.access"
# Until logging is configured, access lines take the standard library's way.
_access: Any = structlog.stdlib.get_logger(ACCESS_LOGGER)


def access_logger() -> Any:
    """The logger of the access line, one per request. Rendered and written directly, the
    same line as by way of the standard library's logging but at half the cost; in JSON,
    without structlog's general processing either."""
    return _access


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


def configure_logging(level: str = "INFO", log_format: str = "console") -> None:
    # No line shows the caller's file, thread or process: don't look them up for every
    # record (the logging HOWTO's own optimisations).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # What lines of the standard library's records need besides Keel's own.
    foreign_only: list[Processor] = [structlog.stdlib.ExtraAdder(), _drop_color_message]
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
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
    if log_format == "json":
        _access = _JsonAccessLogger(logging.getLevelName(level), renderer)
    else:
        _access = structlog.wrap_logger(
            _StderrWriter(ACCESS_LOGGER),
            processors=[*(step for step in shared if step not in foreign_only), renderer],
            wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        )
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
