"""No password, token, Authorization header or secret reaches a log line."""

from __future__ import annotations

import json
import logging
import re
import uuid

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from application.use_cases.mail.request_password_reset import RequestPasswordResetCommand
from entrypoints.container import Container
from entrypoints.logs import _SECRET_TEXT, REDACTED, access_logger, configure_logging, redact_text
from tests.support.jobs import run_due_jobs

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_secret_fields_and_secret_text_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    structlog.stdlib.get_logger("keel.test").info(
        f"login with Bearer {JWT}",
        password="hunter2-secret",
        new_password="another-secret",
        headers={"Authorization": "Basic dXNlcjpwYXNz", "Accept": "application/json"},
        url="postgresql+asyncpg://keel:db-secret@db:5432/keel",
        note=f"token={JWT} and password: hunter2-secret",
        refresh_token=JWT,
    )
    [line] = lines(capsys)
    text = json.dumps(line)
    for secret in ("hunter2-secret", "another-secret", "dXNlcjpwYXNz", "db-secret", JWT):
        assert secret not in text
    assert line["password"] == REDACTED
    assert line["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
    assert line["url"] == f"postgresql+asyncpg://keel:{REDACTED}@db:5432/keel"
    assert line["level"] == "info"
    assert line["logger"] == "keel.test"


def test_foreign_loggers_and_tracebacks_are_redacted_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    logging.getLogger("sqlalchemy.engine").warning("connect to postgresql://u:pw-secret@h/db")
    try:
        raise RuntimeError(f"bad token {JWT}")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("failed")
    first, second = lines(capsys)
    assert "pw-secret" not in json.dumps(first)
    assert first["logger"] == "sqlalchemy.engine"
    assert "RuntimeError" in str(second["exception"])
    assert JWT not in json.dumps(second)


def test_console_format_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "console")
    structlog.stdlib.get_logger("keel.test").info("hello", password="hunter2-secret")
    err = capsys.readouterr().err
    assert "hello" in err
    assert "hunter2-secret" not in err
    assert not err.lstrip().startswith("{")


def test_the_level_filters(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING", "json")
    log = structlog.stdlib.get_logger("keel.test")
    log.info("quiet")
    log.warning("loud")
    assert [line["event"] for line in lines(capsys)] == ["loud"]


def test_uvicorn_lines_lose_their_coloured_copy(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 42, extra={"color_message": "Started \x1b[36m%d\x1b[0m"}
    )
    [line] = lines(capsys)
    assert line["event"] == "Started server process [42]"
    assert "color_message" not in line


def test_the_access_line_is_the_line_the_general_pipeline_writes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    fields = {
        "method": "GET",
        "route": "/api/v1/items/{item_id}",
        "status": 200,
        "duration_ms": 1.25,
        "client": "127.0.0.1",
        "user_id": None,
        "request_id": JWT,  # a sane id may still look like a token
        "note": f"token={JWT}",
        "password": "hunter2-secret",
    }
    access_logger().info("request", **fields)
    structlog.stdlib.get_logger("keel.access").info("request", **fields)
    fast, general = lines(capsys)
    assert fast.pop("timestamp").endswith("Z")  # type: ignore[union-attr]
    general.pop("timestamp")
    assert fast == general
    assert fast["request_id"] == REDACTED
    assert fast["password"] == REDACTED
    assert JWT not in json.dumps(fast)

    configure_logging("WARNING", "json")
    access_logger().info("request", **fields)
    assert capsys.readouterr().err == ""


def test_the_access_line_keeps_the_general_lines_field_order_and_odd_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same text but the time: the fields in the same order, and a value JSON has no
    type for (a UUID, a set) written by the renderer's own fallback."""
    configure_logging("INFO", "json")
    fields = {
        "method": "GET",
        "route": "/api/v1/users/me",
        "status": 200,
        "user_id": uuid.UUID("0b0e9b8e-6f0e-4b7c-9a3b-1f2e3d4c5b6a"),
        "odd": {1, 2},
    }
    access_logger().info("request", **fields)
    structlog.stdlib.get_logger("keel.access").info("request", **fields)
    fast, general = capsys.readouterr().err.splitlines()
    stamp = re.compile(r'"timestamp": "[^"]*"')
    assert stamp.sub("", fast) == stamp.sub("", general)
    assert list(json.loads(fast)) == list(json.loads(general))


async def test_the_queue_library_never_logs_a_jobs_arguments(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    """procrastinate writes each job's arguments (here an address) in its lines about the
    job; those lines are left out, and Keel's own say what failed without them."""
    configure_logging("INFO", "json")
    await container.request_password_reset().execute(
        RequestPasswordResetCommand("hidden-address@example.com")
    )
    await run_due_jobs(container)
    logged = lines(capsys)
    assert not [line for line in logged if "hidden-address" in json.dumps(line)]
    logging.getLogger("procrastinate.worker").info(
        "Starting worker", extra={"action": "start_worker"}
    )
    [kept] = lines(capsys)
    assert kept["logger"] == "procrastinate.worker"


# Secrets in either case, spelt too with letters that case-blind matching takes for ASCII
# ones (the long s, the Kelvin sign, the dotted capital I).
SECRETS = [
    "Bearer abc",
    "BASIC dXNl",
    "eyJa.b.c",
    "db://u:pw@h",
    "PASSWORD=x",
    "token: y",
    "pa\u017f\u017fword=x",
    "to\u212aen=y",
    "bas\u0130c abc",
    "\u017fecret:z",
]


def by_every_pattern(text: str) -> str:
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


@pytest.mark.parametrize("secret", SECRETS)
def test_the_quick_look_for_a_secret_misses_none(secret: str) -> None:
    for text in (secret, f"before {secret} after\u00e9"):
        assert REDACTED in by_every_pattern(text)
        assert redact_text(text) == by_every_pattern(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(SECRETS), st.text(max_size=4)), max_size=8).map("".join))
def test_text_is_redacted_as_by_every_pattern_applied(text: str) -> None:
    assert redact_text(text) == by_every_pattern(text)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("GET /reset?access_token=abc123", "GET /reset?access_token="),
        ("reset_token: abc123", "reset_token: "),
        ("client-secret=abc123 rest", "client-secret="),
        ("failed with SMTP_PASSWORD='abc123'", "failed with SMTP_PASSWORD="),
    ],
)
def test_a_secret_whose_name_has_a_prefix_is_redacted_in_text(text: str, kept: str) -> None:
    redacted = redact_text(text)
    assert "abc123" not in redacted
    assert redacted.startswith(kept + REDACTED)
