"""Swagger UI (``/docs``) and ReDoc (``/redoc``) as Keel's own pages: no inline script, no
address off the server, so that they work offline and under a Content-Security-Policy of
'self' (middleware/request_context.py). Mounted only when the documentation is enabled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse

from entrypoints.http.docs_assets import ASSETS_PATH, CACHE_FOR_A_YEAR, NAMES, load
from entrypoints.http.etags import ANY, none_match_condition

OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"

_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{favicon}">
"""


def install_docs(app: FastAPI) -> None:
    """The pages and their assets, as routes of the app itself (so that the access log and
    HEAD see their paths), none of them in the OpenAPI document."""
    pages = (("/docs", swagger_ui), (OAUTH2_REDIRECT_PATH, oauth2_redirect), ("/redoc", redoc))
    for path, page in pages:
        app.add_api_route(
            path, page, methods=["GET"], response_class=HTMLResponse, include_in_schema=False
        )
    for name in NAMES:
        app.add_api_route(
            f"{ASSETS_PATH}/{name}", _asset_endpoint(name), methods=["GET"], include_in_schema=False
        )


async def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    favicon, css, bundle, init = [
        root + (await load(name)).url
        for name in ("favicon.png", "swagger-ui.css", "swagger-ui-bundle.js", "swagger-init.js")
    ]
    body = (
        _HEAD.format(title=escape(f"{request.app.title} - Swagger UI"), favicon=favicon)
        + f'<link rel="stylesheet" href="{css}">\n</head>\n<body>\n'
        f'<div id="swagger-ui" data-openapi-url="{root}{request.app.openapi_url}"'
        f' data-oauth2-redirect-url="{root}{OAUTH2_REDIRECT_PATH}"></div>\n'
        f'<script src="{bundle}"></script>\n<script src="{init}"></script>\n'
        "</body>\n</html>\n"
    )
    return HTMLResponse(body)


async def oauth2_redirect(request: Request) -> HTMLResponse:
    script = _root(request) + (await load("oauth2-redirect.js")).url
    body = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>Swagger UI: OAuth2 Redirect</title>\n</head>\n<body>\n"
        f'<script src="{script}"></script>\n</body>\n</html>\n'
    )
    return HTMLResponse(body)


async def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    favicon, script = [
        root + (await load(name)).url for name in ("favicon.png", "redoc.standalone.js")
    ]
    # No Google fonts: ReDoc falls back to the system's sans-serif.
    body = (
        _HEAD.format(title=escape(f"{request.app.title} - ReDoc"), favicon=favicon)
        + "</head>\n<body>\n"
        f'<redoc spec-url="{root}{request.app.openapi_url}"></redoc>\n'
        f'<script src="{script}"></script>\n</body>\n</html>\n'
    )
    return HTMLResponse(body)


def _root(request: Request) -> str:
    """The prefix a proxy mounts the app under (``--root-path``), so that links still work."""
    return escape(str(request.scope.get("root_path", "")).rstrip("/"))


def _asset_endpoint(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        asset = await load(name)
        accepts_gzip = "gzip" in request.headers.get("accept-encoding", "")
        gzipped = asset.gzipped if accepts_gzip else None
        headers = {
            "etag": asset.etag if gzipped is None else asset.gzip_etag,
            "cache-control": CACHE_FOR_A_YEAR,
        }
        if asset.gzipped is not None:
            headers["vary"] = "Accept-Encoding"
        condition = none_match_condition(request)
        # Weak comparison (RFC 9110, section 13.1.2): either coding's tag names this file.
        if condition == ANY or (
            condition and any(tag.opaque in (asset.etag, asset.gzip_etag) for tag in condition)
        ):
            return Response(status_code=304, headers=headers)
        if gzipped is not None:
            headers["content-encoding"] = "gzip"
        body = asset.identity if gzipped is None else gzipped
        return Response(body, media_type=asset.media_type, headers=headers)

    serve.__name__ = f"docs_asset_{name.replace('-', '_').replace('.', '_')}"
    return serve
