"""The second factor: a TOTP secret (RFC 6238) and ten single-use recovery codes.

A secret is kept encrypted; a recovery code only as a digest. Recovery codes carry 80
random bits, so a plain SHA-256 is enough to make a leaked table useless (nobody can
enumerate 2^80 candidates), and checking one costs a lookup by its digest rather than ten
slow password hashes.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import Conflict, ValidationFailed

RECOVERY_CODE_COUNT = 10
# 16 characters of a 32-letter alphabet: 80 bits, shown in groups of four.
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, lower-cased
_RECOVERY_LENGTH = 16
MFA_TOKEN_LIFETIME = timedelta(minutes=5)
# A code from the step before or after the server's is accepted: clocks drift.
ALLOWED_DRIFT_STEPS = 1


class InvalidCode(ValidationFailed):
    """A TOTP or recovery code that is wrong, spent, or already used in its time step."""

    def __init__(self) -> None:
        super().__init__("code", "The code is not valid", "invalid_code")


class SecondFactorAlreadyOn(Conflict):
    def __init__(self) -> None:
        super().__init__("The second factor is already on")


class SecondFactorOff(Conflict):
    def __init__(self) -> None:
        super().__init__("The second factor is not on: set it up first")


@dataclass(frozen=True, slots=True)
class TotpCredential:
    """``secret_ciphertext``: the base32 secret, encrypted; ``confirmed_at``: None while
    pending (set up, not yet proven with a code); ``last_step``: the newest time step whose
    code was accepted, so a code works once."""

    user_id: uuid.UUID
    secret_ciphertext: str
    created_at: datetime
    confirmed_at: datetime | None = None
    last_step: int | None = None

    @property
    def is_on(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True, slots=True)
class RecoveryCode:
    id: uuid.UUID
    user_id: uuid.UUID
    code_hash: str
    created_at: datetime
    used_at: datetime | None = None


def new_recovery_codes() -> list[str]:
    """Ten fresh codes, as shown to the user once: ``abcd-efgh-jkmn-pqrs``."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def recovery_code_digest(code: str) -> str:
    """What is stored and looked up: the code without separators or case, hashed."""
    canonical = "".join(ch for ch in code.lower() if ch not in "- ")
    return hashlib.sha256(canonical.encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    """A TOTP code is six digits; anything longer is tried as a recovery code."""
    return len("".join(ch for ch in code if ch not in "- ")) == _RECOVERY_LENGTH


def recovery_codes_for(user_id: uuid.UUID, codes: list[str], now: datetime) -> list[RecoveryCode]:
    return [RecoveryCode(uuid.uuid4(), user_id, recovery_code_digest(code), now) for code in codes]
