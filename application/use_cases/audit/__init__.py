"""Reading the security audit trail."""
