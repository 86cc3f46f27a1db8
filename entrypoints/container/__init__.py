"""The composition root: the one place that knows which adapter serves which port
(``root.py`` wires them, ``factories.py`` chooses them from the settings)."""

from entrypoints.container.root import Container, build_container, shutdown_container

__all__ = ["Container", "build_container", "shutdown_container"]
