"""The benchmark's baseline: the least code that does the work Keel does on the measured routes.

Plain Starlette and asyncpg, no middleware, served by uvicorn with one worker (the benchmark
starts it as ``uvicorn baseline:app --app-dir bench``). It is not part of Keel and imports
nothing from it; it reads the tables Keel's migrations create.

For each request it does what Keel must do, and nothing Keel may choose to do on top:

* the bearer access token is verified with PyJWT exactly as ``adapters/jwt/token_service.py``
  does: the length bound, no ``crit`` header, the pinned algorithm, ``aud`` and ``iss``, every
  registered claim required, ``type == "access"``, ``exp``/``nbf``/``iat`` checked against the
  clock (30 s of skew for ``iat``), ``sub`` a UUID;
* the user is read by primary key and must exist, be active, and the token must be issued no
  earlier than the user's ``sessions_valid_after`` (Keel's ``GetCurrentUser``);
* ``GET /api/v1/users/me`` answers the same JSON as Keel;
* ``GET /api/v1/items`` reads one page of the caller's items newest first
  (``ORDER BY created_at DESC, id DESC LIMIT/OFFSET``) and their count, and answers the same page,
  with the same signed ``next_cursor`` (an HMAC, as ``domain/keyset.py`` makes it);
* ``POST /api/v1/items`` checks the title and description by the same rules, inserts the row
  and answers 201 with the item;
* ``PATCH /api/v1/items/{id}`` checks the fields sent by the same rules and ``If-Match`` (one
  ``"v<version>"`` tag or ``*``), changes them in one conditional ``UPDATE`` (the owner's or,
  for an administrator, anyone's item, at that version), and answers the item with its new
  ``ETag``; a missing row is a 404 or a 412, told apart by a second read only then.

Settings come from the environment: ``DATABASE_URL`` (Keel's asyncpg URL is accepted),
``JWT_SECRET``, and optionally ``JWT_ALGORITHM``, ``JWT_ISSUER``, ``JWT_AUDIENCE``,
``DATABASE_POOL_SIZE``, ``DATABASE_MAX_OVERFLOW`` (the pool is sized like Keel's).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

REQUIRED_CLAIMS = ["exp", "nbf", "iat", "iss", "aud", "sub", "jti", "type"]
MAX_CLOCK_SKEW_SECONDS = 30.0
MAX_TOKEN_LENGTH = 8192
MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100
MAX_TITLE = 200
MAX_DESCRIPTION = 10_000

SECRET = os.environ["JWT_SECRET"]
CURSOR_KEY = hmac.new(SECRET.encode(), b"keel keyset cursor v1", hashlib.sha256).digest()
ALGORITHM = os.environ.get("JWT_ALGORITHM", "HS256")
ISSUER = os.environ.get("JWT_ISSUER", "keel")
AUDIENCE = os.environ.get("JWT_AUDIENCE", "keel-api")
DSN = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
POOL_MIN = int(os.environ.get("DATABASE_POOL_SIZE", "10"))
POOL_MAX = POOL_MIN + int(os.environ.get("DATABASE_MAX_OVERFLOW", "10"))

USER_BY_ID = (
    "SELECT id, email, full_name, roles, is_active, is_superuser, is_verified, created_at,"
    " updated_at, sessions_valid_after FROM users WHERE id = $1"
)
OWN_ITEMS_PAGE = (
    "SELECT id, owner_id, title, description, created_at, updated_at FROM items"
    " WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
)
OWN_ITEMS_COUNT = "SELECT count(*) FROM items WHERE owner_id = $1"
ALL_ITEMS_PAGE = (
    "SELECT id, owner_id, title, description, created_at, updated_at FROM items"
    " ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
)
ALL_ITEMS_COUNT = "SELECT count(*) FROM items"
INSERT_ITEM = (
    "INSERT INTO items (id, owner_id, title, description, created_at, updated_at, version)"
    " VALUES ($1, $2, $3, $4, $5, $5, 1)"
)

UPDATE_ITEM = (
    "UPDATE items SET title = CASE WHEN $3 THEN $4 ELSE title END,"
    " description = CASE WHEN $5 THEN $6 ELSE description END,"
    " updated_at = $7, version = version + 1"
    " WHERE id = $1 AND (owner_id = $2 OR $8) AND ($9::integer IS NULL OR version = $9)"
    " RETURNING id, owner_id, title, description, created_at, updated_at, version"
)
ITEM_OWNER = "SELECT owner_id FROM items WHERE id = $1"

pool: asyncpg.Pool | None = None


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message


def unauthorized() -> Refused:
    return Refused(401, "UNAUTHORIZED", "Not authenticated")


def invalid(message: str) -> Refused:
    return Refused(422, "VALIDATION_ERROR", message)


def timestamp(value: datetime) -> str:
    """As pydantic writes an aware UTC datetime: ISO 8601 with ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def access_claims(request: Request) -> tuple[uuid.UUID, float]:
    """(user id, issued at) from a valid bearer access token, as Keel checks it."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise unauthorized()
    try:
        if "crit" in jwt.get_unverified_header(token):
            raise unauthorized()
        claims = jwt.decode(
            token,
            SECRET,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={
                "require": REQUIRED_CLAIMS,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        raise unauthorized() from None
    if claims.get("type") != "access":
        raise unauthorized()
    times = (claims["iat"], claims["nbf"], claims["exp"])
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in times):
        raise unauthorized()
    iat, nbf, exp = (float(t) for t in times)
    if not all(math.isfinite(t) for t in (iat, nbf, exp)):
        raise unauthorized()
    now = time.time()
    if now >= exp or now < nbf or iat > now + MAX_CLOCK_SKEW_SECONDS:
        raise unauthorized()
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        raise unauthorized()
    try:
        return uuid.UUID(claims["sub"]), iat
    except ValueError:
        raise unauthorized() from None


async def current_user(request: Request, connection: asyncpg.Connection) -> asyncpg.Record:
    user_id, issued_at = access_claims(request)
    user = await connection.fetchrow(USER_BY_ID, user_id)
    if user is None or not user["is_active"]:
        raise unauthorized()
    if issued_at < user["sessions_valid_after"].timestamp():
        raise unauthorized()
    return user


def user_json(user: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(user["id"]),
        "email": user["email"],
        "full_name": user["full_name"],
        "roles": sorted(user["roles"].split()),
        "is_active": user["is_active"],
        "is_superuser": user["is_superuser"],
        "is_verified": user["is_verified"],
        "created_at": timestamp(user["created_at"]),
        "updated_at": timestamp(user["updated_at"]),
    }


def item_json(
    item_id: Any, owner_id: Any, title: str, description: str | None, created: Any, updated: Any
) -> dict[str, Any]:
    return {
        "id": str(item_id),
        "owner_id": str(owner_id),
        "title": title,
        "description": description,
        "created_at": timestamp(created),
        "updated_at": timestamp(updated),
    }


def bounded_int(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{name}: Input should be a valid integer") from None
    if not 1 <= value <= high:
        raise invalid(f"{name}: out of range")
    return value


def checked_text(value: Any, name: str, max_length: int, *, multiline: bool) -> str:
    """Keel's text rules: no NUL, other controls (except newlines and tabs in multi-line
    text), DEL or lone surrogates; length bounds."""
    if not isinstance(value, str) or len(value) > max_length:
        raise invalid(f"{name}: invalid")
    for ch in value:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF or code == 0x7F:
            raise invalid(f"{name}: Contains characters that are not allowed")
        if code < 0x20 and not (multiline and ch in "\n\r\t"):
            raise invalid(f"{name}: Contains characters that are not allowed")
    return value


async def me(request: Request) -> JSONResponse:
    assert pool is not None
    async with pool.acquire() as connection:
        user = await current_user(request, connection)
    return JSONResponse(user_json(user))


async def list_items(request: Request) -> JSONResponse:
    assert pool is not None
    page = bounded_int(request, "page", 1, MAX_PAGE)
    page_size = bounded_int(request, "page_size", 20, MAX_PAGE_SIZE)
    offset = (page - 1) * page_size
    async with pool.acquire() as connection:
        user = await current_user(request, connection)
        if "admin" in user["roles"].split():  # an administrator sees everyone's items
            rows = await connection.fetch(ALL_ITEMS_PAGE, page_size, offset)
            total = await connection.fetchval(ALL_ITEMS_COUNT)
        else:
            rows = await connection.fetch(OWN_ITEMS_PAGE, user["id"], page_size, offset)
            total = await connection.fetchval(OWN_ITEMS_COUNT, user["id"])
    return JSONResponse(
        {
            "items": [item_json(*row) for row in rows],
            "total": total,
            "total_is_exact": True,  # Keel counts up to 10,000; the bench's reader has fewer
            "page": page,
            "page_size": page_size,
            "has_next": page * page_size < total,
            "next_cursor": next_cursor(user, rows, page, page_size, total),
        }
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def next_cursor(user: Any, rows: list[Any], page: int, page_size: int, total: int) -> str | None:
    if not rows or page * page_size >= total:
        return None
    last_id, last_at = rows[-1][0], rows[-1][4]
    body = _b64(f"{last_at.astimezone(UTC).isoformat()}|{last_id}|{page + 1}".encode())
    owner = None if "admin" in user["roles"].split() else str(user["id"])
    scope = json.dumps(["items", str(user["id"]), owner, None])
    mac = hmac.new(CURSOR_KEY, f"{body}\n{scope}".encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac[:16])}"


async def create_item(request: Request) -> JSONResponse:
    assert pool is not None
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise invalid("body: invalid JSON") from None
    if not isinstance(body, dict) or not set(body) <= {"title", "description"}:
        raise invalid("body: expected {title, description}")
    raw_title = body.get("title")
    if not isinstance(raw_title, str) or not 1 <= len(raw_title) <= MAX_TITLE:
        raise invalid("title: 1 to 200 characters")
    title = checked_text(raw_title.strip(), "title", MAX_TITLE, multiline=False)
    if not title:
        raise invalid("title: 1 to 200 characters")
    description = body.get("description")
    if description is not None:
        description = checked_text(description, "description", MAX_DESCRIPTION, multiline=True)
    async with pool.acquire() as connection:
        user = await current_user(request, connection)
        item_id, now = uuid.uuid4(), datetime.now(UTC)
        await connection.execute(INSERT_ITEM, item_id, user["id"], title, description, now)
    return JSONResponse(item_json(item_id, user["id"], title, description, now, now), 201)


def expected_version(request: Request) -> int | None:
    """None for ``*`` or no header; a version no item has for a tag of another form."""
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    tag = raw.strip()
    if tag.startswith('"v') and tag.endswith('"') and tag[2:-1].isdigit() and len(tag) < 22:
        return int(tag[2:-1])
    return -1


async def update_item(request: Request) -> JSONResponse:
    assert pool is not None
    try:
        item_id = uuid.UUID(request.path_params["item_id"])
        body = json.loads(await request.body())
    except ValueError:
        raise invalid("item_id or body: invalid") from None
    if not isinstance(body, dict) or not set(body) <= {"title", "description"}:
        raise invalid("body: expected {title, description}")
    title = body.get("title")
    if "title" in body:
        if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
            raise invalid("title: 1 to 200 characters")
        title = checked_text(title.strip(), "title", MAX_TITLE, multiline=False)
        if not title:
            raise invalid("title: 1 to 200 characters")
    description = body.get("description")
    if description is not None:
        description = checked_text(description, "description", MAX_DESCRIPTION, multiline=True)
    version = expected_version(request)
    async with pool.acquire() as connection:
        user = await current_user(request, connection)
        admin = "admin" in user["roles"].split()
        row = await connection.fetchrow(
            UPDATE_ITEM,
            item_id,
            user["id"],
            "title" in body,
            title,
            "description" in body,
            description,
            datetime.now(UTC),
            admin,
            version,
        )
        if row is None:
            owner = await connection.fetchval(ITEM_OWNER, item_id)
            if owner is None or (owner != user["id"] and not admin):
                raise Refused(404, "NOT_FOUND", "Item not found")
            raise Refused(412, "PRECONDITION_FAILED", "The item has changed")
    answer = item_json(*row[:6])
    return JSONResponse(answer, headers={"ETag": f'"v{row["version"]}"'})


async def refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refused)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    body = {"error": {"code": exc.code, "message": exc.message, "details": {}}}
    return JSONResponse(body, exc.status, headers=headers)


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(DSN, min_size=POOL_MIN, max_size=POOL_MAX)
    try:
        yield
    finally:
        await pool.close()


app = Starlette(
    routes=[
        Route("/api/v1/users/me", me, methods=["GET"]),
        Route("/api/v1/items", list_items, methods=["GET"]),
        Route("/api/v1/items", create_item, methods=["POST"]),
        Route("/api/v1/items/{item_id}", update_item, methods=["PATCH"]),
    ],
    exception_handlers={Refused: refused},
    lifespan=lifespan,
)
