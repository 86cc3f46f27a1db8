"""The bodies of logging in, sessions, password resets and address verification."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from entrypoints.http.schemas.common import (
    EmailField,
    NewPassword,
    StorableText,
    examples,
)


def _example_jwt(claims: str) -> str:
    """JWT-shaped, for the documentation only: a header, ``claims``, no real signature."""
    return f"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{claims}.bm90LWEtcmVhbC1zaWduYXR1cmU"


EXAMPLE_ACCESS_TOKEN = _example_jwt("eyJ0eXBlIjoiYWNjZXNzIn0")  # {"type":"access"}
EXAMPLE_REFRESH_TOKEN = _example_jwt("eyJ0eXBlIjoicmVmcmVzaCJ9")  # {"type":"refresh"}


class TokenPairOut(BaseModel):
    model_config = examples(
        {
            "access_token": EXAMPLE_ACCESS_TOKEN,
            "refresh_token": EXAMPLE_REFRESH_TOKEN,
            "token_type": "bearer",
            "expires_in": 900,
        }
    )

    access_token: str = Field(description="Send it as `Authorization: Bearer <access_token>`")
    refresh_token: str = Field(
        description="Works once, at `/auth/refresh` or `/auth/logout`; keep it secret"
    )
    token_type: str = Field("bearer", examples=["bearer"])
    expires_in: int = Field(examples=[900], description="Seconds until the access token expires")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"refresh_token": EXAMPLE_REFRESH_TOKEN}]}
    )

    refresh_token: Annotated[StorableText, Field(min_length=1, max_length=8192)]


EXAMPLE_MAIL_TOKEN = "kq3Z8wJ0yH5tB1vN7xR2mC9dL4fG6sA0pE3uI8oT5zY"  # noqa: S105 (documented example)
MailToken = Annotated[
    StorableText,
    Field(
        min_length=1,
        max_length=512,
        description="The token from the link in the mail",
        examples=[EXAMPLE_MAIL_TOKEN],
    ),
]


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "ada@example.com"}]}
    )

    email: EmailField


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"token": EXAMPLE_MAIL_TOKEN, "new_password": "a long and quiet river"}]
        },
    )

    token: MailToken
    new_password: NewPassword


class VerifyEmailRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"token": EXAMPLE_MAIL_TOKEN}]}
    )

    token: MailToken


RESET_REQUESTED = (
    "If an account has this address, a link to reset its password is on its way. "
    "It works once, for 30 minutes."
)


class AcceptedOut(BaseModel):
    model_config = examples({"message": RESET_REQUESTED})

    message: str
