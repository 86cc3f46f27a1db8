"""How many reset and verification mails an account gets, and under which key they count."""

from __future__ import annotations

import uuid

# Reset and verification mails per account: so many in a window of WINDOW_SECONDS that
# starts with the first.
MAILS_PER_HOUR = 3
WINDOW_SECONDS = 3600


def verification_key(user_id: uuid.UUID) -> str:
    """What verification mails are counted under: per account."""
    return f"mail:verification:{user_id}"
