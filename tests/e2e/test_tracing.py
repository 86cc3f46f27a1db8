"""Traces end to end: a real `keel serve` on PostgreSQL (jobs in process, Redis for the
throttles, the test SMTP server) exports to a real OTLP/HTTP receiver. One client flow,
sent under one trace context, gives one trace: each request's span named by its route
template, the SQL, asyncpg and Redis spans below it, and the job its reset request enqueued
(through the outbox) below that request, with the mail's delivery below the job."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.otlp import OtlpReceiver, ReceivedSpan
from tests.e2e.cli_support import PASSWORD, keel_server
from tests.e2e.jobs_support import mail_env
from tests.support.migrated import migrated
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.postgres

EMAIL = "ada@example.com"
RESET_SUBJECT = "Reset your Keel password"


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    server = OtlpReceiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def traced_env(
    tmp_path: Path, url: str, smtp: SmtpServer, receiver: OtlpReceiver, redis_url: str
) -> dict[str, str]:
    return mail_env(
        tmp_path,
        url,
        smtp,
        REDIS_URL=redis_url,
        LOG_FORMAT="json",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_BSP_SCHEDULE_DELAY="100",
    )


def children(spans: list[ReceivedSpan], parent: ReceivedSpan) -> list[ReceivedSpan]:
    return [span for span in spans if span.parent_id == parent.span_id]


def one_named(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    named = [span for span in spans if span.name == name]
    assert len(named) == 1, (name, sorted(span.name for span in spans))
    return named[0]


async def test_one_flow_is_one_trace_from_the_request_to_the_mail(
    tmp_path: Path,
    postgres_url: str,
    smtp_server: SmtpServer,
    receiver: OtlpReceiver,
    redis_url: str,
) -> None:
    await migrated(postgres_url)
    trace_id = secrets.token_hex(16)
    headers = {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
    env = traced_env(tmp_path, postgres_url, smtp_server, receiver, redis_url)
    with keel_server(env=env, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
            body = {"email": EMAIL, "password": PASSWORD}
            assert (await client.post("/api/v1/users", json=body)).status_code == 201
            form = {"username": EMAIL, "password": PASSWORD}
            login = await client.post("/api/v1/auth/login", data=form, headers=headers)
            assert login.status_code == 200, login.text
            access = login.json()["access_token"]
            auth = headers | {"Authorization": f"Bearer {access}"}
            item = {"title": "Buy milk"}
            created = await client.post("/api/v1/items", json=item, headers=auth)
            assert created.status_code == 201, created.text
            item_id = created.json()["id"]
            read = await client.get(f"/api/v1/items/{item_id}", headers=auth)
            assert read.status_code == 200, read.text
            reset = await client.post(
                "/api/v1/auth/password-reset/request", json={"email": EMAIL}, headers=headers
            )
            assert reset.status_code == 202, reset.text
        [mail] = await asyncio.to_thread(lambda: _reset_mails(smtp_server))
        token = mail.split("token=")[1].split()[0].strip()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
            # The mail's link: its token in the query string, which no span may hold.
            page = await client.get("/reset-password", params={"token": token}, headers=headers)
            assert page.status_code == 200, page.text

        def complete(spans: list[ReceivedSpan]) -> bool:
            names = {span.name for span in spans if span.trace_id == trace_id}
            return {"job password_reset_requested", "smtp send", "GET /reset-password"} <= names

        spans = await asyncio.to_thread(receiver.wait_for, complete, 20.0)
        server.stop()
        log = server.output()

    trace = [span for span in spans if span.trace_id == trace_id]
    assert {span.service for span in trace} == {"keel"}
    login_span = one_named(trace, "POST /api/v1/auth/login")
    created_span = one_named(trace, "POST /api/v1/items")
    read_span = one_named(trace, "GET /api/v1/items/{item_id}")
    reset_span = one_named(trace, "POST /api/v1/auth/password-reset/request")
    for span in (login_span, created_span, read_span, reset_span):
        assert span.kind == "SERVER"
        assert item_id not in span.name
    assert created_span.attributes["http.route"] == "/api/v1/items"
    # SQL through SQLAlchemy and through asyncpg itself, Redis, under their requests.
    assert any(s.attributes.get("db.system") == "postgresql" for s in children(trace, login_span))
    assert any(s.attributes.get("db.system") == "redis" for s in children(trace, login_span))
    assert any("INSERT INTO items" in str(s.attributes.get("db.statement")) for s in trace)
    assert any(s.attributes.get("db.system") == "postgresql" for s in children(trace, read_span))
    assert any(s.attributes.get("db.system") == "postgresql" for s in children(trace, reset_span))
    # The job the reset request enqueued, through the outbox, and the mail it sent.
    job = one_named(trace, "job password_reset_requested")
    assert job.parent_id == reset_span.span_id
    assert job.kind == "CONSUMER"
    assert job.attributes["keel.job.attempt"] == 1
    assert job.attributes["keel.job.outcome"] == "succeeded"
    smtp = one_named(trace, "smtp send")
    assert smtp.parent_id == job.span_id
    assert smtp.attributes["keel.mail.kind"] == "password_reset"
    assert smtp.attributes["keel.mail.outcome"] == "delivered"
    page_span = one_named(trace, "GET /reset-password")
    assert page_span.attributes["url.path"] == "/reset-password"
    assert "url.query" not in page_span.attributes
    # Nothing secret in any span: the password, the tokens, the Authorization header.
    exported = json.dumps([span.attributes for span in spans], default=str)
    for secret in (PASSWORD, access, token, login.json()["refresh_token"]):
        assert secret not in exported
    assert "authorization" not in exported.lower()
    assert EMAIL not in exported
    # The lines written inside the requests carry their trace.
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    access_lines = [line for line in lines if line.get("logger") == "keel.access"]
    traced = {line["route"]: line for line in access_lines if line.get("trace_id") == trace_id}
    assert traced["/api/v1/items/{item_id}"]["span_id"] == read_span.span_id
    assert traced["/api/v1/auth/login"]["span_id"] == login_span.span_id
    assert all("request_id" in line for line in access_lines)


def _reset_mails(smtp: SmtpServer) -> list[str]:
    received = smtp.wait_for(3, 20.0)  # welcome, verification, reset
    return [
        str(r.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        for r in received
        if r.message["Subject"] == RESET_SUBJECT
    ]


async def test_a_dropped_request_sends_no_span_and_neither_do_the_jobs_it_causes(
    tmp_path: Path,
    postgres_url: str,
    smtp_server: SmtpServer,
    receiver: OtlpReceiver,
    redis_url: str,
) -> None:
    """At a sampling ratio of 0 no request of its own is kept, and nothing under it (SQL,
    Redis, its job, its mail) is exported; its log lines still carry a trace id. A caller's
    sampled ``traceparent`` is still followed."""
    await migrated(postgres_url)
    env = traced_env(tmp_path, postgres_url, smtp_server, receiver, redis_url)
    env |= {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}
    kept_id = secrets.token_hex(16)
    kept = {"traceparent": f"00-{kept_id}-{secrets.token_hex(8)}-01"}
    not_sampled = {"traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"}
    with keel_server(env=env, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
            body = {"email": EMAIL, "password": PASSWORD}
            assert (await client.post("/api/v1/users", json=body)).status_code == 201
            form = {"username": EMAIL, "password": PASSWORD}
            login = await client.post("/api/v1/auth/login", data=form, headers=not_sampled)
            assert login.status_code == 200, login.text
            reset = await client.post("/api/v1/auth/password-reset/request", json={"email": EMAIL})
            assert reset.status_code == 202, reset.text
            await asyncio.to_thread(lambda: _reset_mails(smtp_server))
            ready = await client.get("/health/ready", headers=kept)
            assert ready.status_code == 200, ready.text

        def has_kept(spans: list[ReceivedSpan]) -> bool:
            return any(span.trace_id == kept_id and span.kind == "SERVER" for span in spans)

        spans = await asyncio.to_thread(receiver.wait_for, has_kept, 20.0)
        server.stop()
        log = server.output()

    assert {span.trace_id for span in receiver.spans()} == {kept_id}, sorted(
        {(span.name, span.trace_id) for span in receiver.spans()}
    )
    ready_span = one_named(spans, "GET /health/ready")
    assert any(s.attributes.get("db.system") == "postgresql" for s in children(spans, ready_span))
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    dropped = [
        line
        for line in lines
        if line.get("logger") == "keel.access" and line["route"] != "/health/ready"
    ]
    assert dropped
    assert all(len(line.get("trace_id", "")) == 32 for line in dropped), dropped
    assert all(line["trace_id"] != kept_id for line in dropped)
    login_line = next(line for line in dropped if line["route"] == "/api/v1/auth/login")
    assert login_line["trace_id"] == not_sampled["traceparent"].split("-")[1]
