"""A fake Telegram Bot API server for tests: the real aiogram ``Bot`` talks to it over HTTP.

Use it to test a bot (this one, or a deployment of it) without Telegram: it keeps chats,
messages, updates and callback queries in memory, checks what Telegram checks, answers
with Telegram's errors, and can behave like the real server in time.

In a test
---------
::

    from bot.testing import FakeTelegram, run_polling

    async with FakeTelegram() as fake:
        bot = fake.make_bot()                      # aiogram Bot pointed at the fake
        user = fake.user(1001, "Анна", language_code="ru")
        async with run_polling(dp, bot, db=db):    # the real Dispatcher, in a task
            await user.send("/start")
            [reply] = await user.wait_for_messages()
            assert reply.entity_texts("bold") == ["Здравствуйте"]
            query = await user.press(reply, text="Подписаться")
            assert (await query.wait_answered())["text"] == "Готово"

Users act with ``send`` (text; commands get their entities), ``send_message`` (any
content: entities, a photo with a caption, a forwarded channel post), ``press`` (a button
of a message, as currently edited), ``send_callback`` (any callback data, as a modified
client could send), ``block``/``unblock`` (with the ``my_chat_member`` update).
``fake.group(-100..., "title")`` is a group chat. Inspect with ``fake.calls(method)``
(every request and answer), ``fake.sent_messages(chat_id)`` (current state: edits applied,
``raw_text`` is what the bot passed), ``fake.message(chat, id)``, ``fake.pending_updates``;
wait for anything with ``await fake.wait_for(predicate)``, which re-checks on every change.

What it checks like Telegram: HTML ``parse_mode`` with tdlib's rules and error texts
(``bot.testing.html``; by default a stray ``&`` is an error, which Telegram forgives:
``strict_html=False`` for the exact behaviour), 4096 characters of visible text (1024 for
captions) in UTF-16 units, inline keyboards (64-byte callback data, one action per
button), "message is not modified", answered-twice callback queries, 403 for a user who
blocked the bot (``fake.block(id)``) or was deleted (``fake.deactivate(id)``), 400 "chat
not found" for unknown groups and ``fake.mark_missing(id)`` (with
``known_chats_only=True``, for every user not created with ``fake.user``), and 409
Conflict for a second long poll or getUpdates while a webhook is set.

In time
-------
By default the fake answers at once and has no flood limits, so unit tests stay quick.
Telegram answers in 50-300 ms from a real server and refuses floods::

    FakeTelegram(
        latency=Latency(0.15, jitter=0.05),            # every answer: 100-200 ms
        method_latency={"getUpdates": Latency(0.05)},  # a method's own
        rate_limits=RateLimits.telegram(),             # 30/s, 1/s per chat (bursts of 3),
    )                                                  # 20/min per group -> 429 retry_after

Half the latency passes before the request is handled and half before the answer leaves,
so a client that gives up late has had its message delivered anyway. ``set_latency`` and
``set_rate_limits`` change them on a running fake. Faults for the next calls of a method
(``"*"`` for any): ``fail_next(method, count, error_code=429, retry_after=3)`` (an error
answer, nothing sent), ``lose_answers(method)`` (handled, then the connection closes
unanswered) and ``hang_answers(method)`` (handled, no answer ever: the client times out).

Webhooks
--------
``setWebhook`` (url, secret_token, allowed_updates, max_connections,
drop_pending_updates), ``deleteWebhook`` and ``getWebhookInfo`` (pending_update_count,
last_error_date and last_error_message) work as on Telegram. While a webhook is set each
update is POSTed to it as JSON with the ``X-Telegram-Bot-Api-Secret-Token`` header, one
at a time per chat and in order (chats in parallel, up to max_connections); a non-2xx
answer or a connection error is retried with a doubling delay (``WebhookRetry``; the
answer's ``Retry-After`` is obeyed) while later updates of that chat wait. A method call
in a 2xx answer's JSON body is run, as Telegram does for webhook replies.

In its own process
------------------
For benchmarks, several bot processes, or a deployment under test::

    python -m bot.testing serve --port 8081 --latency 0.15:0.05 --telegram-limits
    TELEGRAM_API_BASE=http://127.0.0.1:8081 \
        BOT_TOKEN=123456789:AAFakeTokenForTestsOnly-abcdefghijklmn newsbot run

``serve --help`` lists the options (``--method-latency getMe=0.3``, ``--global-rate``,
``--per-chat-rate``, ``--known-chats-only``, ...). Beside the Bot API the process serves a
control API under ``/fake`` (``bot.testing.control``: create users and groups, act as a
user, read what each chat received in order, set faults, latency and limits, counters),
with a Python client::

    from bot.testing.client import FakeTelegramClient

    async with FakeTelegramClient("http://127.0.0.1:8081") as fake:
        await fake.create_user(1001, "Анна")
        await fake.send(1001, "/start")
        [reply] = await fake.wait_for_chat_messages(1001)
        await fake.press(1001, reply.message_id, text="Подписаться")
        await fake.set_chat_error(1002, "blocked")
        await fake.fail_next("sendMessage", error_code=429, retry_after=5)
        print(await fake.stats())

``bot.testing.process.FakeTelegramProcess`` starts and stops such a process from Python
(``async with FakeTelegramProcess(latency=0.1) as server: server.base_url,
server.client``), and ``bot.testing.report`` compares what each chat should have received
with what it did (``compare_delivery``: lost, duplicated, out of order).

Where it is not Telegram
------------------------
Only the methods this bot uses are served (getMe, getUpdates, webhooks, commands and
profile texts, getChat, sendChatAction, sendMessage, sendPhoto, copyMessage,
forwardMessage, edits, deletions, answerCallbackQuery); others answer 404 unless added
with ``fake.add_method``. Markdown is not parsed (the text is kept as is), inline
messages are not supported, photos are not stored (only file ids), any token is accepted
unless ``accept_any_token=False``, any positive chat id is an existing private chat
unless ``known_chats_only=True``, webhooks may be plain ``http://`` on 127.0.0.1, there is
one webhook per server rather than per token, and webhook retries start at 0.1 s instead
of about a second.

Modules: ``server`` (FakeTelegram), ``state`` and ``chats`` (what it knows), ``api``
(the HTTP layer), ``methods/`` (one module per group of methods), ``validation`` and
``html`` (Telegram's checks), ``flood`` and ``timing`` (limits, latency, faults),
``webhook`` (delivery), ``actors`` (FakeUser, FakeChat), ``polling`` (run_polling),
``control``, ``client``, ``cli``, ``process``, ``report``.
"""

from bot.testing.actors import FakeChat, FakeUser
from bot.testing.errors import ButtonNotFoundError, FakeApiError, WaitTimeoutError
from bot.testing.flood import RateLimits
from bot.testing.html import EntityParseError, parse_html, utf16_len
from bot.testing.polling import PollingError, PollingHandle, run_polling
from bot.testing.records import Call, CallbackQueryRecord, InlineButton, StoredMessage
from bot.testing.server import FakeTelegram
from bot.testing.state import DEFAULT_TOKEN, MethodHandler
from bot.testing.timing import Latency
from bot.testing.webhook import SECRET_HEADER, WebhookRetry

__all__ = [
    "DEFAULT_TOKEN",
    "SECRET_HEADER",
    "ButtonNotFoundError",
    "Call",
    "CallbackQueryRecord",
    "EntityParseError",
    "FakeApiError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "InlineButton",
    "Latency",
    "MethodHandler",
    "PollingError",
    "PollingHandle",
    "RateLimits",
    "StoredMessage",
    "WaitTimeoutError",
    "WebhookRetry",
    "parse_html",
    "run_polling",
    "utf16_len",
]
