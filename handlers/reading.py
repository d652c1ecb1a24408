"""Reading on demand: /digest (the digest you would get now) and /search (recent stories)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date

from bot.services.accounts import User
from bot.services.digests import DigestService
from bot.services.search import PAGE_SIZE, SearchResults, SearchService
from digests.composition import safe_href, trim_text
from handlers.common import has_user, stale
from handlers.common import render as show

__all__ = ["SearchPage", "router"]

MAX_QUERY = 200


class SearchPage(CallbackData, prefix="q"):
    """A page of the user's last search; the words themselves live in FSM data."""

    page: int
    everywhere: bool


def search_view(results: SearchResults, user: User) -> tuple[str, InlineKeyboardMarkup]:
    page, everywhere = results.page, results.everywhere
    scope = _("everywhere") if everywhere else _("in your districts")
    found = ngettext(
        "{n} story in the last 7 days {scope}",
        "{n} stories in the last 7 days {scope}",
        results.total,
    ).format(n=results.total, scope=scope)
    lines = [
        html.bold(html.quote(_("Search: «{words}»").format(words=results.words))),
        html.quote(found),
    ]
    tz = ZoneInfo(user.timezone)
    for number, hit in enumerate(results.hits, start=page * PAGE_SIZE + 1):
        title = html.quote(hit.title)
        href = safe_href(hit.url)  # escaped, and only http(s)
        link = html.link(title, href) if href else title
        when = format_date(hit.published_at.astimezone(tz), format="d MMMM", locale=user.language)
        lines.append(f"\n{number}. {link} {html.italic('· ' + html.quote(when))}")
        if hit.summary:
            lines.append(html.quote(trim_text(hit.summary, 200)))
    if not results.hits:
        lines.append("\n" + html.quote(_("Nothing found. Try other words.")))
    keyboard = InlineKeyboardBuilder()
    nav = 0
    if page > 0:
        keyboard.button(text="◀", callback_data=SearchPage(page=page - 1, everywhere=everywhere))
        nav += 1
    if results.has_next:
        keyboard.button(text="▶", callback_data=SearchPage(page=page + 1, everywhere=everywhere))
        nav += 1
    if results.can_narrow:
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
async def digest(message: Message, user: User, digests: DigestService) -> None:
    ready = await digests.on_demand(user)
    if ready is None:
        await message.answer(
            _("You don't follow any district yet. Choose some with /districts first.")
        )
        return
    for part in ready.messages:
        await message.answer(part)


@router.message(Command("search"))
async def search_command(
    message: Message,
    command: CommandObject,
    user: User,
    search: SearchService,
    state: FSMContext,
) -> None:
    words = " ".join((command.args or "").split())[:MAX_QUERY]
    if not words:
        await message.answer(_("Send /search with some words, for example: /search school repair"))
        return
    await state.update_data(search_words=words)
    text, markup = search_view(await search.search(user.id, words), user)
    await message.answer(text, reply_markup=markup)


@router.callback_query(SearchPage.filter(F.page >= 0))
async def turn_page(
    callback: CallbackQuery,
    callback_data: SearchPage,
    user: User,
    search: SearchService,
    state: FSMContext,
) -> None:
    words = (await state.get_data()).get("search_words")
    if not isinstance(words, str) or not words:
        await stale(callback)  # the search was forgotten (restart, other search, old message)
        return
    results = await search.search(
        user.id, words, page=callback_data.page, everywhere=callback_data.everywhere
    )
    await show(callback, *search_view(results, user))
    await callback.answer()
