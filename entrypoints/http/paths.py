"""Where the API lives. Routers carry the whole prefix, so a route's path is its template."""

import re

API_PREFIX = "/api/v1"
# The account pages the mails link to, outside the API, and their stylesheet.
STYLESHEET_PATH = "/assets/keel.css"
PAGE_PATHS = frozenset({"/", "/verify-email", "/reset-password", STYLESHEET_PATH})
# Attachments' bytes go out as stored (never compressed, so that ranges and lengths hold),
# and come in under a limit of their own.
ATTACHMENTS_PATH = re.compile(rf"{API_PREFIX}/items/[^/]+/attachments")
ATTACHMENT_PATH = re.compile(rf"{API_PREFIX}/items/[^/]+/attachments/[^/]+")
