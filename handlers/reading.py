"""Reading on demand: /digest (the digest you would get now) and /search (recent stories)."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date

from bot.clock import Clock
from bot.config import Settings
from bot.digesting import digest_request, render, render_nothing_new, user_digest
from bot.storage import Database
from bot.storage import search as search_repo
from bot.storage import users as users_repo
from bot.storage.users import Subscriptions, User
from digests.region import Region
from digests.render import safe_href, trim_text
from digests.understanding import get_analyzer
from handlers.common import has_user, stale
from handlers.common import render as show

__all__ = ["SearchPage", "router"]

ON_DEMAND_LOOKBACK = timedelta(hours=24)
MAX_LOOKBACK = timedelta(days=7)
SEARCH_WINDOW = timedelta(days=7)
PAGE_SIZE = 5
MAX_QUERY = 200


class SearchPage(CallbackData, prefix="q"):
    """A page of the user's last search; the words themselves live in FSM data."""

    page: int
    everywhere: bool


def _covered_districts(subs: Subscriptions, region: Region) -> set[str]:
    covered = set(subs.districts)
    for okrug in subs.okrugs:
        covered.update(d.slug for d in region.districts_of(okrug))
    return covered


async def _search_view(
    db: Database,
    region: Region,
    user: User,
    words: str,
    now: datetime,
    page: int,
    everywhere: bool,
) -> tuple[str, InlineKeyboardMarkup]:
    async with db.transaction() as conn:
        subs = await users_repo.get_subscriptions(conn, user.id)
        everywhere = everywhere or subs.is_empty
        terms = get_analyzer().lemmas_for_search(words).split()
        result = await search_repo.search_stories(
            conn,
            terms,
            since=now - SEARCH_WINDOW,
            districts=None if everywhere else _covered_districts(subs, region),
            limit=PAGE_SIZE,
            offset=page * PAGE_SIZE,
        )
    scope = _("everywhere") if everywhere else _("in your districts")
    lines = [
        "<b>" + html.escape(_("Search: «{words}»").format(words=words), quote=False) + "</b>",
        html.escape(
            ngettext(
                "{n} story in the last 7 days {scope}",
                "{n} stories in the last 7 days {scope}",
                result.total,
            ).format(n=result.total, scope=scope),
            quote=False,
        ),
    ]
    tz = ZoneInfo(user.timezone)
    for number, hit in enumerate(result.hits, start=page * PAGE_SIZE + 1):
        title = html.escape(hit.title, quote=False)
        href = safe_href(hit.url)
        link = f'<a href="{href}">{title}</a>' if href else title
        when = format_date(hit.published_at.astimezone(tz), format="d MMMM", locale=user.language)
        lines.append(f"\n{number}. {link} <i>· {html.escape(when)}</i>")
        if hit.summary:
            lines.append(html.escape(trim_text(hit.summary, 200), quote=False))
    if not result.hits:
        lines.append("\n" + html.escape(_("Nothing found. Try other words."), quote=False))
    keyboard = InlineKeyboardBuilder()
    nav = 0
    if page > 0:
        keyboard.button(text="◀", callback_data=SearchPage(page=page - 1, everywhere=everywhere))
        nav += 1
    if (page + 1) * PAGE_SIZE < result.total:
        keyboard.button(text="▶", callback_data=SearchPage(page=page + 1, everywhere=everywhere))
        nav += 1
    if not subs.is_empty:
        keyboard.button(
            text=_("Only my districts") if everywhere else _("Search everywhere"),
            callback_data=SearchPage(page=0, everywhere=not everywhere),
        )
    keyboard.adjust(*([nav] if nav else []), 1)
    return "\n".join(lines), keyboard.as_markup()


router = Router(name="reading")
router.message.filter(has_user)
router.callback_query.filter(has_user)


@router.message(Command("digest"))
async def digest(
    message: Message, user: User, db: Database, clock: Clock, settings: Settings
) -> None:
    now = clock.now()
    async with db.transaction() as conn:
        subs = await users_repo.get_subscriptions(conn, user.id)
        if subs.is_empty:
            await message.answer(
                _("You don't follow any district yet. Choose some with /districts first.")
            )
            return
        start = max(user.last_digest_at or now - ON_DEMAND_LOOKBACK, now - MAX_LOOKBACK)
        request = digest_request(subs, user.language, start, now, cap=settings.digest_cap)
        built = await user_digest(conn, request)
    if built.is_empty:
        await message.answer(render_nothing_new(request, user.timezone, now))
        return
    for part in render(built, user.timezone, now):
        await message.answer(part)


@router.message(Command("search"))
async def search(
    message: Message,
    command: CommandObject,
    user: User,
    db: Database,
    clock: Clock,
    region: Region,
    state: FSMContext,
) -> None:
    words = " ".join((command.args or "").split())[:MAX_QUERY]
    if not words:
        await message.answer(_("Send /search with some words, for example: /search school repair"))
        return
    await state.update_data(search_words=words)
    text, markup = await _search_view(db, region, user, words, clock.now(), 0, False)
    await message.answer(text, reply_markup=markup)


@router.callback_query(SearchPage.filter(F.page >= 0))
async def turn_page(
    callback: CallbackQuery,
    callback_data: SearchPage,
    user: User,
    db: Database,
    clock: Clock,
    region: Region,
    state: FSMContext,
) -> None:
    words = (await state.get_data()).get("search_words")
    if not isinstance(words, str) or not words:
        await stale(callback)  # the search was forgotten (restart, other search, old message)
        return
    text, markup = await _search_view(
        db, region, user, words, clock.now(), callback_data.page, callback_data.everywhere
    )
    await show(callback, text, markup)
    await callback.answer()
