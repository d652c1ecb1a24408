"""Which addresses the feed fetcher may connect to (the SSRF guard's rules), pure.

Public addresses are allowed; everything else - private, loopback, link-local, documentation,
deprecated and translation ranges - is refused unless an operator allow-list entry
(``FEED_ALLOWED_NETWORKS``, optionally with a port) covers it. IPv6 addresses that embed an
IPv4 address (mapped, NAT64 ``64:ff9b::/96``, 6to4) are judged by that IPv4 address: a NAT64
gateway would connect to it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "AllowedNetwork",
    "IPAddress",
    "IPNetwork",
    "embedded_ipv4",
    "is_address_allowed",
    "is_non_public_network",
    "is_public",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Not reachable on the public internet, whatever the running Python's ipaddress says (3.11
# counts fec0::/10, ::7f00:1 and 64:ff9b::7f00:1 as global).
_NON_PUBLIC: Final[tuple[IPNetwork, ...]] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/96",  # unspecified, loopback and IPv4-compatible (deprecated): ::7f00:1
        "::ffff:0:0/96",  # IPv4-mapped: judged by the IPv4 address before this list is used
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16",
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)  # fmt: skip
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
# "[v6 network]:port", or "v4 network:port" (a bare IPv6 network has colons of its own).
_ENTRY_RE: Final = re.compile(
    r"^\[(?P<v6>[^\]]+)\](?::(?P<v6port>\d{1,5}))?$"
    r"|^(?P<v4>[^:]+)(?::(?P<v4port>\d{1,5}))?$"
)


def embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return addr.sixtofour


def is_public(addr: IPAddress) -> bool:
    """True for globally routable unicast addresses."""
    if isinstance(addr, ipaddress.IPv6Address):
        inner = embedded_ipv4(addr)
        if inner is not None:
            return is_public(inner)
    if any(addr.version == net.version and addr in net for net in _NON_PUBLIC):
        return False
    return addr.is_global and not addr.is_multicast


def is_non_public_network(network: IPNetwork) -> bool:
    """True if every address of ``network`` lies in one non-public range."""
    return any(
        network.version == block.version and network.subnet_of(block)  # type: ignore[arg-type]
        for block in _NON_PUBLIC
        if block.prefixlen > 0
    )


@dataclass(frozen=True, slots=True)
class AllowedNetwork:
    """An operator allow-list entry: a network, optionally only one port of it."""

    network: IPNetwork
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> AllowedNetwork:
        """``10.0.0.0/8``, ``10.0.0.5:8080``, ``fd00::/8``, ``[fd00::1]:8080``,
        ``[fd00::/8]:8080``. Raises ValueError naming the problem."""
        raw = text.strip()
        m = _ENTRY_RE.match(raw)
        if m is None:
            # A bare IPv6 network or address has colons of its own: no port then.
            return cls(ipaddress.ip_network(raw, strict=False))
        net_text = m.group("v6") or m.group("v4")
        port_text = m.group("v6port") or m.group("v4port")
        network = ipaddress.ip_network(net_text, strict=False)
        port = int(port_text) if port_text else None
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"port {port} of {raw!r} is not between 1 and 65535")
        return cls(network, port)

    def allows(self, addr: IPAddress, port: int | None) -> bool:
        if addr.version != self.network.version or addr not in self.network:
            return False
        return self.port is None or self.port == port

    def __str__(self) -> str:
        if self.port is None:
            return str(self.network)
        net = f"[{self.network}]" if self.network.version == 6 else str(self.network)
        return f"{net}:{self.port}"


def is_address_allowed(
    addr: IPAddress,
    allowed: tuple[AllowedNetwork | IPNetwork, ...] = (),
    port: int | None = None,
) -> bool:
    """True for public addresses, or addresses (and ports) inside an allow-list entry."""
    entries = [a if isinstance(a, AllowedNetwork) else AllowedNetwork(a) for a in allowed]
    candidates: list[IPAddress] = [addr]
    if isinstance(addr, ipaddress.IPv6Address) and (inner := embedded_ipv4(addr)) is not None:
        candidates.append(inner)
    if any(entry.allows(a, port) for entry in entries for a in candidates):
        return True
    return is_public(addr)
