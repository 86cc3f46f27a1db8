"""Answers are serialised from plain fields taken from the entities, not from models built
of them. For any entity, those fields must be valid for the documented response model and
give exactly the JSON the model would."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic_core
import pytest
from asyncpg.pgproto import pgproto
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from domain.email import Email
from domain.item import Item
from domain.pagination import Page
from domain.role import Role
from domain.user import User
from entrypoints.http.bodies import json_body
from entrypoints.http.schemas.items import ItemOut, ItemPage
from entrypoints.http.schemas.serialisers import derive
from entrypoints.http.schemas.users import UserOut, UserPage
from tests.support.builders import an_item

texts = st.text(st.characters(codec="utf-8"), max_size=40)
times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
items = st.builds(
    Item,
    id=st.uuids(),
    owner_id=st.uuids(),
    title=texts,
    description=st.none() | texts,
    created_at=times,
    updated_at=times,
    version=st.integers(1, 2**31 - 1),
)
users = st.builds(
    User,
    id=st.uuids(),
    email=st.sampled_from(["ada@example.com", "zoë@exämple.org", "o'neil+x@example.co.uk"]).map(
        Email
    ),
    hashed_password=st.just("$argon2id$hash"),
    full_name=st.none() | texts,
    roles=st.frozensets(st.sampled_from(list(Role))),
    is_active=st.booleans(),
    is_superuser=st.booleans(),
    is_verified=st.booleans(),
    created_at=times,
    updated_at=times,
    sessions_valid_after=times,
)


def _as_the_model_gives_it(model: type[BaseModel], fields: dict[str, Any]) -> None:
    built = model.model_validate(fields)  # the fields are what the model documents
    assert json_body(fields).body == pydantic_core.to_json(fields)
    assert pydantic_core.to_json(fields) == built.model_dump_json().encode()


@given(items)
def test_an_items_fields_serialise_as_its_model(item: Item) -> None:
    _as_the_model_gives_it(ItemOut, ItemOut.of(item))


@given(users)
def test_a_users_fields_serialise_as_its_model(user: User) -> None:
    fields = UserOut.of(user)
    _as_the_model_gives_it(UserOut, fields)
    assert "hashed_password" not in fields


@given(st.lists(items, max_size=5), st.integers(0, 10**6), st.integers(1, 10**6))
def test_a_pages_fields_serialise_as_its_model(found: list[Item], extra: int, page: int) -> None:
    listing = Page(found, len(found) + extra, page, max(1, len(found)))
    _as_the_model_gives_it(ItemPage, ItemPage.of(listing, [ItemOut.of(i) for i in found]))


@given(st.lists(users, max_size=3))
def test_a_user_pages_fields_serialise_as_its_model(found: list[User]) -> None:
    listing = Page(found, len(found), 1, 20)
    _as_the_model_gives_it(UserPage, UserPage.of(listing, [UserOut.of(u) for u in found]))


def test_times_keep_their_microseconds_and_zone() -> None:
    moment = datetime(2026, 11, 23, 14, 50, 47, 559491, tzinfo=UTC)
    item = an_item(now=moment, updated_at=moment + timedelta(seconds=1))
    body = pydantic_core.to_json(ItemOut.of(item)).decode()
    assert '"created_at":"2026-11-23T14:50:47.559491Z"' in body
    assert '"updated_at":"2026-11-23T14:50:48.559491Z"' in body


@given(items, users)
def test_ids_from_the_postgresql_driver_serialise_the_same(item: Item, user: User) -> None:
    # asyncpg gives ids of its own UUID subclass.
    def driver_id(value: uuid.UUID) -> uuid.UUID:
        driver_uuid: uuid.UUID = pgproto.UUID(str(value))
        return driver_uuid

    stored_item = replace(item, id=driver_id(item.id), owner_id=driver_id(item.owner_id))
    stored_user = replace(user, id=driver_id(user.id))
    assert type(stored_item.id) is not uuid.UUID
    assert pydantic_core.to_json(ItemOut.of(stored_item)) == pydantic_core.to_json(ItemOut.of(item))
    assert pydantic_core.to_json(UserOut.of(stored_user)) == pydantic_core.to_json(UserOut.of(user))


def test_a_model_field_the_entity_lacks_fails_at_import() -> None:
    class Renamed(BaseModel):
        id: uuid.UUID
        headline: str

    with pytest.raises(TypeError, match="headline"):
        derive(Renamed, Item, (), {})


def test_a_field_of_a_type_without_a_serialiser_fails_at_import() -> None:
    class Odd(BaseModel):
        title: bytes

    with pytest.raises(TypeError, match="bytes"):
        derive(Odd, Item, (), {})


@given(users)
def test_roles_are_answered_in_one_order(user: User) -> None:
    assert UserOut.of(user)["roles"] == sorted(role.value for role in user.roles)
