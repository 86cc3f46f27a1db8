"""Where the workers of one ``keel serve`` keep their metrics so that any of them can report
the sum."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from entrypoints.metrics import MULTIPROCESS_DIR_VARIABLES, multiprocess_dir


@contextmanager
def shared_metrics_directory(workers: int) -> Iterator[None]:
    """With several workers and no ``PROMETHEUS_MULTIPROC_DIR``, a fresh temporary directory
    for this run (the workers inherit the variable). A directory given by the operator is
    emptied of an earlier run's values first. One worker with no directory needs neither."""
    given = multiprocess_dir()
    if given is not None:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
        yield
        return
    if workers == 1:
        yield
        return
    made = tempfile.mkdtemp(prefix="keel-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLES[0]] = made
    try:
        yield
    finally:
        os.environ.pop(MULTIPROCESS_DIR_VARIABLES[0], None)
        shutil.rmtree(made, ignore_errors=True)
