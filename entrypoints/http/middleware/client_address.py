"""The client's address behind proxies: the one the rate limits, the access log and the
security events all see.

Only a peer in ``TRUSTED_PROXIES`` is believed about who it forwards for, and only in the
one header it is configured to write (``FORWARDED_HEADER``: a proxy that writes one of the
two usually passes the other through as the client sent it). The header is walked from the
right, each trusted proxy having appended the address of its own peer: the first address
that is not a trusted proxy is the client. Anything to the left of it was written by the
client and is ignored, so a forged header changes nothing; an entry that is not an
address ends the walk at the last address that was one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Trust = Callable[[IPAddress], bool]
_CACHE_SIZE = 4096


class ClientAddressMiddleware:
    def __init__(self, app: ASGIApp, *, trusted: Sequence[str], header: str) -> None:
        self.app = app
        self._networks: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in trusted)
        self._header = header.lower().encode("latin-1")
        self._forwarded = header.lower() == "forwarded"
        self._trusted: dict[str, bool] = {}  # per peer text: the membership test, once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if client and self._trusts_text(client[0]):
                resolved = self._client_of(scope)
                if resolved is not None:
                    scope["client"] = resolved
        await self.app(scope, receive, send)

    def _trusts_text(self, text: str) -> bool:
        trusted = self._trusted.get(text)
        if trusted is None:
            address = parse_address(text)
            trusted = address is not None and self._trusts(address[0])
            if len(self._trusted) >= _CACHE_SIZE:
                self._trusted.clear()
            self._trusted[text] = trusted
        return trusted

    def _trusts(self, address: IPAddress) -> bool:
        return any(address in network for network in self._networks)

    def _client_of(self, scope: Scope) -> tuple[str, int] | None:
        values = [value for name, value in scope.get("headers", ()) if name == self._header]
        if not values:
            return None
        text = ",".join(value.decode("latin-1") for value in values)
        hops = forwarded_for(text) if self._forwarded else text.split(",")
        return walk(reversed(list(hops)), self._trusts)


def walk(hops_right_to_left: Iterable[str], trusts: Trust) -> tuple[str, int] | None:
    """The first address, from the right, that is not a trusted proxy; when every one is
    trusted, or an entry is not an address, the last address reached. None when the
    rightmost entry is not an address."""
    client: tuple[str, int] | None = None
    for hop in hops_right_to_left:
        parsed = parse_address(hop)
        if parsed is None:
            break
        address, port = parsed
        client = (str(address), port)
        if not trusts(address):
            break
    return client


def forwarded_for(header: str) -> Iterator[str]:
    """The ``for=`` value of each element of a ``Forwarded`` header (RFC 7239), in order; an
    element without one yields the empty string (not an address)."""
    for element in header.split(","):
        value = ""
        for pair in element.split(";"):
            name, _, raw = pair.partition("=")
            if name.strip().lower() == "for":
                value = raw.strip()
        yield value


def parse_address(text: str) -> tuple[IPAddress, int] | None:
    """An IPv4 or IPv6 address, optionally with a port (``1.2.3.4:80``, ``[2001:db8::1]:80``)
    and quoted; an IPv4 address mapped into IPv6 as the IPv4 address. None for anything
    else (``unknown``, obfuscated names, garbage)."""
    text = text.strip().strip('"')
    digits = ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            return None
        digits = rest[1:]
    elif text.count(":") == 1:
        host, _, digits = text.partition(":")
    else:
        host = text
    if digits and not (digits.isascii() and digits.isdigit() and len(digits) <= 5):
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address, int(digits or 0)
