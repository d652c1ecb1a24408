"""/feeds: sources with their health, paged; add (/addfeed or a button), pause, resume,
remove (confirmed), poll now. A new feed is fetched once and parsed to be validated."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.feeds.sources import CITY, Binding, parse_binding
from bot.services.accounts import User
from bot.services.feeds import (
    Feed,
    FeedAction,
    FeedCheck,
    FeedProblem,
    FeedService,
    FeedStatus,
)
from digests.region import Region
from handlers.admin.callbacks import FeedButton, FeedCb
from handlers.common import render, stale

__all__ = ["PAGE_SIZE", "router"]

PAGE_SIZE = 8

# The buttons that change a feed.
_ACTIONS = {
    FeedButton.PAUSE: FeedAction.PAUSE,
    FeedButton.RESUME: FeedAction.RESUME,
    FeedButton.POLL: FeedAction.POLL,
    FeedButton.REMOVE: FeedAction.REMOVE,
}


class AddFeed(StatesGroup):
    url = State()


def problem_text(check: FeedCheck) -> str:
    """Why a feed was refused, in the admin's language."""
    error = check.detail
    if check.problem is FeedProblem.NOT_HTTP:
        return _("This is not an http(s) address.")
    if check.problem is FeedProblem.BLOCKED:
        return _("This address is not allowed (not public): {error}").format(error=error)
    if check.problem is FeedProblem.HTTP_STATUS:
        return _("The server answered {error}.").format(error=error)
    if check.problem is FeedProblem.UNREACHABLE:
        return _("Cannot download it: {error}").format(error=error)
    if check.problem is FeedProblem.EMPTY:
        return _("The server sent no content.")
    if check.problem is FeedProblem.NOT_A_FEED:
        return _("This is not an RSS or Atom feed ({error}). Is it a web page?").format(error=error)
    if check.problem is FeedProblem.STOPPED:
        return _("Reading this feed was stopped: {error}.").format(error=error)
    if check.problem is FeedProblem.UNREADABLE:
        return _("Cannot read this feed: {error}").format(error=error)
    return _("This is not an RSS or Atom feed with news items (no items found).")


def _when(value: datetime | None, timezone: str) -> str:
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


def _status_icon(feed: Feed) -> str:
    if not feed.enabled:
        return "⏸"
    return "🔴" if feed.broken else "✅"


def feed_line(feed: Feed, per_day: float, region: Region, user: User) -> str:
    name = html.quote(feed.title or feed.url)
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


def feed_detail(feed: Feed, per_day: float, region: Region, user: User) -> str:
    if not feed.enabled:
        state = _("paused")
    elif feed.broken:
        state = _("broken")
    else:
        state = _("working")
    lines = [
        _("{icon} Feed #{id}: {name}").format(
            icon=_status_icon(feed), id=feed.id, name=html.quote(feed.title or "—")
        ),
        html.quote(feed.url),
        _("Binding: {binding}").format(binding=_binding_label(feed.binding, region, user.language)),
        _("State: {state}").format(state=state),
        _("Last success: {when}").format(when=_when(feed.last_success_at, user.timezone)),
        _("Last error: {when} {error}").format(
            when=_when(feed.last_error_at, user.timezone),
            error=html.quote(feed.last_error or ""),
        ),
        _("Errors in a row: {n}").format(n=feed.consecutive_errors),
        _("Articles per day (7 days): {n}").format(n=f"{per_day:.1f}"),
        _("Next poll: {when}").format(when=_when(feed.next_poll_at, user.timezone)),
    ]
    return "\n".join(lines)


def detail_keyboard(feed: Feed, page: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if feed.enabled:
        kb.button(
            text=_("⏸ Pause"),
            callback_data=FeedCb(action=FeedButton.PAUSE, feed_id=feed.id, page=page),
        )
    else:
        kb.button(
            text=_("▶️ Resume"),
            callback_data=FeedCb(action=FeedButton.RESUME, feed_id=feed.id, page=page),
        )
    kb.button(
        text=_("🔄 Poll now"),
        callback_data=FeedCb(action=FeedButton.POLL, feed_id=feed.id, page=page),
    )
    kb.button(
        text=_("🗑 Remove"),
        callback_data=FeedCb(action=FeedButton.ASK_REMOVE, feed_id=feed.id, page=page),
    )
    kb.button(text=_("« Back"), callback_data=FeedCb(action=FeedButton.LIST, page=page))
    kb.adjust(2, 1, 1)
    return kb.as_markup()


router = Router(name="admin-feeds")


def list_view(
    statuses: list[FeedStatus], region: Region, user: User, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    pages = max(1, (len(statuses) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = statuses[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    broken = sum(1 for s in statuses if s.feed.enabled and s.feed.broken)
    head = _("📡 Feeds: {n}, broken {broken}. Page {page} of {pages}.").format(
        n=len(statuses), broken=broken, page=page + 1, pages=pages
    )
    lines = [head, ""]
    lines += [feed_line(s.feed, s.articles_per_day, region, user) for s in shown]
    if not statuses:
        lines.append(_("No feeds yet."))
    kb = InlineKeyboardBuilder()
    for status in shown:
        feed_id = status.feed.id
        kb.button(
            text=f"#{feed_id}",
            callback_data=FeedCb(action=FeedButton.SHOW, feed_id=feed_id, page=page),
        )
    kb.adjust(4)
    nav = InlineKeyboardBuilder()
    if page > 0:
        nav.button(text="«", callback_data=FeedCb(action=FeedButton.LIST, page=page - 1))
    if page + 1 < pages:
        nav.button(text="»", callback_data=FeedCb(action=FeedButton.LIST, page=page + 1))
    nav.button(text=_("➕ Add a feed"), callback_data=FeedCb(action=FeedButton.ADD, page=page))
    kb.attach(nav)
    return "\n".join(lines), kb.as_markup()


def detail_view(
    status: FeedStatus, region: Region, user: User, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    return (
        feed_detail(status.feed, status.articles_per_day, region, user),
        detail_keyboard(status.feed, page),
    )


@router.message(Command("feeds"))
async def show_feeds(
    message: Message, command: CommandObject, feeds: FeedService, region: Region, user: User
) -> None:
    arg = (command.args or "").strip()
    page = int(arg) - 1 if arg.isdigit() else 0
    text, markup = list_view(await feeds.statuses(), region, user, page)
    await message.answer(text, reply_markup=markup)


async def _add(message: Message, text: str, feeds: FeedService, region: Region, user: User) -> bool:
    """Validate and add; returns False (with the reason shown) if refused."""
    url, _sep, rest = text.strip().partition(" ")
    binding = CITY
    if rest.strip():
        try:
            binding = parse_binding(rest, region)
        except ValueError as exc:
            await message.answer(
                _("Unknown binding: {error}. Use city, an okrug or a district.").format(
                    error=html.quote(str(exc))
                )
            )
            return False
    if not url:
        await message.answer(_("Send the feed address: /addfeed URL [okrug or district]"))
        return False
    existing = await feeds.listed(url)
    if existing is not None:
        await message.answer(_("This feed is already on the list as #{id}.").format(id=existing.id))
        return False
    await message.answer(_("Checking {url}…").format(url=html.quote(url)))
    added = await feeds.add(url, binding, user.id)
    if added.feed is None:
        await message.answer(
            _("❌ Feed not added. {reason}").format(reason=html.quote(problem_text(added.check)))
        )
        return False
    titles = "\n".join(f"• {html.quote(title)}" for title in added.titles)
    await message.answer(
        _(
            "✅ Feed #{id} added: {name} ({binding}), {n} items now. The first ones:\n{titles}"
        ).format(
            id=added.feed.id,
            name=html.quote(added.feed.title),
            binding=_binding_label(binding, region, user.language),
            n=added.items,
            titles=titles,
        )
    )
    return True


@router.message(Command("addfeed"))
async def add_command(
    message: Message, command: CommandObject, feeds: FeedService, region: Region, user: User
) -> None:
    if not command.args:
        await message.answer(_("Send the feed address: /addfeed URL [okrug or district]"))
        return
    await _add(message, command.args, feeds, region, user)


@router.message(Command("cancel"), StateFilter(AddFeed.url))
async def cancel_add(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled."))


@router.message(AddFeed.url, F.text)
async def got_url(
    message: Message, state: FSMContext, feeds: FeedService, region: Region, user: User
) -> None:
    text = message.text or ""
    if text.startswith("/"):
        await message.answer(_("Send the feed address, or /cancel."))
        return
    if await _add(message, text, feeds, region, user):
        await state.clear()
    else:
        await message.answer(_("Send another address, or /cancel."))


@router.callback_query(FeedCb.filter())
async def feed_button(
    callback: CallbackQuery,
    callback_data: FeedCb,
    state: FSMContext,
    feeds: FeedService,
    region: Region,
    user: User,
) -> None:
    action, feed_id, page = callback_data.action, callback_data.feed_id, callback_data.page
    if action is FeedButton.LIST:
        await callback.answer()
        await render(callback, *list_view(await feeds.statuses(), region, user, page))
        return
    if action is FeedButton.ADD:
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
    status = await feeds.status(feed_id)
    if status is None:
        await stale(callback)
        return
    feed = status.feed
    if action is FeedButton.SHOW:
        await callback.answer()
        await render(callback, *detail_view(status, region, user, page))
        return
    if action is FeedButton.ASK_REMOVE:
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("🗑 Yes, remove"),
            callback_data=FeedCb(action=FeedButton.REMOVE, feed_id=feed_id, page=page),
        )
        kb.button(
            text=_("Keep it"),
            callback_data=FeedCb(action=FeedButton.SHOW, feed_id=feed_id, page=page),
        )
        await callback.answer()
        await render(
            callback,
            _("Remove feed #{id} «{name}» and all its articles? This cannot be undone.").format(
                id=feed.id, name=html.quote(feed.title or feed.url)
            ),
            kb.as_markup(),
        )
        return
    change = _ACTIONS.get(action)
    if change is None:
        await stale(callback)
        return
    if await feeds.change(feed_id, change, user.id) is None:
        await stale(callback)  # removed meanwhile
        return
    await callback.answer(_action_done(change))
    if change is FeedAction.REMOVE:
        await render(callback, *list_view(await feeds.statuses(), region, user, page))
        return
    status = await feeds.status(feed_id)
    if status is not None:
        await render(callback, *detail_view(status, region, user, page))


def _action_done(action: FeedAction) -> str:
    if action is FeedAction.PAUSE:
        return _("Paused")
    if action is FeedAction.RESUME:
        return _("Resumed")
    if action is FeedAction.POLL:
        return _("It will be polled in the next cycle")
    return _("Removed")
