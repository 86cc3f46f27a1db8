"""Sessions: logging in, resolving an access token, rotating refresh tokens, logging out."""
