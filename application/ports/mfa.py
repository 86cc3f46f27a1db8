"""The second factor: the TOTP algorithm, the cipher its secrets are kept under, and the
store of secrets and recovery codes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.mfa import RecoveryCode, TotpCredential


class TotpAlgorithm(Protocol):
    def new_secret(self) -> str:
        """A fresh random secret, base32, as authenticator apps take it."""
        ...

    def matching_step(self, secret: str, code: str, now: datetime, drift: int) -> int | None:
        """The time step (30 s) within ``drift`` steps of ``now`` whose code is ``code``,
        compared in constant time; None when none is."""
        ...

    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str:
        """The ``otpauth://totp/...`` URI an authenticator app reads."""
        ...

    def qr_svg(self, uri: str) -> str:
        """``uri`` as a QR code, an SVG document."""
        ...


class SecretCipher(Protocol):
    """Authenticated encryption of small secrets kept at rest, under rotating keys."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, ciphertext: str) -> str:
        """Raise ``ValueError`` when no key opens it or it was tampered with."""
        ...

    def rotate(self, ciphertext: str) -> str:
        """The same secret, encrypted under the first key; ``ValueError`` as ``decrypt``."""
        ...


class SecondFactorStore(Protocol):
    """Every change that a concurrent request could race is one conditional statement."""

    async def get(self, user_id: uuid.UUID) -> TotpCredential | None: ...

    async def put_pending(self, credential: TotpCredential) -> bool:
        """Store a pending secret in place of any pending one; False, storing nothing, when
        the user's second factor is on."""
        ...

    async def confirm(self, user_id: uuid.UUID, step: int, now: datetime) -> bool:
        """Turn a pending secret on, its code's step taken; False when it was not pending."""
        ...

    async def accept_step(self, user_id: uuid.UUID, step: int) -> bool:
        """Take ``step`` as the newest accepted one, only while the factor is on and every
        accepted step is older: of two requests with one code, one gets True."""
        ...

    async def remove(self, user_id: uuid.UUID) -> bool:
        """Delete the secret and every recovery code; False when there was no secret."""
        ...

    async def replace_recovery_codes(
        self, user_id: uuid.UUID, codes: Sequence[RecoveryCode]
    ) -> None:
        """The user's recovery codes become ``codes``; the old ones stop working."""
        ...

    async def use_recovery_code(self, user_id: uuid.UUID, code_hash: str, now: datetime) -> bool:
        """Spend an unused code; False when it is unknown or spent (so two requests with
        one code get one True)."""
        ...

    async def unused_recovery_codes(self, user_id: uuid.UUID) -> int: ...

    async def any_on(self) -> bool:
        """Whether some user's second factor is on (a confirmed secret exists)."""
        ...

    async def ciphertexts(self) -> list[tuple[uuid.UUID, str]]:
        """Every stored secret, by user: for re-encrypting them under a new key."""
        ...

    async def replace_ciphertext(self, user_id: uuid.UUID, old: str, new: str) -> bool:
        """Store ``new`` only while the secret is still ``old`` (a set-up meanwhile wins)."""
        ...
