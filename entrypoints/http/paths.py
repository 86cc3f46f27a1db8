"""Where the API lives. Routers carry the whole prefix, so a route's path is its template."""

API_PREFIX = "/api/v1"
# The account pages the mails link to, outside the API, and their stylesheet.
STYLESHEET_PATH = "/assets/keel.css"
PAGE_PATHS = frozenset({"/", "/verify-email", "/reset-password", STYLESHEET_PATH})
