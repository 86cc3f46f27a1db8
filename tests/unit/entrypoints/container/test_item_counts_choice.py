"""Where the listings' counts are cached: never where a change could go unheard."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.cache.memory import InMemoryCache
from entrypoints.container import factories
from entrypoints.metrics import MULTIPROCESS_DIR_VARIABLES
from entrypoints.settings import Settings


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, environment="test", **values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in MULTIPROCESS_DIR_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_one_worker_caches_in_its_memory() -> None:
    assert factories.item_counts(settings(), InMemoryCache()) is not None


def test_several_workers_without_redis_count_each_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(MULTIPROCESS_DIR_VARIABLES[0], str(tmp_path))
    assert factories.item_counts(settings(), InMemoryCache()) is None


def test_several_workers_with_redis_share_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(MULTIPROCESS_DIR_VARIABLES[0], str(tmp_path))
    chosen = settings(redis_url="redis://127.0.0.1:6379/0")
    assert factories.item_counts(chosen, InMemoryCache()) is not None
