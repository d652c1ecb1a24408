"""HTTP fetching of feeds with hard limits and an SSRF guard.

One :class:`Fetcher` (one aiohttp session) serves the whole bot. It does conditional GETs,
follows redirects itself so that every hop is checked, streams bodies under a size cap,
decompresses gzip/deflate itself under a second cap (decompression bombs), and resolves host
names through :class:`GuardedResolver`, which only hands the connector addresses that passed
the check - the connection goes to exactly the address that was checked, so DNS rebinding
between check and connect is not possible.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import socket
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Final, Self

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from bot.feeds.addresses import AllowedNetwork, IPNetwork, is_address_allowed
from bot.feeds.errors import (
    BlockedAddressError,
    BodyTooLargeError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    RedirectError,
)
from bot.feeds.parse import text_encoding

__all__ = [
    "AllowedNetwork",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
    "GuardedResolver",
    "IPNetwork",
    "is_address_allowed",
]

_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_CHUNK: Final = 64 * 1024
_MAX_AGE_RE: Final = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?([0-9]{1,10})\b", re.IGNORECASE)
_SECONDS_RE: Final = re.compile(r"[0-9]{1,10}")
# A server may ask us to wait, but not for longer than this (the poller caps it lower).
MAX_HEADER_SECONDS: Final = 30 * 24 * 3600
_ACCEPT: Final = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Operator-tunable limits for fetching and scheduling (the bot's settings fill this in)."""

    user_agent: str = "MoscowDistrictNewsBot/0.1"
    contact_url: str = ""
    max_body_bytes: int = 5_000_000
    max_decompressed_bytes: int = 20_000_000
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    max_redirects: int = 5
    per_host: int = 2
    global_concurrency: int = 20
    min_interval: timedelta = timedelta(minutes=5)
    max_interval: timedelta = timedelta(hours=6)
    max_backoff: timedelta = timedelta(hours=6)
    broken_after: timedelta = timedelta(hours=24)
    # Private networks the operator allows (FEED_ALLOWED_NETWORKS), each optionally one port.
    allowed_networks: tuple[AllowedNetwork | IPNetwork, ...] = field(default=())

    @property
    def user_agent_header(self) -> str:
        return f"{self.user_agent} (+{self.contact_url})" if self.contact_url else self.user_agent


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A successful answer: 200 with a body, or 304 Not Modified (``body`` is None)."""

    url: str  # final URL after redirects
    status: int
    body: bytes | None  # decompressed
    body_hash: str | None  # sha256 hex of body
    charset: str | None  # from Content-Type
    etag: str | None
    last_modified: str | None
    max_age: float | None  # Cache-Control max-age, seconds
    wire_bytes: int  # bytes received (compressed)
    redirects: int = 0

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class GuardedResolver(AbstractResolver):
    """Resolver that drops addresses outside the public internet (or the allow-list).

    aiohttp connects only to what the resolver returns, so the checked address is the one used.
    """

    def __init__(
        self,
        allowed: tuple[AllowedNetwork | IPNetwork, ...] = (),
        inner: AbstractResolver | None = None,
    ) -> None:
        self._allowed = allowed
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        good: list[ResolveResult] = []
        for r in results:
            try:
                addr = ipaddress.ip_address(r["host"].split("%", 1)[0])
            except ValueError:
                continue
            if is_address_allowed(addr, self._allowed, r["port"] or port):
                good.append(r)
        if not good:
            shown = ", ".join(sorted({r["host"] for r in results})[:4])
            raise BlockedAddressError(f"{host} resolves to non-public address ({shown})")
        return good

    async def close(self) -> None:
        await self._inner.close()


class _Inflater:
    """Incremental gzip/deflate decoding that never produces more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self._encoding = encoding
        self._remaining = limit
        self._limit = limit
        self._first = True
        # wbits 47 = zlib or gzip header, auto-detected; deflate may also be raw (old IIS).
        self._d = zlib.decompressobj(47 if encoding in ("gzip", "x-gzip") else 15)

    def feed(self, data: bytes) -> bytes:
        try:
            out = self._d.decompress(data, self._remaining + 1)
        except zlib.error as exc:
            if self._first and self._encoding == "deflate":
                self._d = zlib.decompressobj(-15)
                self._first = False
                return self.feed(data)
            raise FetchError(f"corrupt {self._encoding} body: {exc}") from None
        self._first = False
        return self._take(out)

    def flush(self) -> bytes:
        try:
            return self._take(self._d.flush())
        except zlib.error as exc:
            raise FetchError(f"corrupt {self._encoding} body: {exc}") from None

    def _take(self, out: bytes) -> bytes:
        # Output reached max_length only if it exceeds the budget: input left unconsumed
        # means the body is larger than allowed, so no unconsumed_tail loop is needed.
        if len(out) > self._remaining:
            raise BodyTooLargeError(
                f"decompressed body exceeds {self._limit} bytes (decompression bomb?)"
            )
        self._remaining -= len(out)
        return out


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now (delay or HTTP date), within 0..MAX_HEADER_SECONDS;
    None when absent or nonsense."""
    if not value or len(value) > 100:
        return None
    value = value.strip()
    if _SECONDS_RE.fullmatch(value):
        return float(min(int(value), MAX_HEADER_SECONDS))
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            return None
        delay = when.timestamp() - time.time()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(0.0, delay), float(MAX_HEADER_SECONDS))


def _max_age(value: str | None) -> float | None:
    if not value or len(value) > 1000:
        return None
    m = _MAX_AGE_RE.search(value)
    return float(min(int(m.group(1)), MAX_HEADER_SECONDS)) if m else None


def _charset(resp: aiohttp.ClientResponse) -> str | None:
    """The Content-Type charset if it names a text encoding (``hex`` or ``zlib`` do not)."""
    try:
        return text_encoding(resp.charset)
    except (ValueError, UnicodeError):
        return None


class Fetcher:
    """Shared HTTP client for feeds. Use as ``async with Fetcher(policy) as f:``."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self._session: aiohttp.ClientSession | None = None
        self._global = asyncio.Semaphore(self.policy.global_concurrency)
        self._per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self.policy.per_host)
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            p = self.policy
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(p.allowed_networks),
                limit=p.global_concurrency,
                limit_per_host=p.per_host,
                ttl_dns_cache=60,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # we inflate ourselves, with a cap
                trust_env=False,  # no proxies from the environment: they would bypass the guard
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=p.connect_timeout, sock_connect=p.connect_timeout
                ),
                headers={
                    "User-Agent": p.user_agent_header,
                    "Accept": _ACCEPT,
                    "Accept-Encoding": "gzip, deflate",
                },
            )
        return self._session

    def check_url(self, url: URL) -> None:
        """Refuse non-http(s) URLs and IP-literal hosts outside the allowed networks.

        Host names are checked after resolution by :class:`GuardedResolver`.
        """
        if url.scheme not in ("http", "https"):
            raise BlockedAddressError(f"scheme {url.scheme or '(none)'!r} is not allowed: {url}")
        host = url.host
        if not host:
            raise BlockedAddressError(f"URL has no host: {url}")
        try:
            addr = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
        except ValueError:
            return
        if not is_address_allowed(addr, self.policy.allowed_networks, url.port):
            raise BlockedAddressError(f"address {host} is not public")

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET a feed. Raises a :class:`FetchError` subclass on any failure."""
        async with self._global:
            try:
                async with asyncio.timeout(self.policy.total_timeout):
                    return await self._fetch_chain(url, etag, last_modified)
            except TimeoutError:
                raise FetchTimeoutError(
                    f"timed out after {self.policy.total_timeout:g} s"
                ) from None
            except aiohttp.InvalidURL as exc:
                raise FetchError(f"invalid URL: {exc}") from None
            except aiohttp.ClientResponseError as exc:
                # A malformed answer (bad status line, nonsense Content-Length...): aiohttp's
                # message spans lines and repeats the URL; the first line says what was wrong.
                first = (exc.message or "").strip().splitlines()
                reason = first[0].rstrip(":") if first else type(exc).__name__
                raise FetchError(f"invalid HTTP response: {reason}") from None
            except aiohttp.ClientError as exc:
                raise FetchError(f"{type(exc).__name__}: {exc}") from None
            except (OSError, ValueError, UnicodeError) as exc:
                raise FetchError(f"{type(exc).__name__}: {exc}") from None

    async def _fetch_chain(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        session = self._get_session()
        current = URL(url)
        seen: set[str] = set()
        for hop in range(self.policy.max_redirects + 1):
            self.check_url(current)
            key = str(current.with_fragment(None))
            if key in seen:
                raise RedirectError(f"redirect loop at {key}")
            seen.add(key)
            headers: dict[str, str] = {}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            host = (current.host or "").lower()
            async with (
                self._per_host[host],
                session.get(current, headers=headers, allow_redirects=False) as resp,
            ):
                if resp.status in _REDIRECTS:
                    location = resp.headers.get("Location")
                    if not location:
                        raise RedirectError(f"HTTP {resp.status} without Location")
                    current = current.join(URL(location, encoded=False))
                    continue
                if resp.status == 304:
                    return FetchResult(
                        url=str(current),
                        status=304,
                        body=None,
                        body_hash=None,
                        charset=None,
                        etag=resp.headers.get("ETag") or etag,
                        last_modified=resp.headers.get("Last-Modified") or last_modified,
                        max_age=_max_age(resp.headers.get("Cache-Control")),
                        wire_bytes=0,
                        redirects=hop,
                    )
                if not 200 <= resp.status < 300:
                    raise HTTPStatusError(
                        resp.status,
                        resp.reason or "",
                        _retry_after(resp.headers.get("Retry-After"))
                        if resp.status in (429, 503)
                        else None,
                    )
                body, digest, wire = await self._read_body(resp)
                return FetchResult(
                    url=str(current),
                    status=resp.status,
                    body=body,
                    body_hash=digest,
                    charset=_charset(resp),
                    etag=resp.headers.get("ETag"),
                    last_modified=resp.headers.get("Last-Modified"),
                    max_age=_max_age(resp.headers.get("Cache-Control")),
                    wire_bytes=wire,
                    redirects=hop,
                )
        raise RedirectError(f"more than {self.policy.max_redirects} redirects")

    async def _read_body(self, resp: aiohttp.ClientResponse) -> tuple[bytes, str, int]:
        limit = self.policy.max_body_bytes
        length = resp.content_length
        if length is not None and length > limit:
            raise BodyTooLargeError(f"body of {length} bytes exceeds the {limit}-byte limit")
        coding = resp.headers.get("Content-Encoding", "").strip().lower()
        inflater: _Inflater | None = None
        if coding in ("gzip", "x-gzip", "deflate"):
            inflater = _Inflater(coding, self.policy.max_decompressed_bytes)
        elif coding not in ("", "identity"):
            raise FetchError(f"unsupported Content-Encoding {coding!r}")
        wire = 0
        parts: list[bytes] = []
        digest = hashlib.sha256()
        async for chunk in resp.content.iter_chunked(_CHUNK):
            wire += len(chunk)
            if wire > limit:
                raise BodyTooLargeError(f"body exceeds the {limit}-byte limit")
            data = inflater.feed(chunk) if inflater is not None else chunk
            if data:
                digest.update(data)  # incremental: hashing 20 MB at once would stall the loop
                parts.append(data)
        if inflater is not None:
            tail = inflater.flush()
            if tail:
                digest.update(tail)
                parts.append(tail)
        return b"".join(parts), digest.hexdigest(), wire
