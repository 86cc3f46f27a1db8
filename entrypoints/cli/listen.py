"""Can ``keel serve`` listen where it was asked to? Asked before uvicorn starts: uvicorn
finds out only after the application's start-up, and then prints its own lines about it."""

from __future__ import annotations

import os
import socket


def cannot_listen(host: str, port: int) -> str | None:
    """Why a listening socket cannot be bound to ``host:port``, or None when it can.

    Bound the way uvicorn binds (address reuse on, so a port left in TIME_WAIT is fine)
    and closed again at once: another process could take the port in between, which
    uvicorn still reports in its own words."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    where = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
    try:
        with socket.create_server((host, port), family=family):
            return None
    except OSError as exc:
        return f"cannot listen on {where}: {_reason(exc).lower()}"


def _reason(exc: OSError) -> str:
    # create_server adds "(while attempting to bind on address ...)" to the system's words.
    if exc.errno is not None and exc.errno > 0:
        return os.strerror(exc.errno)
    return (exc.strerror or str(exc)).partition(" (while attempting")[0]
