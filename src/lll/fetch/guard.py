"""The SSRF guard: which addresses LLL may connect to.

By default only public addresses. ``loopback`` adds 127.0.0.0/8 and ::1; ``private`` allows
everything (``[fetch] allow_private = true`` or ``LLL_ALLOW_PRIVATE=1``). ``sealed`` is what
``demo`` and ``backtest`` use: loopback addresses written as such and nothing else — a name is
never looked up, so a replay cannot reach the internet or even ask DNS (an article page of a
summary-only item on a real host is refused at once, and the refusal is recorded).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from lll.errors import BlockedAddressError

Resolver = Callable[[str, int], Awaitable[list[str]]]
POLICIES = ("public", "loopback", "private", "sealed")


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


# IPv6 prefixes that carry an IPv4 address in their last 32 bits (IPv4-compatible ::/96,
# IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and its local-use 64:ff9b:1::/48): an address
# there reaches (or names) the IPv4 address it embeds, so it is judged as that address.
_EMBEDS_IPV4_LOW32 = tuple(ipaddress.IPv6Network(n) for n in
                           ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, translated, NAT64, 6to4,
    Teredo client), or None. ``::`` and ``::1`` are IPv6's own and embed nothing."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if int(ip) <= 1:
        return None
    if any(ip in net for net in _EMBEDS_IPV4_LOW32):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_allowed(address: str, policy: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        ip = embedded_ipv4(ip) or ip
    if policy == "sealed":
        return ip.is_loopback
    if policy == "private":
        return not ip.is_multicast and not ip.is_unspecified
    if ip.is_loopback:
        return policy == "loopback"
    return ip.is_global and not ip.is_multicast


async def check_url(url: str, policy: str, resolver: Resolver = system_resolver) -> list[str]:
    """The addresses of the URL's host, resolved once and all allowed: the caller connects to
    one of these and to nothing else (a second lookup could answer differently: DNS rebinding).
    Raise ``BlockedAddressError`` when any address is not allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedAddressError(f"{url}: invalid URL ({exc})", url=url) from exc
    if parts.scheme not in ("http", "https"):
        raise BlockedAddressError(f"{url}: only http and https URLs are fetched", url=url)
    host = parts.hostname or ""
    if not host:
        raise BlockedAddressError(f"{url}: no host in URL", url=url)
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        if policy == "sealed":
            raise BlockedAddressError(
                f"{url}: not fetched: this run is sealed to loopback (a backtest or the demo serves only "
                f"its corpus on 127.0.0.1); {host} is outside it and was not looked up", url=url) from None
        try:
            addresses = await resolver(host, port)
        except OSError as exc:
            raise BlockedAddressError(f"{url}: cannot resolve {host} ({exc})", url=url) from exc
    blocked = [a for a in addresses if not address_allowed(a, policy)]
    if blocked and policy == "sealed":
        raise BlockedAddressError(f"{url}: not fetched: this run is sealed to loopback; {host} is not a "
                                  "loopback address", url=url)
    if blocked or not addresses:
        raise BlockedAddressError(
            f"{url}: {host} resolves to a non-public address ({', '.join(blocked) or 'none'}); "
            "refused by the SSRF guard. To allow it set [fetch] allow_private = true in lll.toml "
            "or LLL_ALLOW_PRIVATE=1",
            url=url,
        )
    return addresses
