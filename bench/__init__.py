"""Keel's benchmark: Keel against a minimal baseline, on one machine, in one run.

``make bench`` (or ``.venv/bin/python -m bench`` from the repository's root) starts a throwaway
PostgreSQL, migrates it, starts Keel (``keel serve``, one worker, production settings) and the
baseline (``bench/baseline.py``: Starlette + asyncpg, no middleware, uvicorn, one worker), seeds
them, checks that both answer the same JSON, then loads each in turn with ``wrk`` and prints
requests per second, p50 and p99, Keel's ratio to the baseline and PASS/MISS per target.
Everything it starts is stopped, and its temporary directories removed, however it ends
(Ctrl-C and SIGTERM included). See bench/README.md for what is measured and every knob.

The modules, in the order a run uses them: ``settings`` (the BENCH_* variables), ``stack``
(PostgreSQL, Keel and the baseline), ``seed``, ``scenarios`` (with ``wrk``, ``record`` and
``drain``), ``pyspy``, ``summary`` and ``report``; ``runner`` holds them together.
"""
