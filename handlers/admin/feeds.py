"""/feeds: sources with their health, paged; add (/addfeed or a button), pause, resume,
remove (confirmed), poll now. A new feed is fetched once and parsed to be validated."""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.config import Settings
from bot.feeds.errors import BlockedAddressError, FeedError, HTTPStatusError, ParseError
from bot.feeds.fetch import Fetcher
from bot.feeds.poller import IngestedFeed, ingest_body
from bot.feeds.sources import CITY, Binding, FeedSource, parse_binding
from bot.services.feeds import fetch_policy
from bot.storage import Database
from bot.storage import admin as admin_repo
from bot.storage import feeds as repo
from bot.storage.users import User
from digests.region import Region
from handlers.admin.callbacks import FeedCb
from handlers.common import render, stale

__all__ = ["PAGE_SIZE", "FeedCheck", "check_feed", "router"]

PAGE_SIZE = 8
_SAMPLE_TITLES = 5


class AddFeed(StatesGroup):
    url = State()


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """The result of fetching a candidate feed once: its parsed content or why it is refused."""

    ingested: IngestedFeed | None
    problem: str | None


async def check_feed(url: str, settings: Settings, now: datetime) -> FeedCheck:
    """Fetch and parse ``url`` with the project's Fetcher and parser (real network)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return FeedCheck(None, _("This is not an http(s) address."))
    try:
        async with Fetcher(fetch_policy(settings)) as fetcher:
            result = await fetcher.fetch(url)
    except BlockedAddressError as exc:
        return FeedCheck(
            None, _("This address is not allowed (not public): {error}").format(error=str(exc))
        )
    except HTTPStatusError as exc:
        return FeedCheck(None, _("The server answered {error}.").format(error=str(exc)))
    except FeedError as exc:
        return FeedCheck(None, _("Cannot download it: {error}").format(error=str(exc)))
    if result.body is None:
        return FeedCheck(None, _("The server sent no content."))
    try:
        ingested = await asyncio.to_thread(
            ingest_body, result.body, result.charset, result.url, now
        )
    except ParseError as exc:
        return FeedCheck(
            None,
            _("This is not an RSS or Atom feed ({error}). Is it a web page?").format(
                error=str(exc)
            ),
        )
    if not ingested.articles:
        return FeedCheck(
            None, _("This is not an RSS or Atom feed with news items (no items found).")
        )
    return FeedCheck(ingested, None)


def _when(value: datetime | None, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(timezone)).strftime("%d.%m %H:%M")


def _binding_label(binding: Binding, region: Region, lang: str) -> str:
    try:
        if binding.kind.value == "okrug" and binding.slug:
            return region.okrug(binding.slug).short(lang)
        if binding.kind.value == "district" and binding.slug:
            return region.district(binding.slug).name(lang)
    except KeyError:
        return str(binding)
    return _("city")


def _status_icon(feed: repo.Feed) -> str:
    if not feed.enabled:
        return "⏸"
    return "🔴" if feed.broken else "✅"


def feed_line(feed: repo.Feed, per_day: float, region: Region, user: User) -> str:
    name = html.escape(feed.title or feed.url)
    return _(
        "{icon} #{id} {name} ({binding})\n"
        "    last success {ok}, errors in a row {errors}, {per_day} articles/day"
    ).format(
        icon=_status_icon(feed),
        id=feed.id,
        name=name,
        binding=_binding_label(feed.binding, region, user.language),
        ok=_when(feed.last_success_at, user.timezone),
        errors=feed.consecutive_errors,
        per_day=f"{per_day:.1f}",
    )


def feed_detail(feed: repo.Feed, per_day: float, region: Region, user: User) -> str:
    if not feed.enabled:
        state = _("paused")
    elif feed.broken:
        state = _("broken")
    else:
        state = _("working")
    lines = [
        _("{icon} Feed #{id}: {name}").format(
            icon=_status_icon(feed), id=feed.id, name=html.escape(feed.title or "—")
        ),
        html.escape(feed.url),
        _("Binding: {binding}").format(binding=_binding_label(feed.binding, region, user.language)),
        _("State: {state}").format(state=state),
        _("Last success: {when}").format(when=_when(feed.last_success_at, user.timezone)),
        _("Last error: {when} {error}").format(
            when=_when(feed.last_error_at, user.timezone),
            error=html.escape(feed.last_error or ""),
        ),
        _("Errors in a row: {n}").format(n=feed.consecutive_errors),
        _("Articles per day (7 days): {n}").format(n=f"{per_day:.1f}"),
        _("Next poll: {when}").format(when=_when(feed.next_poll_at, user.timezone)),
    ]
    return "\n".join(lines)


def detail_keyboard(feed: repo.Feed, page: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if feed.enabled:
        kb.button(text=_("⏸ Pause"), callback_data=FeedCb(a="pause", i=feed.id, p=page))
    else:
        kb.button(text=_("▶️ Resume"), callback_data=FeedCb(a="resume", i=feed.id, p=page))
    kb.button(text=_("🔄 Poll now"), callback_data=FeedCb(a="poll", i=feed.id, p=page))
    kb.button(text=_("🗑 Remove"), callback_data=FeedCb(a="rm", i=feed.id, p=page))
    kb.button(text=_("« Back"), callback_data=FeedCb(a="list", p=page))
    kb.adjust(2, 1, 1)
    return kb.as_markup()


router = Router(name="admin-feeds")


async def list_view(
    db: Database, clock: Clock, region: Region, user: User, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    async with db.transaction() as conn:
        feeds = await repo.list_feeds(conn)
        per_day = await repo.articles_per_day(conn, clock.now())
    pages = max(1, (len(feeds) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = feeds[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    broken = sum(1 for f in feeds if f.enabled and f.broken)
    head = _("📡 Feeds: {n}, broken {broken}. Page {page} of {pages}.").format(
        n=len(feeds), broken=broken, page=page + 1, pages=pages
    )
    lines = [head, ""]
    lines += [feed_line(f, per_day.get(f.id, 0.0), region, user) for f in shown]
    if not feeds:
        lines.append(_("No feeds yet."))
    kb = InlineKeyboardBuilder()
    for feed in shown:
        kb.button(text=f"#{feed.id}", callback_data=FeedCb(a="show", i=feed.id, p=page))
    kb.adjust(4)
    nav = InlineKeyboardBuilder()
    if page > 0:
        nav.button(text="«", callback_data=FeedCb(a="list", p=page - 1))
    if page + 1 < pages:
        nav.button(text="»", callback_data=FeedCb(a="list", p=page + 1))
    nav.button(text=_("➕ Add a feed"), callback_data=FeedCb(a="add", p=page))
    kb.attach(nav)
    return "\n".join(lines), kb.as_markup()


async def detail_view(
    db: Database, clock: Clock, region: Region, user: User, feed_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup] | None:
    async with db.transaction() as conn:
        feed = await repo.get_feed(conn, feed_id)
        per_day = await repo.articles_per_day(conn, clock.now())
    if feed is None:
        return None
    return feed_detail(feed, per_day.get(feed.id, 0.0), region, user), detail_keyboard(feed, page)


@router.message(Command("feeds"))
async def show_feeds(
    message: Message,
    command: CommandObject,
    db: Database,
    clock: Clock,
    region: Region,
    user: User,
) -> None:
    arg = (command.args or "").strip()
    page = int(arg) - 1 if arg.isdigit() else 0
    text, markup = await list_view(db, clock, region, user, page)
    await message.answer(text, reply_markup=markup)


async def add_feed(
    message: Message,
    text: str,
    db: Database,
    clock: Clock,
    settings: Settings,
    region: Region,
    user: User,
) -> bool:
    """Validate and add; returns False (with the reason shown) if refused."""
    url, _sep, rest = text.strip().partition(" ")
    binding = CITY
    if rest.strip():
        try:
            binding = parse_binding(rest)
        except ValueError as exc:
            await message.answer(
                _("Unknown binding: {error}. Use city, an okrug or a district.").format(
                    error=html.escape(str(exc))
                )
            )
            return False
    if not url:
        await message.answer(_("Send the feed address: /addfeed URL [okrug or district]"))
        return False
    now = clock.now()
    async with db.transaction() as conn:
        existing = await repo.get_feed_by_url(conn, url)
    if existing is not None and existing.enabled:
        await message.answer(_("This feed is already on the list as #{id}.").format(id=existing.id))
        return False
    await message.answer(_("Checking {url}…").format(url=html.escape(url)))
    check = await check_feed(url, settings, now)
    if check.ingested is None:
        async with db.transaction() as conn:
            await admin_repo.audit(
                conn, user.id, "feed.add_refused", now, url=url, reason=check.problem
            )
        await message.answer(
            _("❌ Feed not added. {reason}").format(reason=html.escape(check.problem or ""))
        )
        return False
    ingested = check.ingested
    source = FeedSource(url=url, binding=binding, name=ingested.title or url)
    async with db.transaction() as conn:
        feed = await repo.add_feed(conn, source, now, origin="admin")
        await admin_repo.audit(
            conn, user.id, "feed.add", now, feed_id=feed.id, url=url, binding=str(binding)
        )
    titles = "\n".join(f"• {html.escape(a.title)}" for a in ingested.articles[:_SAMPLE_TITLES])
    await message.answer(
        _(
            "✅ Feed #{id} added: {name} ({binding}), {n} items now. The first ones:\n{titles}"
        ).format(
            id=feed.id,
            name=html.escape(feed.title),
            binding=_binding_label(binding, region, user.language),
            n=len(ingested.articles),
            titles=titles,
        )
    )
    return True


@router.message(Command("addfeed"))
async def add_command(
    message: Message,
    command: CommandObject,
    db: Database,
    clock: Clock,
    settings: Settings,
    region: Region,
    user: User,
) -> None:
    if not command.args:
        await message.answer(_("Send the feed address: /addfeed URL [okrug or district]"))
        return
    await add_feed(message, command.args, db, clock, settings, region, user)


@router.message(Command("cancel"), StateFilter(AddFeed.url))
async def cancel_add(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled."))


@router.message(AddFeed.url, F.text)
async def got_url(
    message: Message,
    state: FSMContext,
    db: Database,
    clock: Clock,
    settings: Settings,
    region: Region,
    user: User,
) -> None:
    text = message.text or ""
    if text.startswith("/"):
        await message.answer(_("Send the feed address, or /cancel."))
        return
    if await add_feed(message, text, db, clock, settings, region, user):
        await state.clear()
    else:
        await message.answer(_("Send another address, or /cancel."))


@router.callback_query(FeedCb.filter())
async def feed_button(
    callback: CallbackQuery,
    callback_data: FeedCb,
    state: FSMContext,
    db: Database,
    clock: Clock,
    region: Region,
    user: User,
) -> None:
    action, feed_id, page = callback_data.a, callback_data.i, callback_data.p
    now = clock.now()
    if action == "list":
        await callback.answer()
        await render(callback, *await list_view(db, clock, region, user, page))
        return
    if action == "add":
        await state.set_state(AddFeed.url)
        await callback.answer()
        await render(
            callback,
            _(
                "Send the feed address, optionally followed by its okrug or district, "
                "e.g. «https://example.ru/rss.xml Хамовники». /cancel to stop."
            ),
        )
        return
    async with db.transaction() as conn:
        feed = await repo.get_feed(conn, feed_id)
    if feed is None:
        await stale(callback)
        return
    if action == "show":
        view = await detail_view(db, clock, region, user, feed_id, page)
        await callback.answer()
        if view is not None:
            await render(callback, *view)
        return
    if action == "rm":
        kb = InlineKeyboardBuilder()
        kb.button(text=_("🗑 Yes, remove"), callback_data=FeedCb(a="rmok", i=feed_id, p=page))
        kb.button(text=_("Keep it"), callback_data=FeedCb(a="show", i=feed_id, p=page))
        await callback.answer()
        await render(
            callback,
            _("Remove feed #{id} «{name}» and all its articles? This cannot be undone.").format(
                id=feed.id, name=html.escape(feed.title or feed.url)
            ),
            kb.as_markup(),
        )
        return
    if action not in ("pause", "resume", "poll", "rmok"):
        await stale(callback)
        return
    async with db.transaction() as conn:
        if action == "pause":
            await repo.set_enabled(conn, feed_id, False, now)
            answer = _("Paused")
        elif action == "resume":
            await repo.set_enabled(conn, feed_id, True, now)
            answer = _("Resumed")
        elif action == "poll":
            await repo.poll_now(conn, feed_id, now)
            answer = _("It will be polled in the next cycle")
        else:
            await repo.remove_feed(conn, feed_id)
            answer = _("Removed")
        action_name = "remove" if action == "rmok" else action
        await admin_repo.audit(
            conn, user.id, f"feed.{action_name}", now, feed_id=feed_id, url=feed.url
        )
    await callback.answer(answer)
    if action == "rmok":
        await render(callback, *await list_view(db, clock, region, user, page))
        return
    view = await detail_view(db, clock, region, user, feed_id, page)
    if view is not None:
        await render(callback, *view)
