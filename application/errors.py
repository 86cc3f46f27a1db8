"""Errors raised by ports, in terms the use cases and entrypoints understand."""

from __future__ import annotations


class StorageUnavailable(Exception):
    """The database cannot be reached or did not answer in time."""

    def __init__(self, message: str = "The database is unavailable") -> None:
        super().__init__(message)
        self.message = message


class MigrationError(Exception):
    """The schema could not be moved to the requested revision (unknown revision, bad state)."""
