"""The account pages: ``/`` (what this service is and how to sign in), ``/verify-email`` and
``/reset-password``, the pages the mails link to.

A GET only shows a form: a mail scanner that follows a link changes nothing. The POST calls
the same use case as the API route, through the same typed dependency, so the rules, the
throttles and the errors are the API's; a failure is shown on the page with the status and
the message the API would answer with. Links and form actions are relative, so the pages
work behind a proxy that serves them under a path prefix. No page carries a script."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response

from application.errors import StorageUnavailable
from application.use_cases.mail.check_mail_token import CheckMailTokenCommand
from application.use_cases.mail.confirm_password_reset import ConfirmPasswordResetCommand
from application.use_cases.mail.verify_email import VerifyEmailCommand
from domain.errors import InvalidToken
from domain.one_time_token import TokenPurpose
from entrypoints.http.dependencies import (
    CheckMailTokenCase,
    ConfirmPasswordResetCase,
    VerifyEmailCase,
    origin_of,
)
from entrypoints.http.error_table import ERRORS, HTTP_ERROR, INVALID_INPUT, Answer, answer_to
from entrypoints.http.pages.render import NO_STORE, page, stylesheet
from entrypoints.http.paths import API_PREFIX, STYLESHEET_PATH
from entrypoints.http.schemas.auth import PasswordResetConfirm, VerifyEmailRequest

logger = logging.getLogger("keel.http")
router = APIRouter(include_in_schema=False)
_STYLESHEET = stylesheet()
_NO_TOKEN = answer_to(InvalidToken())
M = TypeVar("M", bound=BaseModel)


class _Invalid(Exception):
    """A form the API's body model refuses, answered as the API answers that body."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__()
        self.errors = {
            ".".join(str(part) for part in err["loc"]) or "body": str(err["msg"]).removeprefix(
                "Value error, "
            )
            for err in error.errors()
        }


class _Unreadable(Exception):
    """A body the form parser refuses (a file, too many fields, a broken multipart)."""

    def __init__(self, error: HTTPException) -> None:
        super().__init__()
        self.answer = Answer(error.status_code, HTTP_ERROR, str(error.detail), {}, None)


_HANDLED: tuple[type[Exception], ...] = (_Invalid, _Unreadable, *ERRORS)


@router.get("/")
async def home(request: Request) -> Response:
    docs = request.app.state.settings.effective_docs_enabled
    return page("home.html", docs=docs, api=API_PREFIX)


@router.get(STYLESHEET_PATH)
async def keel_css() -> Response:
    return Response(
        _STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/verify-email")
async def verify_email_form(check: CheckMailTokenCase, token: str = "") -> Response:
    failure = await _unusable(check, token, TokenPurpose.EMAIL_VERIFICATION)
    if failure is not None:
        return _failed("verify_email.html", failure)
    return page("verify_email.html", headers=NO_STORE, state="form", token=token)


@router.post("/verify-email")
async def verify_email(request: Request, use_case: VerifyEmailCase) -> Response:
    fields: dict[str, str] = {}
    try:
        fields = await _fields(request, "token")
        body = _parsed(VerifyEmailRequest, fields)
        await use_case.execute(VerifyEmailCommand(body.token, origin=origin_of(request)))
    except _HANDLED as exc:
        return _failed("verify_email.html", _answer(exc), token=fields.get("token", ""))
    return page("verify_email.html", headers=NO_STORE, state="done")


@router.get("/reset-password")
async def reset_password_form(check: CheckMailTokenCase, token: str = "") -> Response:
    failure = await _unusable(check, token, TokenPurpose.PASSWORD_RESET)
    if failure is not None:
        return _failed("reset_password.html", failure)
    return page("reset_password.html", headers=NO_STORE, state="form", token=token, errors={})


@router.post("/reset-password")
async def reset_password(request: Request, use_case: ConfirmPasswordResetCase) -> Response:
    fields: dict[str, str] = {}
    try:
        fields = await _fields(request, "token", "new_password")
        body = _parsed(PasswordResetConfirm, fields)
        await use_case.execute(
            ConfirmPasswordResetCommand(
                token=body.token, new_password=body.new_password, origin=origin_of(request)
            )
        )
    except _HANDLED as exc:
        return _failed("reset_password.html", _answer(exc), token=fields.get("token", ""))
    return page("reset_password.html", headers=NO_STORE, state="done", api=API_PREFIX)


async def _unusable(check: CheckMailTokenCase, token: str, purpose: TokenPurpose) -> Answer | None:
    """Why the link's token would be refused, read without spending it; None when usable.
    A token the API's body model would refuse (too long, a NUL) is simply not usable."""
    if not token:
        return _NO_TOKEN
    try:
        token = _parsed(VerifyEmailRequest, {"token": token}).token
        await check.execute(CheckMailTokenCommand(token, purpose))
    except _Invalid:
        return _NO_TOKEN
    except _HANDLED as exc:
        return _answer(exc)
    return None


async def _fields(request: Request, *names: str) -> dict[str, str]:
    """The text fields of a form; a body that is no form has none (each then named missing).
    The pages' forms have two fields and no file: a multipart body with a file or dozens of
    parts is refused before it is spooled."""
    try:
        form: FormData = await request.form(max_files=0, max_fields=8)
    except HTTPException as exc:
        raise _Unreadable(exc) from exc
    return {name: value for name in names if isinstance(value := form.get(name), str)}


def _parsed(model: type[M], fields: dict[str, str]) -> M:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise _Invalid(exc) from exc


def _answer(exc: Exception) -> Answer:
    if isinstance(exc, _Unreadable):
        return exc.answer
    if isinstance(exc, _Invalid):
        details = {"errors": [{"field": f, "message": m} for f, m in exc.errors.items()]}
        kind = INVALID_INPUT
        return Answer(kind.status, kind.code, kind.message or "Invalid input", details, None)
    if isinstance(exc, StorageUnavailable):
        logger.warning("storage unavailable: %s", exc)
    return answer_to(exc)


def _failed(template: str, answer: Answer, **values: Any) -> Response:
    errors = {e["field"]: e["message"] for e in answer.details.get("errors", [])}
    # A password the policy refuses leaves the token usable: the form is shown again.
    retry = set(errors) == {"new_password"}
    return page(
        template,
        status=answer.status,
        headers={**NO_STORE, **(answer.headers or {})},
        state="form" if retry else "failed",
        message=answer.message,
        errors=errors,
        **values,
    )
