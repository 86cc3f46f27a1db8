"""The serving process's garbage collector, set once its start-up is done.

Keel's requests make almost no reference cycles; what sets CPython's collector off is the
number of objects alive at once. At its default threshold (a young collection once 700 more
objects are alive than at the last one) the objects of a few dozen requests in flight are
enough: a worker serving users/me under load ran a young collection about every eight
requests and a full one (every object not frozen) about every thousand, some 8 % of its CPU,
for almost nothing found. ``YOUNG_THRESHOLD`` lets the young generation grow to a size that
load alone does not reach, so the collector runs when garbage cycles pile up, not with
each burst of requests; what a cycle holds waits at most that many objects longer."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


def settle_heap() -> None:
    """Collect what start-up left, keep the long-lived objects it made out of every later
    collection (``gc.freeze``), and raise the young generation's threshold. The older
    generations keep CPython's own thresholds."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
