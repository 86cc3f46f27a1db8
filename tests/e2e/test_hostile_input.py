"""A corpus of hostile requests: each gets its 4xx in the envelope, never a 5xx, and changes
nothing that was stored.

The corpus runs against one app and one database per backend (SQLite and PostgreSQL), set up
once for the module: every case compares the stored data before and after, so a case that
slipped through would show up as a change, not be hidden by a fresh database.

A NUL or a lone surrogate in any string (JSON field, query parameter, login form field) is a
422 naming the field, refused before anything reaches the database; on the login form too,
since it is malformed input rather than a failed login.

Behaviour the corpus documents rather than forbids:
- a key repeated in a JSON object: the parser keeps the last one;
- a query parameter repeated (``?page=1&page=2``): the last one is used;
- a lone surrogate sent percent-encoded in a query string or form (``%ED%A0%80``) is not
  UTF-8: it is decoded as U+FFFD before the application sees it, so it is harmless text.
"""

from __future__ import annotations

import json
import unicodedata
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from entrypoints.http.app import create_app
from tests.e2e.http_support import PASSWORD, World, assert_envelope, make_settings, serving
from tests.support.migrated import migrated
from tests.support.postgres import PostgresServer

ITEM = "{item}"  # replaced by the id of alice's item
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
BIG = 100_000  # characters: larger than every string field allows
LONG_QUERY = 10_000  # characters: URLs longer than 64 KiB are refused by the client
NEW_PASSWORD = "a long and quiet river"


@dataclass(frozen=True)
class Hostile:
    world: World
    item_id: str
    max_body: int
    stored: list[Any]  # what is stored, as last seen: every case must leave it so

    async def unchanged(self) -> bool:
        """Whether the stored data is as last seen; a change is seen once, so that one
        failing case does not fail the cases after it."""
        now = await snapshot(self.world)
        before = list(self.stored)
        self.stored[:] = now
        return now == before

    async def accept_changes(self) -> None:
        self.stored[:] = await snapshot(self.world)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def hostile(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hostile]:
    server: PostgresServer | None = None
    name = f"keel_test_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('hostile'))}/keel.db"
    else:
        server = request.getfixturevalue("postgres_server")
        server.create_database(name)
        url = server.url(name)
    try:
        await migrated(url)
        # Failed logins are part of the corpus: the limiter must not turn them into 429s.
        app = create_app(make_settings(url, login_rate_limit="100000/minute"))
        async with serving(app) as client:
            world = World(client, app)
            for who in ("alice", "bob"):
                await world.add(who)
            await world.add("root", admin=True)
            item = await world.create("alice", "Buy milk", "Two litres")
            stored = await snapshot(world)
            yield Hostile(world, item["id"], app.state.settings.max_request_body_bytes, stored)
    finally:
        if server is not None:
            server.drop_database(name)


async def snapshot(world: World) -> list[Any]:
    """Everything stored that a hostile request could touch, as the API shows it: every
    account and every item, as an administrator lists them."""
    seen: list[Any] = []
    for path in ("/api/v1/users", "/api/v1/items"):
        response = await world.get("root", path, page_size=100)
        assert response.status_code == 200, response.text
        seen.append(response.json())
    return seen


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    status: int
    code: str | None = None  # None for a 2xx
    body: bytes | None = None
    content_type: str | None = JSON
    query: str = ""
    who: str | None = "alice"
    headers: tuple[tuple[bytes, bytes], ...] = ()
    field: str | None = None  # the field a 422 must name
    oversized: bool = False  # the body is made at run time, just over the limit
    chunked: bool = False  # sent without a Content-Length, in chunks

    def param(self) -> Any:
        return pytest.param(self, id=self.id)


def dumps(value: Any) -> bytes:
    """JSON with every non-ASCII character escaped: a lone surrogate becomes ``\\ud800``."""
    return json.dumps(value, ensure_ascii=True).encode()


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    who: str | None
    body: dict[str, Any]  # valid; its first field refuses the empty string
    strings: tuple[str, ...]  # every string field


ROUTES = (
    Route(
        "register",
        "POST",
        "/api/v1/users",
        None,
        {"email": "newcomer@example.com", "password": NEW_PASSWORD, "full_name": "New"},
        ("email", "password", "full_name"),
    ),
    Route(
        "update-me",
        "PATCH",
        "/api/v1/users/me",
        "alice",
        {
            "email": "alice.changed@example.com",
            "full_name": "Alice Changed",
            "password": "a new and longer passphrase",
            "current_password": PASSWORD,
        },
        ("email", "full_name", "password", "current_password"),
    ),
    Route(
        "create-item",
        "POST",
        "/api/v1/items",
        "alice",
        {"title": "New item", "description": "Something"},
        ("title", "description"),
    ),
    Route(
        "update-item",
        "PATCH",
        f"/api/v1/items/{ITEM}",
        "alice",
        {"title": "Changed", "description": "Changed too"},
        ("title", "description"),
    ),
    Route(
        "refresh",
        "POST",
        "/api/v1/auth/refresh",
        None,
        {"refresh_token": "not-a-token"},
        ("refresh_token",),
    ),
    Route(
        "logout",
        "POST",
        "/api/v1/auth/logout",
        None,
        {"refresh_token": "not-a-token"},
        ("refresh_token",),
    ),
    Route(
        "reset-request",
        "POST",
        "/api/v1/auth/password-reset/request",
        None,
        {"email": "nobody@example.com"},
        ("email",),
    ),
    Route(
        "reset-confirm",
        "POST",
        "/api/v1/auth/password-reset/confirm",
        None,
        {"token": "not-a-token", "new_password": NEW_PASSWORD},
        ("token", "new_password"),
    ),
    Route("verify", "POST", "/api/v1/auth/verify", None, {"token": "not-a-token"}, ("token",)),
)

HOSTILE_STRINGS = {
    "nul": "a\x00b",
    "only-nul": "\x00",
    "lone-surrogate": "a\ud800b",
    "low-surrogate": "\udc00",
    "100kb": "x" * BIG,
}
DEEP = 10_000
# More digits than Python reads into an integer (sys.get_int_max_str_digits(), 4300).
PAST_THE_DIGIT_LIMIT = "1" + "0" * 5000


def _body_cases(route: Route) -> Iterator[Case]:
    def case(name: str, body: bytes | None, field: str | None = None, **kw: Any) -> Case:
        kw.setdefault("status", 422)
        kw.setdefault("code", "VALIDATION_ERROR")
        return Case(
            f"{route.name}-{name}",
            route.method,
            route.path,
            body=body,
            who=route.who,
            field=field,
            **kw,
        )

    valid = dumps(route.body)
    first = next(iter(route.body))
    yield case("truncated-json", valid[:-1], "body")
    yield case("not-json", b"{title: x, 'a': }", "body")
    yield case("trailing-garbage", valid + b"}", "body")
    yield case("invalid-utf8", b'{"' + first.encode() + b'": "\xff\xfe"}', "body")
    yield case("empty-body", b"", "body")
    yield case("whitespace-body", b"   ", "body")
    yield case("array", b"[]", "body")
    yield case("array-of-object", b"[" + valid + b"]", "body")
    yield case("string", b'"hello"', "body")
    yield case("number", b"42", "body")
    yield case("null", b"null", "body")
    yield case("true", b"true", "body")
    yield case("nan", b"NaN", "body")
    nested = b"[" * DEEP + b"]" * DEEP
    yield case("deep-array-in-field", b'{"' + first.encode() + b'": ' + nested + b"}", "body")
    yield case("deep-array-body", nested, "body")
    yield case("deep-object-body", b'{"a":' * DEEP + b"1" + b"}" * DEEP, "body")
    digits = PAST_THE_DIGIT_LIMIT.encode()
    yield case(
        "integer-past-the-digit-limit", b'{"' + first.encode() + b'": ' + digits + b"}", "body"
    )
    yield case(
        "negative-integer-past-the-digit-limit",
        valid[:-1] + b', "page_size": -' + digits + b"}",
        "body",
    )
    yield case("text-plain", valid, "body", content_type="text/plain")
    yield case("form-urlencoded", b"a=b", "body", content_type=FORM)
    yield case("json-as-form", valid, "body", content_type=FORM)
    yield case("no-content-type", valid, "body", content_type=None)
    yield case("multipart-type", valid, "body", content_type="multipart/form-data; boundary=x")
    yield case("unknown-field", dumps({**route.body, "is_superuser": True}), "is_superuser")
    duplicate = valid[:-1] + b', "' + first.encode() + b'": ""}'
    yield case("duplicate-key-last-empty", duplicate, first)
    yield case("oversized", None, status=413, code="PAYLOAD_TOO_LARGE", oversized=True)
    yield case(
        "oversized-chunked",
        None,
        status=413,
        code="PAYLOAD_TOO_LARGE",
        oversized=True,
        chunked=True,
    )
    for field in route.strings:
        for name, value in HOSTILE_STRINGS.items():
            yield case(f"{field}-{name}", dumps({**route.body, field: value}), field)
        yield case(f"{field}-number", dumps({**route.body, field: 12}), field)
        yield case(f"{field}-object", dumps({**route.body, field: {"$ne": ""}}), field)


def _login_cases() -> Iterator[Case]:
    path = "/api/v1/auth/login"

    def case(name: str, body: bytes, status: int, code: str, **kw: Any) -> Case:
        kw.setdefault("content_type", FORM)
        return Case(f"login-{name}", "POST", path, status, code, body=body, who=None, **kw)

    def form(username: str, password: str) -> bytes:
        return urlencode({"username": username, "password": password}).encode()

    nul = "VALIDATION_ERROR"
    yield case("username-nul", form("alice\x00@example.com", PASSWORD), 422, nul, field="username")
    yield case("password-nul", form("alice@example.com", "x\x00" * 8), 422, nul, field="password")
    yield case("username-100kb", form("x" * BIG, PASSWORD), 422, nul, field="username")
    yield case("password-100kb", form("alice@example.com", "x" * BIG), 422, nul, field="password")
    # Not UTF-8: decoded as U+FFFD, so a wrong email like any other.
    surrogate = b"username=alice%ED%A0%80%40example.com&password=correct+horse+battery"
    yield case("username-surrogate-bytes", surrogate, 401, "UNAUTHORIZED")
    yield case("bad-percent-encoding", b"username=%zz&password=%", 401, "UNAUTHORIZED")
    yield case("missing-fields", b"", 422, nul, field="username")
    # Another media type than a form: the answer says the route takes form fields.
    json_body = dumps({"username": "alice@example.com", "password": PASSWORD})
    yield case("json-body", json_body, 422, nul, field="body", content_type=JSON)
    yield case(
        "text-plain",
        b"username=a&password=b",
        422,
        nul,
        field="body",
        content_type="text/plain",
    )
    yield case("oversized", b"", 413, "PAYLOAD_TOO_LARGE", oversized=True)


def _query_cases() -> Iterator[Case]:
    def case(name: str, path: str, query: str, status: int = 422, **kw: Any) -> Case:
        code = "VALIDATION_ERROR" if status == 422 else None
        return Case(f"query-{name}", "GET", path, status, code, query=query, **kw)

    items, users = "/api/v1/items", "/api/v1/users"
    yield case("q-nul", items, "q=a%00b", field="q")
    yield case("q-only-nul", items, "q=%00", field="q")
    yield case("q-10kb", items, "q=" + "x" * LONG_QUERY, field="q")
    yield case("q-surrogate-bytes", items, "q=a%ED%A0%80b", 200)
    yield case("q-like-wildcards", items, "q=%25_%5C", 200)
    yield case("q-repeated", items, "q=a&q=b", 200)
    yield case("email-nul", users, "email=root%00%40example.com", field="email", who="root")
    yield case("email-10kb", users, "email=" + "x" * LONG_QUERY, field="email", who="root")
    yield case("email-surrogate-bytes", users, "email=a%ED%A0%80%40example.com", 200, who="root")
    yield case("owner-not-uuid", items, "owner_id=nope", field="owner_id", who="root")
    yield case("owner-nul", items, "owner_id=%00", field="owner_id", who="root")
    yield case("role-unknown", users, "role=superuser", field="role", who="root")
    yield case("is-active-nonsense", users, "is_active=perhaps", field="is_active", who="root")
    for name in ("page", "page_size"):
        for label, value in (
            ("negative", "-1"),
            ("zero", "0"),
            ("fraction", "1.5"),
            ("huge", "1" + "0" * 30),
            ("past-the-digit-limit", PAST_THE_DIGIT_LIMIT),
            ("text", "abc"),
            ("empty", ""),
            ("nul", "%00"),
            ("exponent", "1e3"),
        ):
            yield case(f"{name}-{label}", items, f"{name}={value}", field=name)
    yield case("page_size-over-max", items, "page_size=101", field="page_size")
    yield case("page-repeated", items, "page=1&page=2", 200)
    yield case("page_size-repeated", items, "page_size=5&page_size=500", field="page_size")


def _path_cases() -> Iterator[Case]:
    ids = {
        "word": "not-a-uuid",
        "number": "123",
        "nul": "%00",
        "nul-in-uuid": "00000000-0000-0000-0000-00000000000%00",
        "sql": "1%27%20OR%20%271%27=%271",
        "10kb": "a" * 10_000,
    }
    update = dumps({"title": "Changed"})
    for name, raw in ids.items():
        for method, body in (("GET", None), ("PATCH", update), ("DELETE", None)):
            for kind, field in (("items", "item_id"), ("users", "user_id")):
                yield Case(
                    f"path-{method.lower()}-{kind}-{name}",
                    method,
                    f"/api/v1/{kind}/{raw}",
                    422,
                    "VALIDATION_ERROR",
                    body=body,
                    field=field,
                )


def _authorization_cases() -> Iterator[Case]:
    values: dict[str, bytes] = {
        "empty": b"",
        "bearer-alone": b"Bearer",
        "bearer-space": b"Bearer ",
        "basic": b"Basic xyz",
        "bearer-10kb": b"Bearer " + b"a" * 10_240,
        "non-ascii": b"Bearer \xff\xfe\xc3\xa9",
        "not-a-jwt": b"Bearer a.b.c",
        "nul-in-token": b"Bearer abc\x00def",
        "two-tokens": b"Bearer abc def",
    }
    for name, value in values.items():
        header = ((b"authorization", value),)
        yield Case(
            f"auth-{name}-read",
            "GET",
            "/api/v1/users/me",
            401,
            "UNAUTHORIZED",
            who=None,
            headers=header,
        )
        yield Case(
            f"auth-{name}-create",
            "POST",
            "/api/v1/items",
            401,
            "UNAUTHORIZED",
            body=dumps({"title": "Sneaky"}),
            who=None,
            headers=header,
        )
    # A request id that is not sane is replaced, never echoed: the envelope names the new one.
    request_ids: dict[str, bytes] = {
        "nul": b"abc\x00def",
        "non-ascii": b"\xff\xfe",
        "10kb": b"a" * 10_240,
        "crlf-like": b"abc%0d%0aSet-Cookie:x",
    }
    for name, value in request_ids.items():
        yield Case(
            f"request-id-{name}",
            "GET",
            "/api/v1/users/me",
            401,
            "UNAUTHORIZED",
            who=None,
            headers=((b"x-request-id", value),),
        )


CORPUS = [
    *(case for route in ROUTES for case in _body_cases(route)),
    *_login_cases(),
    *_query_cases(),
    *_path_cases(),
    *_authorization_cases(),
]


async def _chunks(body: bytes, size: int = 65_536) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def send(hostile: Hostile, case: Case) -> httpx.Response:
    world = hostile.world
    headers: list[tuple[bytes, bytes]] = []
    if case.who is not None:
        headers.extend((k.encode(), v.encode()) for k, v in world.headers[case.who].items())
    headers.extend(case.headers)
    body = case.body
    if case.oversized:
        body = b"x" * (hostile.max_body + 1)
    if case.content_type is not None and body is not None:
        headers.append((b"content-type", case.content_type.encode()))
    url = case.path.replace(ITEM, hostile.item_id)
    if case.query:
        url = f"{url}?{case.query}"
    content: bytes | AsyncIterator[bytes] | None = body
    if case.chunked and body is not None:
        content = _chunks(body)
    request = world.client.build_request(case.method, url, content=content, headers=headers)
    if case.content_type is None:
        request.headers.pop("content-type", None)
    return await world.client.send(request)


@pytest.mark.parametrize("case", [case.param() for case in CORPUS])
async def test_hostile_request(hostile: Hostile, case: Case) -> None:
    response = await send(hostile, case)
    unchanged = await hostile.unchanged()
    assert response.status_code < 500, response.text
    if case.code is None:
        assert response.status_code == case.status, response.text
    else:
        error = assert_envelope(response, case.status, case.code)
        if case.field is not None:
            fields = [entry["field"] for entry in error["details"]["errors"]]
            assert case.field in fields, fields
        if case.status == 401:
            assert response.headers["www-authenticate"] == "Bearer"
        for leak in ("Traceback", "sqlalchemy", "asyncpg", "psycopg", "SELECT"):
            assert leak not in response.text
    assert unchanged, "the stored data changed"


async def test_a_repeated_json_key_keeps_the_last(hostile: Hostile) -> None:
    world = hostile.world
    headers = {**world.headers["bob"], "Content-Type": JSON}
    body = b'{"title": "first", "title": "second"}'
    response = await world.client.post("/api/v1/items", content=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "second"
    deleted = await world.client.delete(
        f"/api/v1/items/{response.json()['id']}", headers=world.headers["bob"]
    )
    assert deleted.status_code == 204
    await hostile.accept_changes()


async def test_an_email_is_one_account_whatever_its_case_or_unicode_form(
    hostile: Hostile,
) -> None:
    client = hostile.world.client
    decomposed = unicodedata.normalize("NFD", "Zoë.Ünal@Exämple.COM")
    composed = unicodedata.normalize("NFC", "zoë.ünal@exämple.com")
    assert decomposed != composed
    response = await client.post("/api/v1/users", json={"email": decomposed, "password": PASSWORD})
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "zoë.ünal@xn--exmple-cua.com"
    for spelling in (
        composed,
        composed.upper(),
        decomposed,
        f"  {decomposed.swapcase()} ",
        "zoë.ünal@xn--exmple-cua.com",
        "ＺＯË.ÜNAL@EXÄMPLE.COM",
    ):
        login = await client.post(
            "/api/v1/auth/login", data={"username": spelling, "password": PASSWORD}
        )
        assert login.status_code == 200, (spelling, login.text)
    for taken in (composed.upper(), "zoë.ünal@XN--EXMPLE-CUA.com"):
        again = await client.post("/api/v1/users", json={"email": taken, "password": PASSWORD})
        assert_envelope(again, 409, "CONFLICT")
    await hostile.accept_changes()


@pytest.mark.parametrize(
    ("registered", "spellings"),
    [
        (
            "\uff41da@Example.com",
            ("ada@example.com", "ADA@EXAMPLE.COM", "\uff41\uff24\uff41@example.com"),
        ),
        ("ada@bücher.example", ("ada@xn--bcher-kva.example", "Ada@BÜCHER.example")),
        ("ada@xn--mller-kva.example", ("ada@müller.example", "ADA@MÜLLER.EXAMPLE")),
    ],
    ids=["fullwidth", "unicode-domain", "punycode-domain"],
)
async def test_fullwidth_and_punycode_spellings_are_one_account(
    hostile: Hostile, registered: str, spellings: tuple[str, ...]
) -> None:
    world = hostile.world
    created = await world.client.post(
        "/api/v1/users", json={"email": registered, "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    stored = created.json()["email"]
    assert stored.isascii()
    for spelling in spellings:
        login = await world.client.post(
            "/api/v1/auth/login", data={"username": spelling, "password": PASSWORD}
        )
        assert login.status_code == 200, (spelling, login.text)
        again = await world.client.post(
            "/api/v1/users", json={"email": spelling, "password": PASSWORD}
        )
        assert_envelope(again, 409, "CONFLICT")
    found = await world.get("root", "/api/v1/users", email=spellings[-1])
    assert [user["email"] for user in found.json()["items"]] == [stored]
    await hostile.accept_changes()


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", f"/api/v1/items/{ITEM}", {"GET", "PATCH", "DELETE"}),
        ("PUT", "/api/v1/users/me", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/api/v1/items", {"GET", "POST"}),
        ("GET", "/api/v1/auth/login", {"POST"}),
    ],
    ids=["item", "me", "items", "login"],
)
async def test_405_names_every_method_the_path_serves(
    hostile: Hostile, method: str, path: str, allowed: set[str]
) -> None:
    world = hostile.world
    response = await world.client.request(
        method, path.replace(ITEM, hostile.item_id), headers=world.headers["alice"]
    )
    assert_envelope(response, 405, "HTTP_ERROR")
    named = {part.strip() for part in response.headers["allow"].split(",")}
    assert allowed <= named
    assert method not in named
