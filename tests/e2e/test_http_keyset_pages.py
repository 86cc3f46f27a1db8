"""Pages by cursor over HTTP, on SQLite and PostgreSQL: every row once, newest first; a
cursor that is not this caller's, for these filters, from this service, is a 422."""

from __future__ import annotations

import asyncio
import base64
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from domain.keyset import Cursor
from tests.e2e.http_support import World, assert_envelope

ITEMS = "/api/v1/items"


async def walk(world: World, who: str, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page from the first by cursor; checks each page's fields on the way."""
    answer = await world.get(who, path, **params)
    assert answer.status_code == 200, answer.text
    page = answer.json()
    pages = [page]
    while page["next_cursor"] is not None:
        assert page["has_next"]
        answer = await world.get(who, path, **params, cursor=page["next_cursor"])
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert page["page"] == pages[-1]["page"] + 1
        assert (page["total"], page["total_is_exact"]) == (None, False)  # not counted
        pages.append(page)
    assert not page["has_next"]
    return pages


def refused(answer: httpx.Response) -> None:
    error = assert_envelope(answer, 422, "VALIDATION_ERROR")
    assert [entry["field"] for entry in error["details"]["errors"]] == ["cursor"]


async def test_walking_by_cursor_gives_every_item_once_newest_first(world: World) -> None:
    made = [(await world.create("alice", f"note {n}"))["id"] for n in range(8)]
    await world.create("bob", "not alice's")
    pages = await walk(world, "alice", ITEMS, page_size=3)
    seen = [item["id"] for page in pages for item in page["items"]]
    assert seen == list(reversed(made))
    assert [len(p["items"]) for p in pages] == [3, 3, 2]
    assert (pages[0]["total"], pages[0]["total_is_exact"]) == (8, True)
    # The same walk by number, and a count on a cursor page when asked for.
    by_number = await world.get("alice", ITEMS, page_size=3, page=2)
    assert [i["id"] for i in by_number.json()["items"]] == seen[3:6]
    counted = await world.get(
        "alice", ITEMS, page_size=3, cursor=pages[0]["next_cursor"], total=True
    )
    assert (counted.json()["total"], counted.json()["total_is_exact"]) == (8, True)
    assert counted.json()["items"] == pages[1]["items"]
    # Filtered: the cursor carries on within the filter.
    found = await walk(world, "alice", ITEMS, page_size=1, q="NOTE 1")
    assert [i["title"] for p in found for i in p["items"]] == ["note 1"]
    everyone = await walk(world, "root", ITEMS, page_size=4)
    assert len({i["id"] for p in everyone for i in p["items"]}) == 9


async def test_walking_users_by_cursor(world: World) -> None:
    pages = await walk(world, "root", "/api/v1/users", page_size=1)
    emails = [u["email"] for p in pages for u in p["items"]]
    assert emails == ["root@example.com", "bob@example.com", "alice@example.com"]


async def test_a_cursor_works_only_for_its_caller_and_filters(world: World) -> None:
    for n in range(3):
        await world.create("alice", f"milk {n}")
        await world.create("bob", f"milk {n}")
    first = (await world.get("alice", ITEMS, page_size=1)).json()
    cursor = first["next_cursor"]
    assert (await world.get("alice", ITEMS, page_size=1, cursor=cursor)).status_code == 200
    # Bob, or an administrator, holding Alice's cursor reads nothing of hers: refused.
    refused(await world.get("bob", ITEMS, page_size=1, cursor=cursor))
    refused(await world.get("root", ITEMS, page_size=1, cursor=cursor))
    refused(await world.get("root", ITEMS, page_size=1, cursor=cursor, owner_id=world.ids["alice"]))
    # Other filters than the ones it was made for.
    refused(await world.get("alice", ITEMS, page_size=1, cursor=cursor, q="milk"))
    admin = (await world.get("root", ITEMS, page_size=1, owner_id=world.ids["bob"])).json()
    refused(await world.get("root", ITEMS, page_size=1, cursor=admin["next_cursor"]))
    refused(await world.get("root", "/api/v1/users", page_size=1, cursor=admin["next_cursor"]))
    # A page size may change from one page to the next: the key is what counts.
    assert (await world.get("alice", ITEMS, page_size=5, cursor=cursor)).status_code == 200
    # Page and cursor together.
    refused(await world.get("alice", ITEMS, page_size=1, cursor=cursor, page=1))
    refused(await world.get("alice", ITEMS, page_size=1, cursor=cursor, page=2))


async def test_forged_and_damaged_cursors_are_422_never_500(world: World) -> None:
    for n in range(3):
        await world.create("alice", f"item {n}")
    cursor = (await world.get("alice", ITEMS, page_size=1)).json()["next_cursor"]
    body, _, mac = cursor.partition(".")
    unsigned = Cursor(at=datetime.now(UTC), id=uuid.uuid4(), page=2).encode()
    rng = random.Random(22)
    forged = [
        cursor[:-1],
        cursor[:10],
        body,
        f"{body}.",
        f".{mac}",
        unsigned,
        f"{unsigned}.{mac}",
        cursor.swapcase(),
        cursor + "x",
        "x" * 223,
        "%00",
        "\u202e" + cursor,
        *(
            base64.urlsafe_b64encode(rng.randbytes(rng.randrange(0, 160))).decode()
            for _ in range(30)
        ),
        *(f"{body}.{base64.urlsafe_b64encode(rng.randbytes(16)).decode()}" for _ in range(10)),
    ]
    for text in forged:
        refused(await world.get("alice", ITEMS, cursor=text))
        refused(await world.get("root", "/api/v1/users", cursor=text))
    too_long = await world.get("alice", ITEMS, cursor="x" * 224)
    assert_envelope(too_long, 422, "VALIDATION_ERROR")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_walk_while_items_come_and_go_skips_and_repeats_nothing(world: World) -> None:
    """Rows present throughout are seen exactly once, in order, whatever is inserted and
    deleted while the pages are read (newer rows land before the cursor, deleted ones
    simply are not there): repeated, so that an unlucky interleaving shows."""
    for trial in range(5):
        # Interleaved in time, so that the deletions land among the rows being paged.
        steady, doomed = [], []
        for n in range(30):
            steady.append((await world.create("alice", f"t{trial} {n}"))["id"])
            doomed.append((await world.create("alice", f"d{trial} {n}"))["id"])
        stop = asyncio.Event()

        async def churn(doomed: list[str], stop: asyncio.Event = stop) -> None:
            for item_id in doomed:
                if stop.is_set():
                    return
                await world.create("alice", "newcomer")
                deleted = await world.client.delete(
                    f"{ITEMS}/{item_id}", headers=world.headers["alice"]
                )
                assert deleted.status_code == 204, deleted.text

        async def read(stop: asyncio.Event = stop) -> list[str]:
            try:
                pages = await walk(world, "alice", ITEMS, page_size=4)
                return [i["id"] for p in pages for i in p["items"]]
            finally:
                stop.set()

        _, _, seen = await asyncio.gather(churn(doomed[::2]), churn(doomed[1::2]), read())
        assert len(seen) == len(set(seen)), f"trial {trial}: a row came twice"
        kept = [item_id for item_id in seen if item_id in set(steady)]
        assert kept == list(reversed(steady)), f"trial {trial}: a steady row was skipped"
        # Clear the trial's rows so the next starts from a known set.
        for page in await walk(world, "alice", ITEMS, page_size=100):
            for item in page["items"]:
                await world.client.delete(f"{ITEMS}/{item['id']}", headers=world.headers["alice"])


async def test_a_title_search_is_counted_only_when_asked_or_on_its_last_page(
    world: World,
) -> None:
    for n in range(5):
        await world.create("alice", f"milk {n}")
    await world.create("alice", "bread")
    first = (await world.get("alice", ITEMS, q="milk", page_size=2)).json()
    assert (first["total"], first["total_is_exact"], first["has_next"]) == (None, False, True)
    counted = (await world.get("alice", ITEMS, q="milk", page_size=2, total=True)).json()
    assert (counted["total"], counted["total_is_exact"]) == (5, True)
    last = (await world.get("alice", ITEMS, q="milk", page_size=2, page=3)).json()
    assert (last["total"], last["total_is_exact"], last["has_next"]) == (5, True, False)
    plain = (await world.get("alice", ITEMS, page_size=2, total=False)).json()
    assert (plain["total"], plain["has_next"]) == (None, True)
