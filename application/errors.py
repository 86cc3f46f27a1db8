"""Errors raised by ports, in terms the use cases and entrypoints understand."""

from __future__ import annotations


class StorageUnavailable(Exception):
    """The database cannot be reached or did not answer in time."""

    def __init__(self, message: str = "The database is unavailable") -> None:
        super().__init__(message)
        self.message = message


class MigrationError(Exception):
    """The schema could not be moved to the requested revision (unknown revision, bad state)."""


class HashingQueueFull(Exception):
    """Every password-hashing thread is busy and the queue before them is full: the request
    is refused at once rather than left waiting."""

    def __init__(self, message: str = "The service is busy: try again shortly") -> None:
        super().__init__(message)
        self.message = message


MISSING_ENCRYPTION_KEY = (
    "Two-factor authentication is unavailable: ENCRYPTION_KEY is not configured"
)


class SecondFactorUnavailable(Exception):
    """The second factor's secrets cannot be kept or read: no encryption key is set."""

    def __init__(self, message: str = MISSING_ENCRYPTION_KEY) -> None:
        super().__init__(message)
        self.message = message


class ChangedMeanwhile(Exception):
    """A compare-and-set write that the store sent with the commit found the row changed
    since it was read: the commit stored nothing (``ItemRepository.update``)."""
