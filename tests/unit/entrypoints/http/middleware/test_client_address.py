"""Who the client is behind proxies: only trusted proxies are believed, from the right."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from application.throttling import address_key
from entrypoints.http.middleware.client_address import (
    ClientAddressMiddleware,
    forwarded_for,
    parse_address,
)
from entrypoints.settings import Settings

TRUSTED = ["10.0.0.0/8", "2001:db8:ffff::/48"]


async def client_seen(
    peer: str | None,
    headers: list[tuple[str, str]],
    *,
    header: str = "x-forwarded-for",
    scope_type: str = "http",
) -> Any:
    seen: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope.get("client"))

    middleware = ClientAddressMiddleware(app, trusted=TRUSTED, header=header)
    scope: dict[str, Any] = {
        "type": scope_type,
        "client": (peer, 50000) if peer else None,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
    }

    async def receive() -> Any:
        return {}

    async def send(message: Any) -> None:
        return None

    await middleware(scope, receive, send)
    return seen[0]


async def test_an_untrusted_peer_is_the_client_whatever_it_claims() -> None:
    forged = [("X-Forwarded-For", "198.51.100.1"), ("Forwarded", "for=198.51.100.2")]
    assert await client_seen("203.0.113.9", forged) == ("203.0.113.9", 50000)


async def test_a_trusted_peer_names_the_client() -> None:
    xff = [("X-Forwarded-For", "198.51.100.7")]
    assert await client_seen("10.0.0.2", xff) == ("198.51.100.7", 0)


async def test_what_the_client_wrote_left_of_the_proxies_is_ignored() -> None:
    # The client sent "1.1.1.1, 10.9.9.9"; two trusted proxies appended their peers.
    xff = [("X-Forwarded-For", "1.1.1.1, 10.9.9.9, 198.51.100.7, 10.0.0.3")]
    assert await client_seen("10.0.0.2", xff) == ("198.51.100.7", 0)


async def test_header_lines_are_read_in_order_as_one_list() -> None:
    lines = [("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-For", "198.51.100.7")]
    assert await client_seen("10.0.0.2", lines) == ("198.51.100.7", 0)


async def test_all_trusted_gives_the_leftmost_and_garbage_ends_the_walk() -> None:
    assert await client_seen("10.0.0.2", [("X-Forwarded-For", "10.1.1.1, 10.2.2.2")]) == (
        "10.1.1.1",
        0,
    )
    garbage = [("X-Forwarded-For", "198.51.100.1, not-an-ip, 10.2.2.2")]
    assert await client_seen("10.0.0.2", garbage) == ("10.2.2.2", 0)
    # The proxy's own entry is garbage: nothing is believed, the peer stays the client.
    assert await client_seen("10.0.0.2", [("X-Forwarded-For", "junk")]) == ("10.0.0.2", 50000)
    assert await client_seen("10.0.0.2", []) == ("10.0.0.2", 50000)


async def test_only_the_configured_header_is_read() -> None:
    both = [("X-Forwarded-For", "198.51.100.1"), ("Forwarded", 'for="[2001:db8::7]:4711"')]
    assert await client_seen("10.0.0.2", both) == ("198.51.100.1", 0)
    assert await client_seen("10.0.0.2", both, header="forwarded") == ("2001:db8::7", 4711)


async def test_forwarded_elements_are_walked_like_x_forwarded_for() -> None:
    header = "for=1.1.1.1, for=198.51.100.7;proto=https;by=10.0.0.3, For=10.0.0.4"
    seen = await client_seen("10.0.0.2", [("Forwarded", header)], header="forwarded")
    assert seen == ("198.51.100.7", 0)
    hidden = [("Forwarded", "for=_hidden, for=10.0.0.4")]
    assert await client_seen("10.0.0.2", hidden, header="forwarded") == ("10.0.0.4", 0)


async def test_ipv6_peers_and_websockets_are_resolved_too() -> None:
    xff = [("X-Forwarded-For", "198.51.100.7")]
    assert await client_seen("2001:db8:ffff::1", xff) == ("198.51.100.7", 0)
    assert await client_seen("::ffff:10.0.0.2", xff) == ("198.51.100.7", 0)
    assert await client_seen("10.0.0.2", xff, scope_type="websocket") == ("198.51.100.7", 0)
    assert await client_seen(None, xff) is None


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("198.51.100.7", ("198.51.100.7", 0)),
        (" 198.51.100.7:8080 ", ("198.51.100.7", 8080)),
        ('"[2001:DB8::0:7]:443"', ("2001:db8::7", 443)),
        ("2001:db8::7", ("2001:db8::7", 0)),
        ("::ffff:198.51.100.7", ("198.51.100.7", 0)),
        ("unknown", None),
        ("_hidden", None),
        ("", None),
        ("1.2.3.4:port", None),
        ("1.2.3.4:123456", None),
        ("[2001:db8::7]x", None),
        ("1.2.3.4:٣", None),
    ],
)
def test_addresses_are_parsed_strictly_and_written_canonically(
    text: str, parsed: tuple[str, int] | None
) -> None:
    result = parse_address(text)
    assert (None if result is None else (str(result[0]), result[1])) == parsed


def test_forwarded_for_values_in_order() -> None:
    assert list(forwarded_for("for=a;proto=http, by=b, for=c")) == ["a", "", "c"]


def test_limits_count_an_ipv6_client_by_its_slash_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("198.51.100.7") == "198.51.100.7"


def test_trusted_proxies_are_addresses_and_ranges() -> None:
    settings = Settings(_env_file=None, trusted_proxies="10.0.0.0/8, 192.168.1.7,2001:db8::/32")
    assert [ipaddress.ip_network(n) for n in settings.trusted_proxies] == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.7/32"),
        ipaddress.ip_network("2001:db8::/32"),
    ]
    assert Settings(_env_file=None).trusted_proxies == []
