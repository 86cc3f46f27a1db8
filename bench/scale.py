"""``python -m bench.scale``: the listings at a million items (skipped when BENCH_QUICK is set).

Seeds, in PostgreSQL itself (``INSERT ... SELECT generate_series``: no row goes through the
API), 100,000 users and 1,000,000 items: one owner with 100,000 of them, the rest nine to each
user; then loads Keel (``keel serve``, one worker, production settings) with a concurrent
httpx loop and prints p50 and p99 of: page 1 and page 5,000 of the big owner's items by number
and by cursor, the administrator's listing of everything, and the ``q`` title search. The goal:
page 5,000 by cursor within 1.5x of page 1 in p99 (``cursor-depth ratio``). It also times the
counting options in SQL (exact, capped at 10,000, the planner's estimate, none) and shows the
plan of the ``q`` search, and the serving worker's memory at the end (goal: under 150 MiB RSS).
"""

# ruff: noqa: S603, S608
# (S603: it runs the keel command of the tree under test; S608: the SQL is the module's own.)
from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx

from bench.processes import Service, memory_of, wait_http, worker_pid
from bench.settings import PASSWORD, BenchError, Config
from bench.stack import Stack
from domain.keyset import Cursor, CursorCodec, scope_of
from domain.pagination import COUNT_CAP
from harness.ports import free_port

USERS = int(os.environ.get("BENCH_SCALE_USERS", "100000"))
ITEMS = int(os.environ.get("BENCH_SCALE_ITEMS", "1000000"))
BIG_OWNER_ITEMS = ITEMS // 10
REQUESTS = int(os.environ.get("BENCH_SCALE_REQUESTS", "400"))
CONCURRENCY = int(os.environ.get("BENCH_SCALE_CONCURRENCY", "2"))
PAGE_SIZE = 20
DEEP_PAGE = 5_000
# The serving worker's RSS after the whole run, a million items read through it.
RSS_GOAL_MIB = 150.0
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima"

SEED_USERS = f"""
INSERT INTO users (id, email, hashed_password, full_name, roles, is_active, is_superuser,
                   is_verified, created_at, updated_at, sessions_valid_after, version)
SELECT gen_random_uuid(), 'scale-' || n || '@example.com', 'x', 'Scale user ' || n, 'user',
       true, false, true, t, t, t, 1
FROM generate_series(1, {USERS}) AS n,
     LATERAL (SELECT now() - interval '400 days' + n * interval '1 second' AS t) AS at
"""
# Three items share each second (ties broken by id); titles draw on a few words, so that a
# word matches about one title in twelve and a number one in a few thousand.
_TITLE = (
    f"(string_to_array('{WORDS}', ' '))[1 + (n * 7) % 12] || ' item ' || n"
    f" || ' ' || (string_to_array('{WORDS}', ' '))[1 + (n * 5) % 12]"
)
SEED_BIG_OWNER = f"""
INSERT INTO items (id, owner_id, title, description, created_at, updated_at, version)
SELECT gen_random_uuid(), $1, {_TITLE}, NULL, t, t, 1
FROM generate_series(1, {BIG_OWNER_ITEMS}) AS n,
     LATERAL (SELECT now() - interval '300 days' + (n / 3) * interval '1 second' AS t) AS at
"""
SEED_SPREAD = f"""
WITH owners AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM users)
INSERT INTO items (id, owner_id, title, description, created_at, updated_at, version)
SELECT gen_random_uuid(), owners.id, {_TITLE}, 'spread', t, t, 1
FROM generate_series(1, {ITEMS - BIG_OWNER_ITEMS}) AS n
JOIN owners ON owners.k = 1 + n % (SELECT count(*) FROM owners),
     LATERAL (SELECT now() - interval '300 days' + (n / 3) * interval '1 second' AS t) AS at
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def load(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> tuple[float, float]:
    """p50 and p99 in milliseconds of REQUESTS GETs of ``path``, CONCURRENCY at a time."""
    times: list[float] = []
    queue = iter(range(REQUESTS))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            answer = await client.get(path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise BenchError(f"GET {path}: {answer.status_code} {answer.text[:300]}")

    for _ in range(20):  # warm-up: the plans, the pool, the caches
        await client.get(path, headers=headers)
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return statistics.median(times), percentile(times, 0.99)


async def sql_time(connection: Any, statement: str, *args: Any, runs: int = 15) -> float:
    """The median time of a statement in milliseconds (after one warm-up run)."""
    await connection.fetch(statement, *args)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await connection.fetch(statement, *args)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def count_options(dsn: str, owner: Any) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        own, everyone = "WHERE owner_id = $1", ""
        print("counting options (SQL alone, median of 15, ms):")
        for name, where, args in (("big owner", own, (owner,)), ("everyone", everyone, ())):
            exact = await sql_time(connection, f"SELECT count(*) FROM items {where}", *args)
            capped = await sql_time(
                connection,
                f"SELECT count(*) FROM (SELECT 1 FROM items {where} LIMIT {COUNT_CAP + 1}) s",
                *args,
            )
            estimate = await sql_time(connection, f"EXPLAIN SELECT 1 FROM items {where}", *args)
            reltuples = await sql_time(
                connection, "SELECT reltuples FROM pg_class WHERE relname = 'items'"
            )
            print(
                f"  {name:9}  exact {exact:8.2f}  capped {capped:6.2f}  "
                f"EXPLAIN estimate {estimate:5.2f}  reltuples {reltuples:5.2f}"
            )
        deep = await connection.fetchrow(
            "SELECT created_at, id FROM items WHERE owner_id = $1"
            f" ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET {(DEEP_PAGE - 1) * PAGE_SIZE - 1}",
            owner,
        )
        plan = await connection.fetch(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM items WHERE owner_id = $1"
            " AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT 21",
            owner,
            deep["created_at"],
            deep["id"],
        )
        print(f"the big owner's page {DEEP_PAGE:,} by key:")
        for row in plan:
            print("   ", row[0])
        plan = await connection.fetch(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM items WHERE title ILIKE $1 ESCAPE '/'"
            " ORDER BY created_at DESC, id DESC LIMIT 21",
            "%item 4242%",
        )
        print("the q search's plan (everyone's items, 'item 4242'):")
        for row in plan:
            print("   ", row[0])
    finally:
        await connection.close()


async def seed(dsn: str, owner: Any) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        started = time.monotonic()
        await connection.execute("SET synchronous_commit = off")
        await connection.execute(SEED_USERS)
        await connection.execute(SEED_BIG_OWNER, owner)
        await connection.execute(SEED_SPREAD)
        await connection.execute("VACUUM ANALYZE users")
        await connection.execute("VACUUM ANALYZE items")
        print(
            f"seeded {USERS:,} users and {ITEMS:,} items in {time.monotonic() - started:.1f} s",
            flush=True,
        )
    finally:
        await connection.close()


async def deep_key(dsn: str, owner: Any | None, offset: int) -> Cursor:
    """The cursor that leads to the page after ``offset`` rows, as Keel would give it."""
    connection = await asyncpg.connect(dsn)
    try:
        where = "WHERE owner_id = $1" if owner is not None else ""
        args = (owner,) if owner is not None else ()
        row = await connection.fetchrow(
            f"SELECT created_at, id FROM items {where} ORDER BY created_at DESC, id DESC"
            f" LIMIT 1 OFFSET {offset - 1}",
            *args,
        )
    finally:
        await connection.close()
    return Cursor(at=row["created_at"], id=row["id"], page=offset // PAGE_SIZE + 1)


async def measure(stack: Stack, url: str, dsn: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        tokens = {}
        for name in ("owner", "admin"):
            answer = await client.post(
                "/api/v1/auth/login", data={"username": stack.email(name), "password": PASSWORD}
            )
            tokens[name] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        me = (await client.get("/api/v1/users/me", headers=tokens["owner"])).json()
        admin = (await client.get("/api/v1/users/me", headers=tokens["admin"])).json()
        codec = CursorCodec(stack.secret)
        offset = (DEEP_PAGE - 1) * PAGE_SIZE
        own_scope = scope_of("items", me["id"], me["id"], None)
        all_scope = scope_of("items", admin["id"], None, None)
        own_deep = codec.encode(await deep_key(dsn, me["id"], offset), own_scope)
        all_deep = codec.encode(await deep_key(dsn, None, offset), all_scope)
        first = await client.get(f"/api/v1/items?page_size={PAGE_SIZE}", headers=tokens["owner"])
        own_second = first.json()["next_cursor"]
        base = f"/api/v1/items?page_size={PAGE_SIZE}"
        scenarios: list[tuple[str, str, str]] = [
            ("owner page 1 by number", base, "owner"),
            ("owner page 1, total=false", f"{base}&total=false", "owner"),
            (f"owner page {DEEP_PAGE:,} by number", f"{base}&page={DEEP_PAGE}", "owner"),
            ("owner page 2 by cursor", f"{base}&cursor={own_second}", "owner"),
            (f"owner page {DEEP_PAGE:,} by cursor", f"{base}&cursor={own_deep}", "owner"),
            (
                f"owner page {DEEP_PAGE:,} by cursor, total=true",
                f"{base}&cursor={own_deep}&total=true",
                "owner",
            ),
            ("admin: everyone's page 1", base, "admin"),
            (
                f"admin: everyone's page {DEEP_PAGE:,} by number",
                f"{base}&page={DEEP_PAGE}",
                "admin",
            ),
            (
                f"admin: everyone's page {DEEP_PAGE:,} by cursor",
                f"{base}&cursor={all_deep}",
                "admin",
            ),
            ("admin: q=item 4242 (everyone's)", f"{base}&q=item%204242", "admin"),
            ("owner: q=item 4242", f"{base}&q=item%204242", "owner"),
            ("owner: q=golf (many matches)", f"{base}&q=golf", "owner"),
        ]
        figures: dict[str, tuple[float, float]] = {}
        print(f"\n{REQUESTS} requests each, {CONCURRENCY} at a time (ms):")
        for name, path, who in scenarios:
            figures[name] = await load(client, path, tokens[who])
            p50, p99 = figures[name]
            print(f"  {name:46} p50 {p50:7.2f}  p99 {p99:7.2f}", flush=True)
        ratio = (
            figures[f"owner page {DEEP_PAGE:,} by cursor"][1] / figures["owner page 1 by number"][1]
        )
        print(f"cursor-depth ratio (p99 of page {DEEP_PAGE:,} by cursor / page 1): {ratio:.2f}")
        print(f"goal 1.5 or less: {'met' if ratio <= 1.5 else 'missed'}")


def run(config: Config) -> None:
    stack = Stack(config)
    try:
        database_url = stack.start_postgres()
        assert stack.postgres is not None
        dsn = stack.postgres.dsn("keel_bench")
        env = stack.keel_env(database_url)
        keel_bin = str(config.keel_bin)
        migrated = subprocess.run(
            [keel_bin, "migrate"], env=env, cwd=stack.workdir, capture_output=True, text=True
        )
        if migrated.returncode != 0:
            raise BenchError(f"keel migrate failed:\n{migrated.stdout}{migrated.stderr}")
        port = free_port()
        command = [keel_bin, "serve", "--host", "127.0.0.1", "--port", str(port)]
        stack.keel = Service("keel", command, env, stack.workdir)
        stack.keel_url = f"http://127.0.0.1:{port}"
        wait_http(stack.keel_url + "/health/ready", stack.keel)
        for name in ("owner", "admin"):
            body = {"email": stack.email(name), "password": PASSWORD, "full_name": name}
            answer = httpx.post(stack.keel_url + "/api/v1/users", json=body, timeout=60)
            if answer.status_code != 201:
                raise BenchError(f"registering {name}: {answer.status_code} {answer.text}")
        worker, _described = worker_pid(stack.keel.pid)
        at_start = memory_of(worker)
        asyncio.run(_prepare(dsn, stack))
        asyncio.run(measure(stack, stack.keel_url, dsn))
        report_memory(at_start, memory_of(worker))
    finally:
        stack.stop()


def report_memory(at_start: dict[str, float], after: dict[str, float]) -> None:
    """The serving worker's memory once every listing above has been read (item 6 of the
    scale goals: under ``RSS_GOAL_MIB``)."""
    rss, peak = after.get("VmRSS", 0.0), after.get("VmHWM", 0.0)
    print(
        f"keel worker memory: {at_start.get('VmRSS', 0.0):.1f} MiB at start, {rss:.1f} MiB after"
        f" the run (peak {peak:.1f}); goal under {RSS_GOAL_MIB:.0f} MiB:"
        f" {'met' if rss < RSS_GOAL_MIB else 'missed'}"
    )


async def _prepare(dsn: str, stack: Stack) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        owner = await connection.fetchval(
            "SELECT id FROM users WHERE email = $1", stack.email("owner")
        )
        await connection.execute(
            "UPDATE users SET roles = 'admin user' WHERE email = $1", stack.email("admin")
        )
    finally:
        await connection.close()
    await seed(dsn, owner)
    await count_options(dsn, owner)


def main() -> int:
    if os.environ.get("BENCH_QUICK"):
        print("bench.scale: skipped (BENCH_QUICK)")
        return 0
    try:
        run(Config.from_env())
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
