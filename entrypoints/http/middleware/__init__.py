"""Plain ASGI middleware: no BaseHTTPMiddleware, no per-request task groups."""
