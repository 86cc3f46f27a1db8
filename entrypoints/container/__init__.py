"""The composition root: the one place that knows which adapter serves which port
(``root.py`` wires them, ``factories.py`` chooses them from the settings).

The wiring is imported on first use: a command that needs only the migrator
(``migrations.py``) does not load the application with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entrypoints.container.root import (
        Container,
        build_container,
        encryption_key_cause,
        shutdown_container,
    )

__all__ = ["Container", "build_container", "encryption_key_cause", "shutdown_container"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from entrypoints.container import root

        return getattr(root, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
