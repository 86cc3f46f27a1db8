"""Who may see and change what: the rules every use case asks."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from domain import policies
from domain.errors import LastAdministrator, PermissionDenied, UserNotFound, ValidationFailed
from domain.item import Item, ItemNotFound
from domain.pagination import MAX_PAGE, Page, PageRequest
from domain.user import User
from tests.support.builders import a_user, an_item

NOW = datetime(2026, 1, 1, tzinfo=UTC)


ALICE, BOB, ADMIN = (
    a_user("alice@example.com", now=NOW),
    a_user("bob@example.com", now=NOW),
    a_user("root@x.io", now=NOW, admin=True),
)


def test_users_see_themselves_and_admins_see_everyone() -> None:
    policies.ensure_can_see_user(ALICE, ALICE.id)
    policies.ensure_can_see_user(ADMIN, ALICE.id)
    with pytest.raises(UserNotFound):
        policies.ensure_can_see_user(ALICE, BOB.id)


def test_only_admins_list_users() -> None:
    policies.ensure_can_list_users(ADMIN)
    with pytest.raises(PermissionDenied):
        policies.ensure_can_list_users(ALICE)


@pytest.mark.parametrize("fields", [{"roles"}, {"is_active"}, {"email", "roles"}])
def test_roles_and_active_flag_are_for_admins(fields: set[str]) -> None:
    policies.ensure_can_change_user(ADMIN, ALICE, fields)
    with pytest.raises(PermissionDenied):
        policies.ensure_can_change_user(ALICE, ALICE, fields)


def test_users_change_their_own_profile_but_not_others() -> None:
    policies.ensure_can_change_user(ALICE, ALICE, {"email", "full_name", "password"})
    with pytest.raises(UserNotFound):
        policies.ensure_can_change_user(ALICE, BOB, {"full_name"})


@pytest.mark.parametrize(
    "after",
    [
        None,
        dataclasses.replace(ADMIN, is_active=False),
        dataclasses.replace(ADMIN, roles=frozenset(ALICE.roles)),
    ],
    ids=["deleted", "deactivated", "demoted"],
)
def test_the_last_active_admin_stays(after: User | None) -> None:
    with pytest.raises(LastAdministrator):
        policies.ensure_an_admin_remains(ADMIN, after, active_admins=1)
    policies.ensure_an_admin_remains(ADMIN, after, active_admins=2)


def test_removing_a_non_admin_needs_no_admin_count() -> None:
    policies.ensure_an_admin_remains(ALICE, None, active_admins=0)
    inactive_admin = a_user("old@example.com", now=NOW, admin=True, is_active=False)
    policies.ensure_an_admin_remains(inactive_admin, None, active_admins=0)


def test_items_belong_to_their_owner_and_admins() -> None:
    item = an_item(ALICE, now=NOW)
    policies.ensure_can_see_item(ALICE, item)
    policies.ensure_can_change_item(ADMIN, item)
    with pytest.raises(ItemNotFound):
        policies.ensure_can_see_item(BOB, item)
    with pytest.raises(ItemNotFound):
        policies.ensure_can_change_item(BOB, item)


def test_item_listing_scope() -> None:
    assert policies.item_owner_scope(ALICE, None) == ALICE.id
    assert policies.item_owner_scope(ALICE, ALICE.id) == ALICE.id
    assert policies.item_owner_scope(ADMIN, None) is None
    assert policies.item_owner_scope(ADMIN, BOB.id) == BOB.id
    with pytest.raises(PermissionDenied):
        policies.item_owner_scope(ALICE, BOB.id)


@pytest.mark.parametrize(
    ("page", "size"), [(0, 20), (-1, 20), (MAX_PAGE + 1, 20), (10**12, 20), (1, 0), (1, 101)]
)
def test_page_requests_out_of_range_are_refused(page: int, size: int) -> None:

    with pytest.raises(ValidationFailed):
        PageRequest(page, size)


def test_page_arithmetic() -> None:
    assert PageRequest(3, 20).offset == 40
    assert Page([], total=41, page=2, page_size=20).has_next
    assert not Page([], total=40, page=2, page_size=20).has_next
    assert not Page([], total=0, page=7, page_size=20).has_next


@pytest.mark.parametrize(
    ("title", "ok"),
    [
        ("a", True),
        ("x" * 200, True),
        ("  padded  ", True),
        ("", False),
        ("   ", False),
        ("x" * 201, False),
        ("bad\x00", False),
        ("line\nbreak", False),
        ("\ud800", False),
    ],
)
def test_item_title_rules(title: str, ok: bool) -> None:

    if ok:
        assert Item.create(owner_id=uuid.uuid4(), title=title, description=None, now=NOW).title
    else:
        with pytest.raises(ValidationFailed) as caught:
            Item.create(owner_id=uuid.uuid4(), title=title, description=None, now=NOW)
        assert caught.value.field == "title"


def test_item_description_rules() -> None:

    made = Item.create(owner_id=uuid.uuid4(), title="t", description="a\nb\tc", now=NOW)
    assert made.description == "a\nb\tc"
    for bad in ("x" * 10_001, "nul\x00"):
        with pytest.raises(ValidationFailed):
            Item.create(owner_id=uuid.uuid4(), title="t", description=bad, now=NOW)
