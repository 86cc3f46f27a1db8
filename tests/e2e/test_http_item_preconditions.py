"""Optimistic concurrency over HTTP, on SQLite and PostgreSQL: items carry an ETag; a PATCH
or DELETE whose If-Match names a stale one is a 412 and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.http_support import World, assert_envelope

ITEMS = "/api/v1/items"


async def fetch(world: World, path: str, who: str = "alice") -> httpx.Response:
    response = await world.get(who, path)
    assert response.status_code == 200, response.text
    return response


async def patch(
    world: World, path: str, body: dict[str, Any], if_match: str | None, who: str = "alice"
) -> httpx.Response:
    headers: dict[str, str | bytes] = {**world.headers[who]}
    if if_match is not None:
        headers["If-Match"] = if_match.encode("latin-1")
    return await world.client.patch(path, json=body, headers=headers)


async def delete(world: World, path: str, if_match: str | None) -> httpx.Response:
    headers: dict[str, str | bytes] = {**world.headers["alice"]}
    if if_match is not None:
        headers["If-Match"] = if_match.encode("latin-1")
    return await world.client.delete(path, headers=headers)


@pytest.fixture
async def created(world: World) -> tuple[str, str]:
    """A new item of alice's: its path and the ETag its creation answered."""
    response = await world.client.post(
        ITEMS, json={"title": "start", "description": "first"}, headers=world.headers["alice"]
    )
    assert response.status_code == 201, response.text
    return f"{ITEMS}/{response.json()['id']}", response.headers["etag"]


async def test_the_etag_is_sent_and_changes_with_every_change(
    world: World, created: tuple[str, str]
) -> None:
    path, etag = created
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert (await fetch(world, path)).headers["etag"] == etag
    assert (await fetch(world, path, "root")).headers["etag"] == etag
    changed = await patch(world, path, {"title": "second"}, None)
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] != etag
    assert (await fetch(world, path)).headers["etag"] == changed.headers["etag"]


async def test_a_patch_with_the_current_etag_is_made(
    world: World, created: tuple[str, str]
) -> None:
    path, etag = created
    response = await patch(world, path, {"title": "second"}, etag)
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "second"
    again = await patch(world, path, {"description": "more"}, f'"nope", {response.headers["etag"]}')
    assert again.status_code == 200, again.text
    assert (again.json()["title"], again.json()["description"]) == ("second", "more")


async def test_a_patch_with_a_stale_etag_is_a_412_and_changes_nothing(
    world: World, created: tuple[str, str]
) -> None:
    path, stale = created
    assert (await patch(world, path, {"title": "second"}, None)).status_code == 200
    before = (await fetch(world, path)).json()

    response = await patch(world, path, {"title": "lost", "description": None}, stale)
    error = assert_envelope(response, 412, "PRECONDITION_FAILED")
    assert error["message"] == "The item has changed since it was read"
    assert "etag" not in response.headers
    assert (await fetch(world, path)).json() == before


async def test_a_delete_with_a_stale_etag_keeps_the_item_and_a_current_one_deletes_it(
    world: World, created: tuple[str, str]
) -> None:
    path, stale = created
    changed = await patch(world, path, {"title": "second"}, None)
    assert changed.status_code == 200, changed.text

    assert_envelope(await delete(world, path, stale), 412, "PRECONDITION_FAILED")
    assert (await fetch(world, path)).json() == changed.json()
    response = await delete(world, path, changed.headers["etag"])
    assert response.status_code == 204, response.text
    assert_envelope(await world.get("alice", path), 404, "NOT_FOUND")


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_a_star_matches_any_version(
    world: World, created: tuple[str, str], method: str
) -> None:
    path, _ = created
    assert (await patch(world, path, {"title": "second"}, None)).status_code == 200
    if method == "PATCH":
        response = await patch(world, path, {"title": "third"}, "*")
        assert response.status_code == 200, response.text
        assert (await fetch(world, path)).json()["title"] == "third"
    else:
        assert (await delete(world, path, "*")).status_code == 204
        assert_envelope(await world.get("alice", path), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "if_match",
    [
        "W/{etag}",  # weak: If-Match compares strongly
        "{etag} garbage",
        "garbage",
        "",
        '"v1',
        "*, {etag}",
        "\u00e9t\u00e9",
    ],
)
async def test_a_weak_or_malformed_if_match_is_a_412(
    world: World, created: tuple[str, str], if_match: str
) -> None:
    path, etag = created
    before = (await fetch(world, path)).json()
    header = if_match.format(etag=etag)
    assert_envelope(await patch(world, path, {"title": "x"}, header), 412, "PRECONDITION_FAILED")
    assert_envelope(await delete(world, path, header), 412, "PRECONDITION_FAILED")
    assert (await fetch(world, path)).json() == before


async def test_checks_come_in_order_unauthenticated_unknown_not_yours_then_the_etag(
    world: World, created: tuple[str, str]
) -> None:
    path, _ = created
    stale = '"v999"'
    anonymous = await world.client.patch(path, json={"title": "x"}, headers={"If-Match": stale})
    assert_envelope(anonymous, 401, "UNAUTHORIZED")
    missing = f"{ITEMS}/00000000-0000-4000-8000-000000000000"
    assert_envelope(await patch(world, missing, {"title": "x"}, stale), 404, "NOT_FOUND")
    assert_envelope(await patch(world, path, {"title": "x"}, stale, "bob"), 404, "NOT_FOUND")
    assert_envelope(await patch(world, path, {"title": ""}, stale), 422, "VALIDATION_ERROR")
    control = {"description": "bell \u0007"}  # refused by the domain, not the schema
    assert_envelope(await patch(world, path, control, stale), 422, "VALIDATION_ERROR")
    assert_envelope(
        await patch(world, path, {"title": "x"}, stale, "root"), 412, "PRECONDITION_FAILED"
    )


async def test_if_none_match_with_the_current_etag_is_a_304(
    world: World, created: tuple[str, str]
) -> None:
    path, etag = created
    headers = world.headers["alice"]
    for condition in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await world.client.get(path, headers={**headers, "If-None-Match": condition})
        assert response.status_code == 304, (condition, response.text)
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["x-request-id"]
    for condition in ('"other"', "garbage", ""):
        response = await world.client.get(path, headers={**headers, "If-None-Match": condition})
        assert response.status_code == 200, (condition, response.text)
        assert response.headers["etag"] == etag
    bob = await world.client.get(path, headers={**world.headers["bob"], "If-None-Match": "*"})
    assert_envelope(bob, 404, "NOT_FOUND")
