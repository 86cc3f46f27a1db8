"""The second factor: TOTP with recovery codes."""
