from __future__ import annotations

from dataclasses import dataclass

from application.ports import SecretCipher, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Reencrypted:
    rewritten: int
    unreadable: int


class ReencryptSecrets:
    """Re-encrypt every stored TOTP secret under the first ``ENCRYPTION_KEY``, so that the
    keys after it can be retired. One short transaction per secret; a secret changed
    meanwhile (a new set-up) is left as it is. Secrets no key opens are counted, not
    touched."""

    def __init__(self, uow_factory: UnitOfWorkFactory, cipher: SecretCipher) -> None:
        self._uow_factory = uow_factory
        self._cipher = cipher

    async def execute(self) -> Reencrypted:
        async with self._uow_factory() as uow:
            stored = await uow.second_factor.ciphertexts()
        rewritten = unreadable = 0
        for user_id, old in stored:
            try:
                new = self._cipher.rotate(old)
            except ValueError:
                unreadable += 1
                continue
            async with self._uow_factory() as uow:
                if await uow.second_factor.replace_ciphertext(user_id, old, new):
                    await uow.commit()
                    rewritten += 1
        return Reencrypted(rewritten, unreadable)
