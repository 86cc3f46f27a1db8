"""The serving process's collector after start-up: what start-up made is frozen, and the
young generation waits for far more objects than CPython's default before a collection."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from entrypoints.heap import YOUNG_THRESHOLD, settle_heap


@pytest.fixture
def collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@contextmanager
def collections_run() -> Iterator[list[int]]:
    """The generations of the collections that ran inside the block."""
    gc.collect()
    runs: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield runs
    finally:
        gc.callbacks.remove(count)


@pytest.mark.usefixtures("collector")
def test_start_up_objects_are_frozen_and_the_young_threshold_raised() -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    kept = [[index] for index in range(1000)]  # tracked containers made "at start-up"
    settle_heap()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
    assert YOUNG_THRESHOLD > 700


@pytest.mark.usefixtures("collector")
def test_a_burst_of_live_objects_below_the_threshold_runs_no_collection() -> None:
    settle_heap()
    with collections_run() as runs:
        # About what a few dozen requests in flight keep alive at once.
        in_flight = [{"request": index} for index in range(5_000)]
        del in_flight
    assert runs == []


@pytest.mark.usefixtures("collector")
def test_garbage_cycles_are_still_collected() -> None:
    settle_heap()
    with collections_run() as runs:
        for _ in range(2 * YOUNG_THRESHOLD):
            cycle: list[object] = []
            cycle.append(cycle)
            del cycle
    assert runs, "no collection ran while cycles piled up"
