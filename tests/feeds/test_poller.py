"""End-to-end: local HTTP server -> Fetcher -> parse -> normalize -> in-memory store."""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

from bot.feeds.fetch import Fetcher
from bot.feeds.normalize import NormalizedArticle
from bot.feeds.poller import PollStatus
from bot.feeds.schedule import HealthEvent

from .conftest import T0, Env, FeedServer, fixture_bytes, make_env, make_policy


async def test_rss20_first_poll_stores_clean_articles(env: Env) -> None:
    url = env.server.set_feed("full", fixture_bytes("rss20_full.xml"))
    feed = env.store.add_feed(url)

    report = await env.poller.poll_one(feed, T0)

    assert report.status is PollStatus.OK
    assert (report.new, report.updated, report.unchanged) == (4, 0, 0)
    stored = {a.article.identity: a for a in env.store.stored(feed.feed_id)}
    assert len(stored) == 4

    skver = stored["guid:szao-1001"].article
    assert skver.title == "В Строгине открыли новый сквер «Берёзки»"
    assert skver.url == "https://szao.example/news/skver?a=1&b=2"
    # yandex:full-text wins over description; the photo credit is gone.
    assert skver.text == "Полный текст о сквере в Строгине. Работы завершили в декабре."
    assert skver.image_url == "https://szao.example/img/skver.jpg"
    assert skver.published_at == datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
    assert skver.categories == ("Благоустройство",)
    assert stored["guid:szao-1001"].understanding == {"words": 10}

    mitino = stored["guid:https://szao.example/news/mitino-roads"].article
    # content:encoded wins over description; boilerplate and widgets are dropped.
    assert mitino.text == (
        "Встреча прошла в управе района Митино.\n\nНа встрече обсудили ремонт пяти улиц."
    )
    assert "Тушин" not in mitino.text and "Хорош" not in mitino.text
    assert mitino.image_url == "https://szao.example/uploads/mitino.jpg"
    assert mitino.url == "https://szao.example/news/mitino-roads"

    no_date = stored["url:https://szao.example/news/no-date"].article
    assert no_date.published_at == T0
    assert no_date.image_url == "https://szao.example/img/media.png"
    future = stored["url:https://szao.example/news/future"].article
    assert future.published_at == T0

    outcome = env.store.last_outcome(feed.feed_id)
    assert outcome.status is PollStatus.OK
    assert outcome.etag is not None and outcome.body_hash is not None
    assert outcome.ttl_minutes == 45
    assert outcome.next_poll_at == T0 + timedelta(minutes=45)  # <ttl> 45 > interval 30
    assert outcome.health.last_success_at == T0
    assert outcome.health.consecutive_errors == 0
    assert outcome.feed_title == "Газета СЗАО"
    assert sorted(env.understood) == sorted(stored)


async def test_request_headers_name_the_bot(env: Env) -> None:
    url = env.server.set_feed("f", fixture_bytes("rss091.xml"))
    await env.poller.poll_one(env.store.add_feed(url), T0)
    headers = env.server.request_headers[-1]
    assert headers["User-Agent"] == "MoscowDistrictNewsBot/test (+https://bot.example/contact)"
    assert "gzip" in headers["Accept-Encoding"]


async def test_etag_304_costs_no_parse(env: Env) -> None:
    url = env.server.set_feed("full", fixture_bytes("rss20_full.xml"))
    feed = env.store.add_feed(url)
    await env.poller.poll_one(feed, T0)
    etag = env.store.feeds[feed.feed_id].etag
    env.understood.clear()

    report = await env.poller.poll_one(env.store.feeds[feed.feed_id], T0 + timedelta(hours=1))

    assert report.status is PollStatus.NOT_MODIFIED
    assert env.server.request_headers[-1]["If-None-Match"] == etag
    assert len(env.store.stored(feed.feed_id)) == 4
    assert env.understood == []
    outcome = env.store.last_outcome(feed.feed_id)
    assert outcome.status is PollStatus.NOT_MODIFIED
    assert outcome.etag == etag
    assert outcome.health.last_success_at == T0 + timedelta(hours=1)


async def test_last_modified_conditional_get(env: Env) -> None:
    env.server.set_feed("lm", fixture_bytes("rss091.xml"))
    feed = env.store.add_feed(env.server.url("/feed/lm?lm=1"))
    await env.poller.poll_one(feed, T0)
    state = env.store.feeds[feed.feed_id]
    assert state.last_modified is not None and state.etag is None

    report = await env.poller.poll_one(state, T0 + timedelta(hours=1))

    assert report.status is PollStatus.NOT_MODIFIED
    assert env.server.request_headers[-1]["If-Modified-Since"] == state.last_modified


async def test_identical_body_is_not_parsed_again(env: Env) -> None:
    env.server.set_feed("plain", fixture_bytes("rss20_full.xml"))
    feed = env.store.add_feed(env.server.url("/feed/plain?plain=1"))  # no validators
    await env.poller.poll_one(feed, T0)
    env.understood.clear()

    report = await env.poller.poll_one(env.store.feeds[feed.feed_id], T0 + timedelta(hours=1))

    assert report.status is PollStatus.UNCHANGED
    assert env.understood == []
    assert env.store.last_outcome(feed.feed_id).ttl_minutes == 45  # kept from the last parse


async def test_edited_items_are_updated_not_duplicated(env: Env) -> None:
    v1 = fixture_bytes("rss20_full.xml")
    url = env.server.set_feed("edit", v1)
    feed = env.store.add_feed(url)
    await env.poller.poll_one(feed, T0)
    before = {k: a.article.content_hash for k, a in env.store.articles.items()}
    env.understood.clear()

    v2 = v1.replace(
        "Жители Митина обсудили ремонт дорог".encode(),
        "Жители Митина обсудили ремонт шести дорог".encode(),
    )
    v2 = v2.replace("Работы завершили в декабре.".encode(), "Работы завершили в ноябре.".encode())
    env.server.set_feed("edit", v2)
    report = await env.poller.poll_one(env.store.feeds[feed.feed_id], T0 + timedelta(hours=1))

    assert (report.new, report.updated, report.unchanged) == (0, 2, 2)
    assert len(env.store.stored(feed.feed_id)) == 4
    assert sorted(env.understood) == sorted(
        ["guid:szao-1001", "guid:https://szao.example/news/mitino-roads"]
    )
    mitino = env.store.articles[(feed.feed_id, "guid:https://szao.example/news/mitino-roads")]
    assert mitino.article.title == "Жители Митина обсудили ремонт шести дорог"
    assert mitino.versions == 2
    assert mitino.first_seen == T0
    changed = {k for k, a in env.store.articles.items() if before[k] != a.article.content_hash}
    assert len(changed) == 2


async def test_understand_failure_retries_later(server: FeedServer, fetcher: Fetcher) -> None:
    calls = 0

    def flaky(article: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("model not loaded")
        return "ok"

    env = make_env(server, fetcher, understand=flaky)
    server.set_feed("atom", fixture_bytes("atom.xml"), "application/atom+xml")
    feed = env.store.add_feed(server.url("/feed/atom?plain=1"))
    first = await env.poller.poll_one(feed, T0)
    assert (first.new, first.skipped) == (1, 1)
    assert env.store.feeds[feed.feed_id].body_hash is None  # forces a re-parse next time

    second = await env.poller.poll_one(env.store.feeds[feed.feed_id], T0 + timedelta(hours=1))
    assert (second.new, second.unchanged) == (1, 1)
    assert all(a.understanding == "ok" for a in env.store.stored(feed.feed_id))


async def test_server_errors_back_off_then_broken_then_recovered(env: Env) -> None:
    feed = env.store.add_feed(env.server.url("/status/500"))
    r1 = await env.poller.poll_one(feed, T0)
    assert r1.status is PollStatus.ERROR and r1.error == "HTTP 500 Internal Server Error"
    o1 = env.store.last_outcome(feed.feed_id)
    assert o1.health.consecutive_errors == 1
    assert o1.health.last_error == "HTTP 500 Internal Server Error"
    assert o1.health.failing_since == T0
    assert o1.next_poll_at == T0 + timedelta(minutes=30)
    assert o1.http_status == 500

    t = T0 + timedelta(minutes=30)
    await env.poller.poll_one(env.store.feeds[feed.feed_id], t)
    o2 = env.store.last_outcome(feed.feed_id)
    assert o2.health.consecutive_errors == 2
    assert o2.next_poll_at == t + timedelta(hours=1)

    for hours in (3, 9, 15):
        await env.poller.poll_one(env.store.feeds[feed.feed_id], T0 + timedelta(hours=hours))
    assert env.store.last_outcome(feed.feed_id).next_poll_at == T0 + timedelta(hours=21)  # 6h cap
    assert env.store.events == []

    await env.poller.poll_one(env.store.feeds[feed.feed_id], T0 + timedelta(hours=24))
    await env.poller.poll_one(env.store.feeds[feed.feed_id], T0 + timedelta(hours=30))
    assert env.store.events == [(feed.feed_id, HealthEvent.BROKEN)]  # reported once
    assert env.store.feeds[feed.feed_id].health.broken

    # The feed comes back.
    env.server.set_feed("back", fixture_bytes("rss091.xml"))
    state = env.store.feeds[feed.feed_id]
    env.store.feeds[feed.feed_id] = state = type(state)(
        feed_id=state.feed_id,
        url=env.server.url("/feed/back"),
        poll_interval=state.poll_interval,
        health=state.health,
    )
    report = await env.poller.poll_one(state, T0 + timedelta(hours=36))
    assert report.event is HealthEvent.RECOVERED
    assert env.store.events[-1] == (feed.feed_id, HealthEvent.RECOVERED)
    health = env.store.feeds[feed.feed_id].health
    assert not health.broken and health.consecutive_errors == 0
    assert health.last_error == "HTTP 500 Internal Server Error"  # history is kept


async def test_429_retry_after_is_honoured(env: Env) -> None:
    feed = env.store.add_feed(env.server.url("/status/429?retry_after=7200"))
    await env.poller.poll_one(feed, T0)
    outcome = env.store.last_outcome(feed.feed_id)
    assert outcome.http_status == 429
    assert outcome.next_poll_at == T0 + timedelta(hours=2)


async def test_503_retry_after_is_capped_by_max_backoff(env: Env) -> None:
    feed = env.store.add_feed(env.server.url("/status/503?retry_after=999999"))
    await env.poller.poll_one(feed, T0)
    assert env.store.last_outcome(feed.feed_id).next_poll_at == T0 + timedelta(hours=6)


async def test_slow_server_times_out(server: FeedServer) -> None:
    async with Fetcher(make_policy(total_timeout=0.3)) as fetcher:
        env = make_env(server, fetcher)
        feed = env.store.add_feed(server.url("/slow"))
        started = time.monotonic()
        report = await env.poller.poll_one(feed, T0)
    assert time.monotonic() - started < 1.5
    assert report.error is not None and "timed out" in report.error
    assert env.store.last_outcome(feed.feed_id).health.last_error == report.error


async def test_oversized_body_is_refused_while_streaming(server: FeedServer) -> None:
    async with Fetcher(make_policy(max_body_bytes=1_000_000)) as fetcher:
        env = make_env(server, fetcher)
        feed = env.store.add_feed(server.url("/huge"))
        report = await env.poller.poll_one(feed, T0)
    assert report.error is not None and "exceeds the 1000000-byte limit" in report.error
    assert env.store.stored(feed.feed_id) == []
    # The server could push only what fit into socket buffers, not the whole gigabyte.
    assert server.huge_bytes_sent < 20_000_000


async def test_declared_oversized_body_is_refused_without_reading(env: Env) -> None:
    feed = env.store.add_feed(env.server.url("/huge?cl=1"))
    report = await env.poller.poll_one(feed, T0)
    assert report.error == "body of 1000000000 bytes exceeds the 5000000-byte limit"


async def test_gzip_bomb_is_refused(env: Env) -> None:
    feed = env.store.add_feed(env.server.url("/bomb"))
    report = await env.poller.poll_one(feed, T0)
    assert report.error is not None and "decompression bomb" in report.error
    assert env.store.last_outcome(feed.feed_id).health.consecutive_errors == 1


async def test_gzip_and_deflate_bodies(env: Env) -> None:
    env.server.set_feed("z", fixture_bytes("rss20_full.xml"))
    for i, enc in enumerate(("gzip", "deflate")):
        feed = env.store.add_feed(env.server.url(f"/feed/z?enc={enc}&i={i}"))
        report = await env.poller.poll_one(feed, T0)
        assert report.status is PollStatus.OK and report.new == 4, enc


async def test_recoverable_malformed_feed_keeps_good_entries(env: Env) -> None:
    url = env.server.set_feed("bozo", fixture_bytes("malformed_recoverable.xml"))
    feed = env.store.add_feed(url)
    report = await env.poller.poll_one(feed, T0)
    assert report.status is PollStatus.OK and report.new == 2
    assert report.warning is not None
    titles = sorted(a.article.title for a in env.store.stored(feed.feed_id))
    assert titles == ["Вторая запись", "Первая & неэкранированная"]
    assert env.store.last_outcome(feed.feed_id).warning == report.warning


async def test_hopeless_bodies_are_clear_errors(env: Env) -> None:
    for name in ("hopeless.bin", "hopeless.html"):
        url = env.server.set_feed(name, fixture_bytes(name))
        feed = env.store.add_feed(url)
        report = await env.poller.poll_one(feed, T0)
        assert report.status is PollStatus.ERROR
        assert report.error is not None and report.error.startswith("parse error: not an RSS/Atom")
        health = env.store.last_outcome(feed.feed_id).health
        assert health.last_error == report.error
        assert env.store.stored(feed.feed_id) == []


async def test_redirect_loop(env: Env) -> None:
    feed = env.store.add_feed(env.server.url("/loop/a"))
    report = await env.poller.poll_one(feed, T0)
    assert report.error is not None and report.error.startswith("redirect loop")


async def test_redirect_limit(env: Env) -> None:
    ok = await env.poller.poll_one(env.store.add_feed(env.server.url("/chain/5")), T0)
    assert ok.status is PollStatus.OK
    too_many = await env.poller.poll_one(env.store.add_feed(env.server.url("/chain/6")), T0)
    assert too_many.error == "more than 5 redirects"


async def test_redirect_to_private_or_other_scheme_is_refused(env: Env) -> None:
    for target, message in [
        ("http://10.1.2.3/feed", "address 10.1.2.3 is not public"),
        ("http://[::1]:8080/feed", "address ::1 is not public"),
        ("http://169.254.169.254/latest/meta-data", "address 169.254.169.254 is not public"),
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
    ]:
        feed = env.store.add_feed(env.server.url("/redirect?to=") + target)
        report = await env.poller.poll_one(feed, T0)
        assert report.error is not None and report.error.startswith(message), report.error
    assert env.server.hits["/redirect"] == 4


async def test_loopback_is_refused_unless_allowed(server: FeedServer) -> None:
    url = server.set_feed("f", fixture_bytes("rss091.xml"))
    async with Fetcher(make_policy(allowed_networks=())) as fetcher:
        env = make_env(server, fetcher)
        feed = env.store.add_feed(url)
        report = await env.poller.poll_one(feed, T0)
        # A host name is checked after resolution (by the resolver the connector uses).
        named = env.store.add_feed(url.replace("127.0.0.1", "localhost"))
        named_report = await env.poller.poll_one(named, T0)
    assert report.error == "address 127.0.0.1 is not public"
    assert named_report.error is not None and "resolves to non-public address" in named_report.error
    assert server.hits["/feed/f"] == 0


async def test_encodings(env: Env) -> None:
    cases = [
        ("cp1251_declared.xml", "application/rss+xml"),
        ("cp1251_undeclared.xml", "application/rss+xml"),
        ("cp1251_misdeclared_utf8.xml", "text/xml; charset=utf-8"),
        ("koi8r_declared.xml", "application/rss+xml"),
        ("koi8r_misdeclared_cp1251.xml", "application/rss+xml"),
        ("cp1251_undeclared.xml", "text/xml; charset=koi8-r"),  # HTTP charset lies too
    ]
    for i, (name, ctype) in enumerate(cases):
        env.server.set_feed(f"{i}", fixture_bytes(name), ctype)
        feed = env.store.add_feed(env.server.url(f"/feed/{i}"))
        report = await env.poller.poll_one(feed, T0)
        assert report.status is PollStatus.OK, (name, report.error)
        [stored] = env.store.stored(feed.feed_id)
        assert stored.article.title == "В Щукине отремонтируют поликлинику", name
        assert stored.article.text.startswith("Ремонт поликлиники начнётся весной."), name
        assert env.store.last_outcome(feed.feed_id).feed_title == "Вести района Хорошёво-Мнёвники"


async def test_koi8r_from_http_charset_only(env: Env) -> None:
    body = fixture_bytes("koi8r_declared.xml").replace(b' encoding="KOI8-R"', b"")
    env.server.set_feed("k", body, "application/rss+xml; charset=koi8-r")
    feed = env.store.add_feed(env.server.url("/feed/k"))
    await env.poller.poll_one(feed, T0)
    [stored] = env.store.stored(feed.feed_id)
    assert stored.article.title == "В Щукине отремонтируют поликлинику"


async def test_atom_rss10_rss091(env: Env) -> None:
    for name, expected in [
        ("atom.xml", {"Выставка в Куркине", "Вторая запись"}),
        ("rss10.xml", {"Запись RSS 1.0"}),
        ("rss091.xml", {"Запись RSS 0.91"}),
    ]:
        url = env.server.set_feed(name, fixture_bytes(name))
        feed = env.store.add_feed(url)
        await env.poller.poll_one(feed, T0)
        assert {a.article.title for a in env.store.stored(feed.feed_id)} == expected
    atom = {a.article.identity: a.article for a in env.store.stored(1)}
    expo = atom["guid:tag:district.example,2025:expo"]
    assert expo.text == "В библиотеке открылась выставка.\n\nВход свободный."
    assert expo.published_at == datetime(2025, 1, 6, 8, 15, tzinfo=UTC)
    assert atom["guid:tag:district.example,2025:second"].published_at == datetime(
        2025, 1, 5, 8, 0, tzinfo=UTC
    )


async def test_cache_control_max_age_lengthens_interval(env: Env) -> None:
    url = env.server.set_feed("cc", fixture_bytes("rss091.xml"))
    env.server.extra_headers["cc"] = {"Cache-Control": "public, max-age=7200"}
    feed = env.store.add_feed(url)
    await env.poller.poll_one(feed, T0)
    assert env.store.last_outcome(feed.feed_id).next_poll_at == T0 + timedelta(hours=2)
    env.server.extra_headers["cc"] = {"Cache-Control": "max-age=86400"}
    await env.poller.poll_one(env.store.add_feed(url + "?x=1"), T0)
    assert env.store.last_outcome(2).next_poll_at == T0 + timedelta(hours=6)  # operator max


async def test_poll_due_and_per_host_limit(server: FeedServer) -> None:
    async with Fetcher(make_policy(per_host=2)) as fetcher:
        env = make_env(server, fetcher)
        for i in range(6):
            env.store.add_feed(server.url(f"/concurrent/{i}"))
        reports = await env.poller.poll_due(T0)
        assert [r.status for r in reports] == [PollStatus.OK] * 6
        assert server.max_in_flight == 2
        # Nothing is due right after a poll.
        assert await env.poller.poll_due(T0 + timedelta(minutes=1)) == []
        assert len(await env.poller.poll_due(T0 + timedelta(minutes=30))) == 6


async def test_global_concurrency_limit(server: FeedServer) -> None:
    async with Fetcher(make_policy(per_host=10, global_concurrency=3)) as fetcher:
        env = make_env(server, fetcher)
        for i in range(7):
            env.store.add_feed(server.url(f"/concurrent/{i}"))
        await env.poller.poll_due(T0)
    assert server.max_in_flight == 3


async def test_store_failure_does_not_escape(env: Env) -> None:
    url = env.server.set_feed("f", fixture_bytes("rss091.xml"))
    feed = env.store.add_feed(url)

    async def broken_upsert(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database is locked")

    env.store.upsert_articles = broken_upsert  # type: ignore[method-assign,assignment]
    report = await env.poller.poll_one(feed, T0)
    assert report.status is PollStatus.ERROR
    assert report.error == "internal error: RuntimeError: database is locked"
    assert env.store.last_outcome(feed.feed_id).health.consecutive_errors == 1


def understand_with_pid(article: NormalizedArticle) -> object:
    """Module-level, so a worker process can run it; says which process did."""
    if "Вторая" in article.title:
        raise RuntimeError("model not loaded")
    return {"words": len(article.text.split()), "pid": os.getpid()}


async def test_understanding_in_a_worker_process(server: FeedServer, fetcher: Fetcher) -> None:
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        env = make_env(
            server,
            fetcher,
            understand=understand_with_pid,
            executor=pool,
            understand_in_executor=True,
        )
        await env.poller.warm_up()
        server.set_feed("atom", fixture_bytes("atom.xml"), "application/atom+xml")
        feed = env.store.add_feed(server.url("/feed/atom?plain=1"))
        report = await env.poller.poll_one(feed, T0)
    finally:
        pool.shutdown()
    # The failure in the worker is reported like one in a thread: skipped, retried later.
    assert (report.new, report.skipped) == (1, 1)
    assert env.store.feeds[feed.feed_id].body_hash is None
    [stored] = env.store.stored(feed.feed_id)
    assert isinstance(stored.understanding, dict)
    assert stored.understanding["pid"] != os.getpid()
    assert stored.understanding["words"] == len(stored.article.text.split())


async def test_understanding_in_the_default_executor(server: FeedServer, fetcher: Fetcher) -> None:
    env = make_env(server, fetcher, understand_in_executor=True)  # threads: closures are fine
    url = server.set_feed("full", fixture_bytes("rss20_full.xml"))
    feed = env.store.add_feed(url)
    report = await env.poller.poll_one(feed, T0)
    assert report.new == 4
    assert sorted(env.understood) == sorted(a.article.identity for a in env.store.stored(1))
