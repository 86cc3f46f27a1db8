"""Where the API lives. Routers carry the whole prefix, so a route's path is its template."""

API_PREFIX = "/api/v1"
