"""The test session's redis-server: the tooling's, shared with the benchmark."""

from harness.redis import RedisServer

__all__ = ["RedisServer"]
