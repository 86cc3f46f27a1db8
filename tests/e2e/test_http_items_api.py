"""Items over HTTP: ownership, validation, partial updates, pages and search."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.http_support import World, assert_envelope

ITEM_FIELDS = {"id", "owner_id", "title", "description", "created_at", "updated_at"}


async def test_create_returns_the_item_owned_by_the_caller(world: World) -> None:
    item = await world.create("alice", "  Buy milk ", "two litres\nsemi-skimmed")
    assert set(item) == ITEM_FIELDS
    assert item["owner_id"] == world.ids["alice"]
    assert item["title"] == "Buy milk"
    assert item["description"] == "two litres\nsemi-skimmed"
    read = await world.get("alice", f"/api/v1/items/{item['id']}")
    assert read.json() == item


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "nul\u0000"}, "title"),
        ({"title": "line\nbreak"}, "title"),
        ({"title": "t", "description": "x" * 10_001}, "description"),
        ({"title": "t", "description": "nul\u0000"}, "description"),
        ({"title": "t", "owner_id": "00000000-0000-0000-0000-000000000000"}, "owner_id"),
        ({"title": 5}, "title"),
    ],
)
async def test_bad_items_are_422_and_nothing_is_stored(
    world: World, body: dict[str, Any], field: str
) -> None:
    response = await world.client.post("/api/v1/items", json=body, headers=world.headers["alice"])
    error = assert_envelope(response, 422, "VALIDATION_ERROR")
    assert field in {entry["field"] for entry in error["details"]["errors"]}
    assert (await world.get("alice", "/api/v1/items")).json()["total"] == 0


async def test_items_need_a_token(world: World) -> None:
    assert_envelope(
        await world.client.post("/api/v1/items", json={"title": "t"}), 401, "UNAUTHORIZED"
    )
    assert_envelope(await world.client.get("/api/v1/items"), 401, "UNAUTHORIZED")


async def test_others_items_are_404_and_stay_unchanged(world: World) -> None:
    item = await world.create("alice", "private", "secret")
    path = f"/api/v1/items/{item['id']}"
    bob = world.headers["bob"]
    assert_envelope(await world.client.get(path, headers=bob), 404, "NOT_FOUND")
    patched = await world.client.patch(path, json={"title": "mine now"}, headers=bob)
    assert_envelope(patched, 404, "NOT_FOUND")
    assert_envelope(await world.client.delete(path, headers=bob), 404, "NOT_FOUND")
    assert (await world.get("alice", path)).json() == item


async def test_admins_read_change_and_delete_any_item(world: World) -> None:
    item = await world.create("alice", "title")
    path = f"/api/v1/items/{item['id']}"
    root = world.headers["root"]
    assert (await world.client.get(path, headers=root)).status_code == 200
    patched = await world.client.patch(path, json={"title": "by admin"}, headers=root)
    assert patched.json()["title"] == "by admin"
    assert patched.json()["owner_id"] == world.ids["alice"]
    assert (await world.client.delete(path, headers=root)).status_code == 204
    assert_envelope(await world.get("alice", path), 404, "NOT_FOUND")


@pytest.mark.parametrize("item_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])
async def test_ids_that_are_not_uuids_are_422(world: World, item_id: str) -> None:
    assert_envelope(await world.get("alice", f"/api/v1/items/{item_id}"), 422, "VALIDATION_ERROR")


async def test_an_unknown_item_is_404(world: World) -> None:
    missing = "/api/v1/items/7d5c1b2e-4a0f-4a7e-9a43-1f0e2d3c4b5a"
    assert_envelope(await world.get("alice", missing), 404, "NOT_FOUND")
    assert_envelope(
        await world.client.delete(missing, headers=world.headers["alice"]), 404, "NOT_FOUND"
    )


async def test_patch_is_partial(world: World) -> None:
    item = await world.create("alice", "title", "description")
    path = f"/api/v1/items/{item['id']}"
    alice = world.headers["alice"]
    retitled = (await world.client.patch(path, json={"title": "new"}, headers=alice)).json()
    assert (retitled["title"], retitled["description"]) == ("new", "description")
    assert retitled["updated_at"] >= item["updated_at"]
    assert retitled["created_at"] == item["created_at"]
    cleared = (await world.client.patch(path, json={"description": None}, headers=alice)).json()
    assert (cleared["title"], cleared["description"]) == ("new", None)
    for body in ({"title": None}, {"title": ""}, {"colour": "red"}, {"title": "x" * 201}):
        response = await world.client.patch(path, json=body, headers=alice)
        assert_envelope(response, 422, "VALIDATION_ERROR")
    assert (await world.get("alice", path)).json() == cleared


async def test_delete_then_gone(world: World) -> None:
    item = await world.create("alice", "title")
    path = f"/api/v1/items/{item['id']}"
    response = await world.client.delete(path, headers=world.headers["alice"])
    assert response.status_code == 204
    assert response.content == b""
    assert_envelope(await world.get("alice", path), 404, "NOT_FOUND")


async def test_list_shows_own_items_newest_first_in_stable_pages(world: World) -> None:
    made = [await world.create("alice", f"item {n}") for n in range(5)]
    await world.create("bob", "bob's item")
    pages = [
        (await world.get("alice", "/api/v1/items", page=n, page_size=2)).json() for n in (1, 2, 3)
    ]
    assert [p["has_next"] for p in pages] == [True, True, False]
    assert {p["total"] for p in pages} == {5}
    assert [p["page_size"] for p in pages] == [2, 2, 2]
    listed = [item["id"] for p in pages for item in p["items"]]
    assert listed == [item["id"] for item in reversed(made)]
    past = (await world.get("alice", "/api/v1/items", page=9, page_size=2)).json()
    assert past == {
        "items": [],
        "total": 5,
        "total_is_exact": True,
        "page": 9,
        "page_size": 2,
        "has_next": False,
        "next_cursor": None,
    }


async def test_q_matches_titles_ignoring_case(world: World) -> None:
    for title in ("Buy MILK", "bread", "milkshake"):
        await world.create("alice", title)
    await world.create("bob", "milk for bob")
    found = (await world.get("alice", "/api/v1/items", q="Milk")).json()
    assert [item["title"] for item in found["items"]] == ["milkshake", "Buy MILK"]
    assert found["total"] == 2
    assert (await world.get("alice", "/api/v1/items", q="%")).json()["total"] == 0


async def test_admins_list_everything_and_filter_by_owner(world: World) -> None:
    await world.create("alice", "a")
    await world.create("bob", "b")
    everything = (await world.get("root", "/api/v1/items")).json()
    assert everything["total"] == 2
    bobs = (await world.get("root", "/api/v1/items", owner_id=world.ids["bob"])).json()
    assert [item["owner_id"] for item in bobs["items"]] == [world.ids["bob"]]


async def test_users_cannot_list_others_items(world: World) -> None:
    await world.create("bob", "b")
    response = await world.get("alice", "/api/v1/items", owner_id=world.ids["bob"])
    assert_envelope(response, 403, "FORBIDDEN")
    own = await world.get("alice", "/api/v1/items", owner_id=world.ids["alice"])
    assert own.json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0},
        {"page": -1},
        {"page": "1.5"},
        {"page": "abc"},
        {"page": 10**12},
        {"page": 10**30},
        {"page_size": 0},
        {"page_size": 101},
        {"owner_id": "nope"},
        {"q": "x" * 201},
    ],
)
async def test_bad_list_parameters_are_422(world: World, params: dict[str, Any]) -> None:
    response = await world.get("root", "/api/v1/items", **params)
    error = assert_envelope(response, 422, "VALIDATION_ERROR")
    assert error["details"]["errors"][0]["field"] == next(iter(params))
