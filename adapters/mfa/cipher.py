"""Secrets at rest under Fernet (AES-128-CBC with HMAC-SHA256: authenticated), with
rotation: MultiFernet encrypts with the first key and decrypts with any of them."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from application.errors import SecondFactorUnavailable


class FernetSecretCipher:
    def __init__(self, keys: str) -> None:
        self._fernet = MultiFernet([Fernet(key.strip()) for key in keys.split(",")])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("no key opens this secret") from exc

    def rotate(self, ciphertext: str) -> str:
        """The same secret, encrypted under the first key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("no key opens this secret") from exc


class MissingKeyCipher:
    """Where no ``ENCRYPTION_KEY`` is set (allowed in production until MFA is used): every
    use of the cipher is refused, and the caller answers 503, never a made-up key."""

    def encrypt(self, plaintext: str) -> str:
        raise SecondFactorUnavailable()

    def decrypt(self, ciphertext: str) -> str:
        raise SecondFactorUnavailable()

    def rotate(self, ciphertext: str) -> str:
        raise SecondFactorUnavailable()


def secret_cipher(keys: str | None) -> FernetSecretCipher | MissingKeyCipher:
    return MissingKeyCipher() if keys is None else FernetSecretCipher(keys)
