"""One behaviour for every OneTimeTokenStore: memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import UnitOfWork
from domain.one_time_token import OneTimeToken, TokenPurpose
from domain.session import token_digest
from domain.user import User
from tests.integration.conftest import migrated
from tests.support.builders import a_token, a_user

UowFactory = Callable[[], UnitOfWork]
NOW = datetime(2026, 4, 1, 8, 0, 0, 250_000, tzinfo=UTC)
RESET, VERIFY = TokenPurpose.PASSWORD_RESET, TokenPurpose.EMAIL_VERIFICATION


async def user_with_tokens(
    uow_factory: UowFactory, *issued: tuple[TokenPurpose, timedelta]
) -> tuple[User, list[OneTimeToken]]:
    """A user, and a token for each (purpose, how long before NOW it was issued)."""
    user = a_user(f"{uuid.uuid4().hex[:8]}@example.com", now=NOW)
    tokens = [
        a_token(user, purpose=purpose, now=NOW - ago, lifetime=timedelta(minutes=30))
        for purpose, ago in issued
    ]
    async with uow_factory() as uow:
        await uow.users.add(user)
        for token in tokens:
            await uow.one_time_tokens.add(token)
        await uow.commit()
    return user, tokens


async def test_a_token_is_found_by_its_digest_only(uow_factory: UowFactory) -> None:
    _, [token] = await user_with_tokens(uow_factory, (RESET, timedelta(0)))
    async with uow_factory() as uow:
        found = await uow.one_time_tokens.get_by_token_hash(token.token_hash)
        missing = await uow.one_time_tokens.get_by_token_hash(token_digest("other"))
    assert found == token
    assert missing is None


async def test_a_token_is_used_once_and_not_after_it_expires(uow_factory: UowFactory) -> None:
    _, [fresh, old] = await user_with_tokens(
        uow_factory, (RESET, timedelta(0)), (RESET, timedelta(minutes=31))
    )
    async with uow_factory() as uow:
        assert await uow.one_time_tokens.use(fresh.id, NOW)
        assert not await uow.one_time_tokens.use(fresh.id, NOW)
        assert not await uow.one_time_tokens.use(old.id, NOW)  # expired a minute ago
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.one_time_tokens.get_by_token_hash(fresh.token_hash)
    assert stored is not None
    assert stored.used_at == NOW


async def test_use_all_spends_one_purpose_of_one_user(uow_factory: UowFactory) -> None:
    user, [a, b, verify] = await user_with_tokens(
        uow_factory, (RESET, timedelta(0)), (RESET, timedelta(0)), (VERIFY, timedelta(0))
    )
    _, [other] = await user_with_tokens(uow_factory, (RESET, timedelta(0)))
    async with uow_factory() as uow:
        await uow.one_time_tokens.use_all(user.id, RESET, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        for token, used in ((a, True), (b, True), (verify, False), (other, False)):
            stored = await uow.one_time_tokens.get_by_token_hash(token.token_hash)
            assert stored is not None
            assert (stored.used_at is not None) is used


async def test_a_users_tokens_go_with_the_user(uow_factory: UowFactory) -> None:
    user, [token] = await user_with_tokens(uow_factory, (VERIFY, timedelta(0)))
    async with uow_factory() as uow:
        await uow.users.delete(user.id)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.one_time_tokens.get_by_token_hash(token.token_hash)
    # SQL cascades; the memory store keeps the row, but its user is gone: either way the
    # token can no longer reach an account.
    if found is not None:
        async with uow_factory() as uow:
            assert await uow.users.get(found.user_id) is None


@pytest.mark.postgres
async def test_concurrent_uses_of_one_token_let_exactly_one_win(postgres_url: str) -> None:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=20)
    try:
        factory: UowFactory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
        _, [token] = await user_with_tokens(factory, (RESET, timedelta(0)))

        async def use() -> bool:
            async with factory() as uow:
                won = await uow.one_time_tokens.use(token.id, NOW)
                await uow.commit()
                return won

        results = await asyncio.gather(*(use() for _ in range(20)))
    finally:
        await engine.dispose()
    assert results.count(True) == 1
