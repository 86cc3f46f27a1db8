"""The mail tests' fixtures, for the events of a reset and a verification."""

from tests.unit.application.use_cases.mail.test_account_mail import alice, sender

__all__ = ["alice", "sender"]
