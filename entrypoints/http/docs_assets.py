"""The documentation's scripts, styles and icon, served by Keel itself so that ``/docs`` and
``/redoc`` work without a network and under a Content-Security-Policy of 'self'.

Swagger UI's and ReDoc's files come from the fastapi-offline package, read where it is
installed; the start-up scripts are Keel's own (``static/``). Each URL carries a digest of the
file, so an answer may be cached for a year: an upgrade changes the URL the pages name."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib.resources import files
from typing import Final

from anyio import to_thread

ASSETS_PATH: Final = "/docs/assets"
VENDORED: Final = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
OWN: Final = ("swagger-init.js", "oauth2-redirect.js")
NAMES: Final = VENDORED + OWN
CACHE_FOR_A_YEAR: Final = "public, max-age=31536000, immutable"
_MEDIA_TYPES: Final = {
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "png": "image/png",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file in both its codings. Each coding is its own representation with its own
    strong entity tag (RFC 9110, section 8.8.3): the gzip one ends in ``-gzip``."""

    name: str
    media_type: str
    digest: str
    identity: bytes
    gzipped: bytes | None  # None for a file that does not shrink (the PNG)

    @property
    def url(self) -> str:
        return f"{ASSETS_PATH}/{self.name}?v={self.digest}"

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'

    @property
    def gzip_etag(self) -> str:
        return f'"{self.digest}-gzip"'


# ReDoc draws Redocly's logo from their CDN, with no option to turn it off: an empty address
# fails at once, and ReDoc then hides the image.
_PATCHES: Final = {
    "redoc.standalone.js": ((b'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"', b'src:""'),),
}

_loaded: dict[str, Asset] = {}


async def load(name: str) -> Asset:
    """The asset, read, hashed and compressed once per process, off the event loop: the two
    bundles are over a megabyte each."""
    found = _loaded.get(name)
    if found is None:
        found = _loaded[name] = await to_thread.run_sync(_read, name)
    return found


def _read(name: str) -> Asset:
    package = "fastapi_offline" if name in VENDORED else "entrypoints.http"
    body = files(package).joinpath("static", name).read_bytes()
    for old, new in _PATCHES.get(name, ()):
        body = body.replace(old, new)
    extension = name.rsplit(".", 1)[-1]
    compressed = None if extension == "png" else gzip.compress(body, compresslevel=9, mtime=0)
    return Asset(
        name=name,
        media_type=_MEDIA_TYPES[extension],
        digest=hashlib.sha256(body).hexdigest()[:32],
        identity=body,
        gzipped=compressed,
    )
