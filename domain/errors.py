"""Domain errors: what went wrong in business terms, never in HTTP or SQL terms."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """A value breaks a business rule; ``field`` names the input it came from."""

    def __init__(self, field: str, message: str, kind: str = "value_error") -> None:
        super().__init__(message)
        self.field = field
        self.kind = kind


class InvalidEmail(ValidationFailed):
    def __init__(self, message: str = "Not a valid email address") -> None:
        super().__init__("email", message, "email")


class WeakPassword(ValidationFailed):
    def __init__(self, message: str, field: str = "password") -> None:
        super().__init__(field, message, "password")


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it exists."""


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("User not found")


class Conflict(DomainError):
    """The change contradicts what is stored."""


class EmailAlreadyRegistered(Conflict):
    def __init__(self) -> None:
        super().__init__("A user with this email already exists")


class PreconditionFailed(DomainError):
    """The caller made a change conditional on the state it last read, and that state is
    no longer the stored one: nothing was changed."""


class AuthenticationFailed(DomainError):
    """Credentials or a token were not accepted. One message whatever the reason."""

    def __init__(self) -> None:
        super().__init__("Could not validate credentials")


class PermissionDenied(DomainError):
    def __init__(self, message: str = "Not allowed") -> None:
        super().__init__(message)


class RegistrationClosed(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("Registration is closed")


class LastAdministrator(Conflict):
    def __init__(self) -> None:
        super().__init__("The last active administrator cannot be removed, demoted or deactivated")


class WrongCurrentPassword(ValidationFailed):
    def __init__(self, message: str = "Current password is incorrect") -> None:
        super().__init__("current_password", message, "invalid_password")


class TooManyAttempts(DomainError):
    """Too many failed attempts: wait ``retry_after`` seconds."""

    def __init__(
        self, retry_after: int, message: str = "Too many failed attempts: try again later"
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidToken(DomainError):
    """A reset or verification token that is unknown, spent or expired. One message
    whatever the reason."""

    def __init__(self) -> None:
        super().__init__("The token is invalid or has expired")


class EmailNotVerified(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("Verify your email address before logging in")
