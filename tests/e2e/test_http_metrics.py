"""``GET /metrics`` after known requests: the numbers are the requests that were made."""

from __future__ import annotations

import asyncio

import httpx
from dependency_injector import providers
from prometheus_client.parser import text_string_to_metric_families

from application.errors import StorageUnavailable
from entrypoints.http.app import create_app
from tests.e2e.http_support import PASSWORD, World, login, make_settings, serving
from tests.e2e.jobs_support import wait_until

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
MISSING = "00000000-0000-0000-0000-000000000001"


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return value(samples, "keel_http_requests_total", **labels)


async def test_requests_are_counted_by_method_route_template_and_status(world: World) -> None:
    item = await world.create("alice", "one")
    before = await scrape(world.client)
    for _ in range(3):
        assert (await world.get("alice", f"/api/v1/items/{item['id']}")).status_code == 200
    for _ in range(2):
        assert (await world.get("alice", f"/api/v1/items/{MISSING}")).status_code == 404
    assert (await world.client.get("/no/such/path")).status_code == 404
    after = await scrape(world.client)

    route = "/api/v1/items/{item_id}"
    assert requests(after, "GET", route, 200) - requests(before, "GET", route, 200) == 3
    assert requests(after, "GET", route, 404) - requests(before, "GET", route, 404) == 2
    # Unknown paths share one label value: a client cannot mint new series.
    assert requests(after, "GET", "<unmatched>", 404) == 1
    assert not any(MISSING in str(labels) for _, labels in after)

    count = "keel_http_request_duration_seconds_count"
    labels = {"method": "GET", "route": route, "status": "200"}
    assert value(after, count, **labels) - value(before, count, **labels) == 3
    bucket = "keel_http_request_duration_seconds_bucket"
    assert value(after, bucket, **labels, le="+Inf") == value(after, count, **labels)
    assert value(after, "keel_http_request_duration_seconds_sum", **labels) > 0


async def test_the_scrape_itself_is_the_request_in_flight(world: World) -> None:
    samples = await scrape(world.client)
    assert value(samples, "keel_http_requests_in_flight") == 1


async def test_login_failures_and_throttles_are_counted(migrated_url: str) -> None:
    app = create_app(
        make_settings(
            migrated_url, login_rate_limit="3/minute", login_address_rate_limit="3/minute"
        )
    )
    async with serving(app) as client:
        world = World(client, app)
        await world.add("alice")
        assert (await login(client, "nobody@example.com", PASSWORD)).status_code == 401
        for _ in range(2):
            assert (await login(client, "alice@example.com", "wrong password!")).status_code == 401
        # Three failures from this address: even the right password waits now.
        assert (await login(client, "alice@example.com", PASSWORD)).status_code == 429
        samples = await scrape(client)
    assert value(samples, "keel_login_failures_total") == 3
    assert value(samples, "keel_login_throttled_total") == 1
    route = "/api/v1/auth/login"
    assert requests(samples, "POST", route, 200) == 1  # the login that made alice's token
    assert requests(samples, "POST", route, 429) == 1


async def test_database_connections_in_use_are_shown_and_given_back(world: World) -> None:
    gauge = "keel_db_pool_connections_in_use"

    async def in_use() -> float:
        return value(await scrape(world.client), gauge)

    # The jobs the set-up's registrations queued, and the job worker's polls, run in this
    # process and may hold one for a moment: each count is waited for, not read once.
    await wait_until("an idle pool", in_use, lambda count: count == 0)
    pool = world.app.state.container.engine()
    async with pool.connect(), pool.connect():
        await wait_until("the two held", in_use, lambda count: count == 2)
    # A burst of requests, then every connection is back in the pool.
    await asyncio.gather(*(world.get("alice", "/api/v1/items") for _ in range(10)))
    await wait_until("every connection back", in_use, lambda count: count == 0)


async def test_the_pool_capacity_is_its_size_plus_its_overflow(migrated_url: str) -> None:
    app = create_app(make_settings(migrated_url, database_pool_size=7, database_max_overflow=3))
    async with serving(app) as client:
        assert (await client.get("/health/ready")).status_code == 200
        samples = await scrape(client)
    assert value(samples, "keel_db_pool_connections_max") == 10


class StoppedDatabase:
    async def check(self) -> None:
        raise StorageUnavailable("connection refused")

    async def check_schema(self) -> None:
        await self.check()


async def test_readiness_is_shown_per_check_and_follows_the_last_probe(world: World) -> None:
    assert (await world.client.get("/health/ready")).status_code == 200
    samples = await scrape(world.client)
    assert value(samples, "keel_ready", check="database") == 1
    assert value(samples, "keel_ready", check="jobs") == 1

    container = world.app.state.container
    with container.health_probe.override(providers.Object(StoppedDatabase())):
        assert (await world.client.get("/health/ready")).status_code == 503
        samples = await scrape(world.client)
    assert value(samples, "keel_ready", check="database") == 0

    assert (await world.client.get("/health/ready")).status_code == 200
    assert value(await scrape(world.client), "keel_ready", check="database") == 1
