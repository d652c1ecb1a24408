"""The SSRF guard: non-public IPv6 ranges (NAT64, IPv4-compatible, site-local, ...) are refused,
and allow-list entries with a port allow that port only - in the rules and in the fetcher."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.feeds.addresses import (
    AllowedNetwork,
    embedded_ipv4,
    is_address_allowed,
    is_non_public_network,
    is_public,
)
from bot.feeds.errors import BlockedAddressError
from bot.feeds.fetch import Fetcher, GuardedResolver

from .conftest import fixture_bytes, make_policy

NOT_PUBLIC = [
    "127.0.0.1", "10.1.2.3", "100.64.0.1", "169.254.169.254", "192.88.99.1", "0.0.0.0",
    "::1", "::", "fe80::1", "fd12::1", "ff02::1", "2001:db8::1",
    "64:ff9b::7f00:1",  # NAT64 to 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 to 169.254.169.254 (cloud metadata)
    "64:ff9b:1::1",  # local-use NAT64
    "::7f00:1",  # IPv4-compatible 127.0.0.1
    "::808:808",  # IPv4-compatible (deprecated) even for a public IPv4 address
    "::ffff:127.0.0.1", "::ffff:0:7f00:1",  # mapped, translated
    "fec0::1", "feff::1",  # site-local
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "5f00::1", "3fff::1", "100::1",
]  # fmt: skip
PUBLIC = ["8.8.8.8", "2a00:1450:4010:c0e::64", "64:ff9b::808:808", "::ffff:8.8.8.8",
          "2002:808:808::1"]  # fmt: skip


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses(address: str) -> None:
    addr = ipaddress.ip_address(address)
    assert not is_public(addr)
    assert not is_address_allowed(addr)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_nat64_is_judged_by_its_ipv4_address() -> None:
    nat64 = ipaddress.IPv6Address("64:ff9b::a00:5")
    assert embedded_ipv4(nat64) == ipaddress.IPv4Address("10.0.0.5")
    assert is_address_allowed(nat64, (AllowedNetwork.parse("10.0.0.0/8"),))
    assert not is_address_allowed(nat64, (AllowedNetwork.parse("192.168.0.0/16"),))


@pytest.mark.parametrize(
    ("entry", "network", "port"),
    [("10.0.0.0/8", "10.0.0.0/8", None), ("10.0.0.5:8080", "10.0.0.5/32", 8080),
     ("[fd00::1]:443", "fd00::1/128", 443), ("[fd00::/8]:8443", "fd00::/8", 8443),
     ("fd00::/8", "fd00::/8", None), ("127.0.0.1", "127.0.0.1/32", None)],
)  # fmt: skip
def test_allow_list_entries(entry: str, network: str, port: int | None) -> None:
    parsed = AllowedNetwork.parse(entry)
    assert (str(parsed.network), parsed.port) == (network, port)
    assert AllowedNetwork.parse(str(parsed)) == parsed


@pytest.mark.parametrize("entry", ["0.0.0.0/0", "::/0", "0.0.0.0/1", "8.8.8.0/24", "64:ff9b::/96"])
def test_networks_with_public_addresses_are_not_private(entry: str) -> None:
    assert not is_non_public_network(AllowedNetwork.parse(entry).network)


def test_a_port_in_the_allow_list_allows_that_port_only() -> None:
    allowed = (AllowedNetwork.parse("10.0.0.5:8080"),)
    addr = ipaddress.ip_address("10.0.0.5")
    assert is_address_allowed(addr, allowed, 8080)
    assert not is_address_allowed(addr, allowed, 22)
    assert not is_address_allowed(addr, allowed, None)
    assert not is_address_allowed(ipaddress.ip_address("10.0.0.6"), allowed, 8080)


# --- in the fetcher ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["[64:ff9b::7f00:1]", "[::7f00:1]", "[fec0::1]", "[::ffff:0:7f00:1]"]
)
async def test_fetcher_refuses_ipv6_literals_of_private_ranges(host: str) -> None:
    async with Fetcher(make_policy(allowed_networks=())) as fetcher:
        with pytest.raises(BlockedAddressError, match="is not public"):
            await fetcher.fetch(f"http://{host}:8080/feed")


class StaticResolver(AbstractResolver):
    """Resolves every name to the given addresses (a DNS answer an attacker controls)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host=a, port=port, family=socket.AF_INET6, proto=0, flags=0
            )
            for a in self.addresses
        ]

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("answer", ["64:ff9b::7f00:1", "::7f00:1", "fec0::1"])
async def test_names_resolving_to_private_ipv6_ranges_are_refused(answer: str) -> None:
    resolver = GuardedResolver((), inner=StaticResolver(answer))
    with pytest.raises(BlockedAddressError, match="non-public"):
        await resolver.resolve("feeds.example", 443)


@pytest.fixture
async def two_servers() -> AsyncIterator[tuple[int, int]]:
    async def feed(_: web.Request) -> web.Response:
        return web.Response(body=fixture_bytes("rss091.xml"), content_type="application/rss+xml")

    runners = []
    for _ in range(2):
        app = web.Application()
        app.router.add_get("/feed", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
    yield runners[0].addresses[0][1], runners[1].addresses[0][1]
    for runner in runners:
        await runner.cleanup()


async def test_fetcher_respects_the_port_of_an_allow_list_entry(
    two_servers: tuple[int, int],
) -> None:
    allowed, other = two_servers
    policy = make_policy(allowed_networks=(AllowedNetwork.parse(f"127.0.0.1:{allowed}"),))
    async with Fetcher(policy) as fetcher:
        for host in ("127.0.0.1", "localhost"):  # an IP literal, and a name resolved by DNS
            result = await fetcher.fetch(f"http://{host}:{allowed}/feed")
            assert result.status == 200 and result.body
            with pytest.raises(BlockedAddressError):
                await fetcher.fetch(f"http://{host}:{other}/feed")
