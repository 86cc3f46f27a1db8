"""The bodies of the second factor: TOTP set-up, confirm, disable, recovery codes, and the
second step of a login."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from entrypoints.http.schemas.auth import (
    EXAMPLE_ACCESS_TOKEN,
    EXAMPLE_REFRESH_TOKEN,
    TokenPairOut,
    _example_jwt,
)
from entrypoints.http.schemas.common import EXAMPLE_PASSWORD, StorableText, examples

EXAMPLE_MFA_TOKEN = _example_jwt("eyJ0eXBlIjoibWZhIn0")  # {"type":"mfa"}
EXAMPLE_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 (documented example)
EXAMPLE_RECOVERY_CODES = [f"k7qd-m2xa-pz4w-{tail}" for tail in "abcdefghjk"]

Code = Annotated[
    StorableText,
    Field(
        min_length=6,
        max_length=32,
        description="A six-digit code from the authenticator app, or an unused recovery code",
        examples=["492039"],
    ),
]


class MfaChallengeOut(BaseModel):
    model_config = examples(
        {
            "mfa_required": True,
            "mfa_token": EXAMPLE_MFA_TOKEN,
            "expires_in": 300,
            "setup_required": False,
        }
    )

    mfa_required: Literal[True] = True
    mfa_token: str = Field(
        description="Send it with a code to `/auth/mfa/verify` (or, with `setup_required`, as "
        "the bearer of `/auth/mfa/totp/setup` and `/auth/mfa/totp/confirm`); works once"
    )
    expires_in: int = Field(examples=[300], description="Seconds until the token expires")
    setup_required: bool = Field(
        False, description="Your role requires a second factor and you have none: set it up"
    )


class TotpSetupOut(BaseModel):
    model_config = examples(
        {
            "secret": EXAMPLE_SECRET,
            "otpauth_uri": f"otpauth://totp/Keel:ada%40example.com?secret={EXAMPLE_SECRET}&issuer=Keel",
            "qr_svg": '<svg xmlns="http://www.w3.org/2000/svg" ...>...</svg>',
        }
    )

    secret: str = Field(description="Base32; type it into the app if it cannot scan")
    otpauth_uri: str
    qr_svg: str = Field(description="The URI as a QR code, an SVG document")


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "492039"}]})

    code: Code


class DisableIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"password": EXAMPLE_PASSWORD, "code": "492039"}]},
    )

    password: Annotated[StorableText, Field(min_length=1, max_length=1024)]
    code: Code


class VerifyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"mfa_token": EXAMPLE_MFA_TOKEN, "code": "492039"}]},
    )

    mfa_token: Annotated[StorableText, Field(min_length=1, max_length=8192)]
    code: Code


class RecoveryCodesOut(BaseModel):
    model_config = examples({"recovery_codes": EXAMPLE_RECOVERY_CODES})

    recovery_codes: list[str] = Field(description="Ten single-use codes, shown this once")


class TotpConfirmedOut(RecoveryCodesOut):
    model_config = examples({"recovery_codes": EXAMPLE_RECOVERY_CODES, "tokens": None})

    tokens: TokenPairOut | None = Field(
        None, description="The token pair, when confirmed with a login's set-up token"
    )


class LoginOut(RootModel[TokenPairOut | MfaChallengeOut]):
    """The token pair; or, when a second factor must follow, the challenge."""

    model_config = examples(
        {
            "access_token": EXAMPLE_ACCESS_TOKEN,
            "refresh_token": EXAMPLE_REFRESH_TOKEN,
            "token_type": "bearer",
            "expires_in": 900,
        },
        {
            "mfa_required": True,
            "mfa_token": EXAMPLE_MFA_TOKEN,
            "expires_in": 300,
            "setup_required": False,
        },
    )
