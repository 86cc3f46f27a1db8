"""Throwaway PostgreSQL and Redis servers on loopback, for the tests and the benchmark.

Not part of Keel (it is not packaged): the tooling around it, shared by ``tests`` and
``bench``, which both start their own servers.
"""
