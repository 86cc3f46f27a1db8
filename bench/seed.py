"""The accounts and items the scenarios read and write, and the check that Keel and the
baseline answer alike before either is measured."""

from __future__ import annotations

import asyncio
import time

import httpx

from bench.settings import EDITED_ITEMS, ITEM_BODY, ITEM_CHANGE, PASSWORD, BenchError
from bench.stack import Stack


def seed(stack: Stack) -> None:
    """Three accounts, through Keel's API: ``reader`` owns BENCH_ITEMS items (users/me and
    the items page), ``writer`` gets the items the POST scenario creates (so the reader's
    count stays put), ``login`` is the account the login flood logs in to."""
    for name in ("reader", "writer", "login"):
        answer = httpx.post(
            stack.keel_url + "/api/v1/users",
            json={
                "email": stack.email(name),
                "password": PASSWORD,
                "full_name": f"Bench {name}",
            },
            timeout=30,
        )
        if answer.status_code != 201:
            raise BenchError(f"registering {name}: {answer.status_code} {answer.text}")
    token = stack.token("reader")

    async def create_items() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        limit = asyncio.Semaphore(16)
        async with httpx.AsyncClient(base_url=stack.keel_url, headers=headers) as client:

            async def one(n: int) -> None:
                async with limit:
                    body = {"title": f"Item {n:05d}", "description": f"Seeded item number {n}"}
                    answer = await client.post("/api/v1/items", json=body, timeout=30)
                    if answer.status_code != 201:
                        raise BenchError(f"seeding item {n}: {answer.status_code} {answer.text}")

            await asyncio.gather(*(one(n) for n in range(stack.config.items)))

    started = time.monotonic()
    asyncio.run(create_items())
    print(f"seeded {stack.config.items} items in {time.monotonic() - started:.1f} s", flush=True)
    headers = {"Authorization": f"Bearer {stack.token('writer')}"}
    for n in range(EDITED_ITEMS):
        body = {"title": f"Edited {n:03d}", "description": "Changed by wrk"}
        answer = httpx.post(stack.keel_url + "/api/v1/items", json=body, headers=headers)
        if answer.status_code != 201:
            raise BenchError(f"seeding edited item {n}: {answer.status_code} {answer.text}")
        stack.edited.append(answer.json()["id"])


def current_etags(stack: Stack) -> list[tuple[str, str]]:
    """The edited items' ETags as they are now (each run leaves them at new versions)."""
    time.sleep(0.2)  # the last PATCHes of a run wrk ended may still be committing
    headers = {"Authorization": f"Bearer {stack.token('writer')}"}
    found = []
    with httpx.Client(base_url=stack.keel_url, headers=headers, timeout=10) as client:
        for item_id in stack.edited:
            answer = client.get(f"/api/v1/items/{item_id}")
            if answer.status_code != 200:
                raise BenchError(f"reading item {item_id}: {answer.status_code} {answer.text}")
            found.append((item_id, answer.headers["ETag"]))
    return found


def check_same_answers(stack: Stack) -> None:
    """Keel and the baseline must answer the same JSON, or the comparison means nothing."""
    headers = {"Authorization": f"Bearer {stack.token('reader')}"}
    for path in ("/api/v1/users/me", "/api/v1/items?page_size=20"):
        keel = httpx.get(stack.keel_url + path, headers=headers, timeout=10)
        base = httpx.get(stack.baseline_url + path, headers=headers, timeout=10)
        if keel.status_code != 200 or base.status_code != 200 or keel.json() != base.json():
            raise BenchError(
                f"Keel and the baseline answer {path} differently:\n"
                f"keel {keel.status_code}: {keel.text[:600]}\n"
                f"baseline {base.status_code}: {base.text[:600]}"
            )
    headers = {"Authorization": f"Bearer {stack.token('writer')}"}
    created = {}
    for name, url in (("keel", stack.keel_url), ("baseline", stack.baseline_url)):
        answer = httpx.post(
            url + "/api/v1/items",
            content=ITEM_BODY,
            timeout=10,
            headers={**headers, "Content-Type": "application/json"},
        )
        if answer.status_code != 201:
            raise BenchError(f"POST /api/v1/items on {name}: {answer.status_code} {answer.text}")
        created[name] = answer.json()
    masked = [
        {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")}
        for body in created.values()
    ]
    if masked[0] != masked[1] or list(created["keel"]) != list(created["baseline"]):
        raise BenchError(f"POST /api/v1/items answers differ: {created}")
    for name, url in (("keel", stack.keel_url), ("baseline", stack.baseline_url)):
        item_id, etag = current_etags(stack)[0]
        answer = httpx.patch(
            f"{url}/api/v1/items/{item_id}",
            content=ITEM_CHANGE,
            timeout=10,
            headers={**headers, "Content-Type": "application/json", "If-Match": etag},
        )
        version = int(etag.strip('"v'))
        if answer.status_code != 200 or answer.headers.get("ETag") != f'"v{version + 1}"':
            raise BenchError(f"PATCH /api/v1/items/{{id}} on {name}: {answer.status_code}")
        created[name] = answer.json()
        stale = httpx.patch(
            f"{url}/api/v1/items/{item_id}",
            content=ITEM_CHANGE,
            timeout=10,
            headers={**headers, "Content-Type": "application/json", "If-Match": etag},
        )
        if stale.status_code != 412:
            raise BenchError(f"{name} accepted a stale If-Match: {stale.status_code}")
    masked = [{k: v for k, v in body.items() if k != "updated_at"} for body in created.values()]
    if masked[0] != masked[1] or list(created["keel"]) != list(created["baseline"]):
        raise BenchError(f"PATCH /api/v1/items/{{id}} answers differ: {created}")
    # And the baseline refuses what Keel refuses.
    bad = httpx.get(
        stack.baseline_url + "/api/v1/users/me",
        headers={"Authorization": "Bearer x.y.z"},
        timeout=10,
    )
    if bad.status_code != 401:
        raise BenchError(f"the baseline accepted a bad token: {bad.status_code}")
    print(
        "Keel and the baseline answer the same JSON "
        "(users/me, items page, item created, item changed)"
    )
