"""The test session's redis-server: the tooling's, shared with the benchmark."""

from harness.redis import RedisServer

__all__ = ["PATIENT_SECONDS", "RedisServer"]

# A deadline for the cache's calls to Redis in tests of what the cache answers rather than
# how long it may wait: on a loaded machine, fifty connections opened at once can take
# longer than the production deadline, which the cache rightly takes for an outage. The
# production deadline has its own tests (a Redis that hangs).
PATIENT_SECONDS = 5.0
