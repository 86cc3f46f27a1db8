"""Accounts over HTTP: your own, others', the administrators' powers and their limits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.http_support import PASSWORD, World, assert_envelope, bearer, login

ME = "/api/v1/users/me"
RANDOM_ID = "7d5c1b2e-4a0f-4a7e-9a43-1f0e2d3c4b5a"


async def me(world: World, who: str) -> dict[str, Any]:
    response = await world.get(who, ME)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def patch(world: World, who: str, path: str, body: dict[str, Any]) -> Any:
    return await world.client.patch(path, json=body, headers=world.headers[who])


async def test_patch_me_changes_only_what_is_sent(world: World) -> None:
    before = await me(world, "alice")
    response = await patch(world, "alice", ME, {"full_name": "Alice A."})
    assert response.status_code == 200
    after = response.json()
    assert after["full_name"] == "Alice A."
    assert {k: v for k, v in after.items() if k not in ("full_name", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("full_name", "updated_at")
    }
    cleared = await patch(world, "alice", ME, {"full_name": None})
    assert cleared.json()["full_name"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": None}, "email"),
        ({"password": None}, "password"),
        ({"is_active": None}, "is_active"),
        ({"roles": None}, "roles"),
        ({"email": "not-an-email"}, "email"),
        ({"full_name": "x" * 256}, "full_name"),
        ({"nickname": "al"}, "nickname"),
        ({"password": "short", "current_password": PASSWORD}, "password"),
        ({"password": "a new password"}, "current_password"),
        ({"password": "a new password", "current_password": "wrong one!"}, "current_password"),
    ],
)
async def test_bad_patches_are_422_and_change_nothing(
    world: World, body: dict[str, Any], field: str
) -> None:
    before = await me(world, "alice")
    error = assert_envelope(await patch(world, "alice", ME, body), 422, "VALIDATION_ERROR")
    assert field in {entry["field"] for entry in error["details"]["errors"]}
    assert await me(world, "alice") == before
    assert (await login(world.client, "alice@example.com")).status_code == 200


async def test_a_taken_email_is_409_whatever_its_case(world: World) -> None:
    before = await me(world, "alice")
    response = await patch(world, "alice", ME, {"email": "BOB@example.com"})
    assert_envelope(response, 409, "CONFLICT")
    assert await me(world, "alice") == before


async def test_a_new_email_is_unverified_and_logs_in(world: World) -> None:
    response = await patch(world, "alice", ME, {"email": "Alice.New@Example.com"})
    assert response.json()["email"] == "alice.new@example.com"
    assert response.json()["is_verified"] is False
    assert (await login(world.client, "alice.new@example.com")).status_code == 200
    assert (await login(world.client, "alice@example.com")).status_code == 401


async def test_a_password_change_ends_sessions(world: World) -> None:
    old_headers = world.headers["alice"]
    body = {"password": "a brand new password", "current_password": PASSWORD}
    assert (await patch(world, "alice", ME, body)).status_code == 200
    assert_envelope(await world.client.get(ME, headers=old_headers), 401, "UNAUTHORIZED")
    assert (await login(world.client, "alice@example.com")).status_code == 401
    fresh = await login(world.client, "alice@example.com", "a brand new password")
    assert fresh.status_code == 200
    token = fresh.json()["access_token"]
    assert (await world.client.get(ME, headers=bearer(token))).status_code == 200


@pytest.mark.parametrize("body", [{"roles": ["user", "admin"]}, {"is_active": False}])
async def test_users_cannot_change_their_roles_or_active_flag(
    world: World, body: dict[str, Any]
) -> None:
    before = await me(world, "alice")
    assert_envelope(await patch(world, "alice", ME, body), 403, "FORBIDDEN")
    assert await me(world, "alice") == before


async def test_delete_me_removes_the_account_and_its_items(world: World) -> None:
    await world.create("alice", "mine")
    response = await world.client.delete(ME, headers=world.headers["alice"])
    assert response.status_code == 204
    assert (await login(world.client, "alice@example.com")).status_code == 401
    assert_envelope(await world.get("alice", ME), 401, "UNAUTHORIZED")
    left = await world.get("root", "/api/v1/items", owner_id=world.ids["alice"])
    assert left.json()["total"] == 0


async def test_listing_users_is_for_admins(world: World) -> None:
    assert_envelope(await world.get("alice", "/api/v1/users"), 403, "FORBIDDEN")
    assert_envelope(await world.client.get("/api/v1/users"), 401, "UNAUTHORIZED")
    page = (await world.get("root", "/api/v1/users")).json()
    assert set(page) == {
        "items",
        "total",
        "total_is_exact",
        "page",
        "page_size",
        "has_next",
        "next_cursor",
    }
    assert page["total"] == 3
    # Newest first: root was made last.
    assert [u["email"] for u in page["items"]] == [
        "root@example.com",
        "bob@example.com",
        "alice@example.com",
    ]


async def test_user_filters_and_pages(world: World) -> None:
    async def emails(**params: Any) -> list[str]:
        response = await world.get("root", "/api/v1/users", **params)
        assert response.status_code == 200, response.text
        return [u["email"] for u in response.json()["items"]]

    assert await emails(role="admin") == ["root@example.com"]
    assert await emails(email="ALICE@example.com") == ["alice@example.com"]
    assert await emails(is_active="false") == []
    assert await emails(page=2, page_size=2) == ["alice@example.com"]
    past = (await world.get("root", "/api/v1/users", page=5)).json()
    assert (past["items"], past["total"], past["has_next"]) == ([], 3, False)


@pytest.mark.parametrize(
    "params",
    [
        {"role": "owner"},
        {"is_active": "maybe"},
        {"email": "nope"},
        {"page": 0},
        {"page": "1.5"},
        {"page": 10**12},
        {"page_size": 101},
        {"page_size": -5},
    ],
)
async def test_bad_user_list_parameters_are_422(world: World, params: dict[str, Any]) -> None:
    response = await world.get("root", "/api/v1/users", **params)
    error = assert_envelope(response, 422, "VALIDATION_ERROR")
    assert error["details"]["errors"][0]["field"] == next(iter(params))


async def test_users_see_themselves_by_id_and_nobody_else(world: World) -> None:
    alice_path = f"/api/v1/users/{world.ids['alice']}"
    assert (await world.get("alice", alice_path)).json()["email"] == "alice@example.com"
    bob = world.headers["bob"]
    assert_envelope(await world.client.get(alice_path, headers=bob), 404, "NOT_FOUND")
    patched = await world.client.patch(alice_path, json={"full_name": "x"}, headers=bob)
    assert_envelope(patched, 404, "NOT_FOUND")
    assert_envelope(await world.client.delete(alice_path, headers=bob), 404, "NOT_FOUND")
    assert_envelope(await world.get("alice", f"/api/v1/users/{RANDOM_ID}"), 404, "NOT_FOUND")
    assert_envelope(await world.get("alice", "/api/v1/users/not-a-uuid"), 422, "VALIDATION_ERROR")
    assert (await me(world, "alice"))["full_name"] == "Ada"  # unchanged by bob


async def test_an_unknown_user_is_404_for_admins_too(world: World) -> None:
    path = f"/api/v1/users/{RANDOM_ID}"
    assert_envelope(await world.get("root", path), 404, "NOT_FOUND")
    assert_envelope(await patch(world, "root", path, {"full_name": "x"}), 404, "NOT_FOUND")
    response = await world.client.delete(path, headers=world.headers["root"])
    assert_envelope(response, 404, "NOT_FOUND")


async def test_admins_promote_and_the_old_token_ends(world: World) -> None:
    path = f"/api/v1/users/{world.ids['alice']}"
    response = await patch(world, "root", path, {"roles": ["user", "admin"]})
    assert response.json()["roles"] == ["admin", "user"]
    assert_envelope(await world.get("alice", ME), 401, "UNAUTHORIZED")
    world.headers["alice"] = bearer(
        (await login(world.client, "alice@example.com")).json()["access_token"]
    )
    assert (await world.get("alice", "/api/v1/users")).status_code == 200


async def test_admins_deactivate_and_the_user_is_locked_out(world: World) -> None:
    path = f"/api/v1/users/{world.ids['alice']}"
    response = await patch(world, "root", path, {"is_active": False})
    assert response.json()["is_active"] is False
    assert_envelope(await world.get("alice", ME), 401, "UNAUTHORIZED")
    assert (await login(world.client, "alice@example.com")).status_code == 401
    await patch(world, "root", path, {"is_active": True})
    assert (await login(world.client, "alice@example.com")).status_code == 200


@pytest.mark.parametrize(
    "body", [{"roles": ["user"]}, {"is_active": False}], ids=["demote", "deactivate"]
)
async def test_the_last_admin_cannot_step_down(world: World, body: dict[str, Any]) -> None:
    path = f"/api/v1/users/{world.ids['root']}"
    assert_envelope(await patch(world, "root", path, body), 409, "CONFLICT")
    assert (await world.get("root", "/api/v1/users")).status_code == 200


async def test_the_last_admin_cannot_delete_themselves(world: World) -> None:
    response = await world.client.delete(ME, headers=world.headers["root"])
    assert_envelope(response, 409, "CONFLICT")
    assert (await me(world, "root"))["is_superuser"] is True


async def test_with_two_admins_one_may_step_down(world: World) -> None:
    await world.add("second", admin=True)
    path = f"/api/v1/users/{world.ids['root']}"
    response = await patch(world, "root", path, {"roles": ["user"]})
    assert response.status_code == 200
    assert response.json()["roles"] == ["user"]
    assert response.json()["is_superuser"] is False


async def test_admins_delete_users(world: World) -> None:
    path = f"/api/v1/users/{world.ids['bob']}"
    response = await world.client.delete(path, headers=world.headers["root"])
    assert response.status_code == 204
    assert_envelope(await world.get("root", path), 404, "NOT_FOUND")
    assert (await login(world.client, "bob@example.com")).status_code == 401


async def test_accounts_carry_an_etag_that_moves_with_every_change(world: World) -> None:
    read = await world.get("alice", ME)
    tag = read.headers["etag"]
    assert tag == '"v1"'
    by_id = await world.get("root", f"/api/v1/users/{world.ids['alice']}")
    assert by_id.headers["etag"] == tag
    not_modified = await world.client.get(
        ME, headers=world.headers["alice"] | {"If-None-Match": tag}
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""

    changed = await world.client.patch(
        ME, json={"full_name": "A"}, headers=world.headers["alice"] | {"If-Match": tag}
    )
    assert changed.status_code == 200, changed.text
    new_tag = changed.headers["etag"]
    assert new_tag == '"v2"'
    assert (await world.get("alice", ME)).headers["etag"] == new_tag


@pytest.mark.parametrize("path", [ME, "{alice}"])
async def test_a_stale_if_match_is_412_and_changes_nothing(world: World, path: str) -> None:
    path = path.format(alice=f"/api/v1/users/{world.ids['alice']}")
    who = "alice" if path == ME else "root"
    stale = (await world.get(who, path)).headers["etag"]
    assert (await patch(world, "alice", ME, {"full_name": "Moved on"})).status_code == 200
    before = await me(world, "alice")

    for headers in ({"If-Match": stale}, {"If-Match": 'W/"v2"'}, {"If-Match": "garbage"}):
        response = await world.client.patch(
            path, json={"full_name": "Lost"}, headers=world.headers[who] | headers
        )
        assert_envelope(response, 412, "PRECONDITION_FAILED")
        deletion = await world.client.delete(path, headers=world.headers[who] | headers)
        assert_envelope(deletion, 412, "PRECONDITION_FAILED")
    assert await me(world, "alice") == before

    current = (await world.get(who, path)).headers["etag"]
    deleted = await world.client.delete(path, headers=world.headers[who] | {"If-Match": current})
    assert deleted.status_code == 204
    assert (await world.get("root", f"/api/v1/users/{world.ids['alice']}")).status_code == 404
