from __future__ import annotations

from bot.services import ServiceSet
from bot.services.subscriptions import toggle_topic
from digests.understanding import TOPICS, Place

KHAMOVNIKI = Place("district", "khamovniki")
TSAO = Place("okrug", "tsao")


async def test_subscribe_and_unsubscribe_say_whether_anything_changed(
    services: ServiceSet,
) -> None:
    subscriptions = services.subscriptions
    await services.accounts.ensure(1, 1, "ru")
    first = await subscriptions.subscribe(1, KHAMOVNIKI)
    assert first.changed and first.subscribed
    assert first.subscriptions.districts == {"khamovniki"}
    again = await subscriptions.subscribe(1, KHAMOVNIKI)
    assert not again.changed and again.subscribed
    okrug = await subscriptions.subscribe(1, TSAO)
    assert okrug.subscriptions.okrugs == {"tsao"}

    gone = await subscriptions.unsubscribe(1, KHAMOVNIKI)
    assert gone.changed and not gone.subscribed and gone.subscriptions.districts == set()
    assert not (await subscriptions.unsubscribe(1, KHAMOVNIKI)).changed
    assert (await subscriptions.get(1)).okrugs == {"tsao"}


async def test_toggle_follows_then_unfollows(services: ServiceSet) -> None:
    await services.accounts.ensure(1, 1, "ru")
    on = await services.subscriptions.toggle(1, TSAO)
    assert on.subscribed and on.subscriptions.okrugs == {"tsao"}
    off = await services.subscriptions.toggle(1, TSAO)
    assert not off.subscribed and off.subscriptions.is_empty


def test_toggle_topic_rules() -> None:
    everything = frozenset[str]()
    eleven = toggle_topic(everything, "sport")
    assert eleven == frozenset(TOPICS) - {"sport"}
    assert toggle_topic(eleven, "sport") == frozenset()  # all again: stored as empty
    assert toggle_topic(frozenset({"sport"}), "sport") is None  # the last one stays
    assert toggle_topic(frozenset({"sport"}), "health") == {"sport", "health"}


async def test_topics_keep_at_least_one(services: ServiceSet) -> None:
    subscriptions = services.subscriptions
    await services.accounts.ensure(1, 1, "ru")
    for slug in TOPICS[1:]:
        assert await subscriptions.toggle_topic(1, slug) is not None
    assert (await subscriptions.get(1)).topics == {TOPICS[0]}
    assert await subscriptions.toggle_topic(1, TOPICS[0]) is None
    assert (await subscriptions.get(1)).topics == {TOPICS[0]}
    assert (await subscriptions.all_topics(1)).topics == set()


async def test_stop_unsubscribes_and_pauses_but_keeps_topics(services: ServiceSet) -> None:
    subscriptions = services.subscriptions
    await services.accounts.ensure(1, 1, "ru")
    await subscriptions.subscribe(1, KHAMOVNIKI)
    await subscriptions.subscribe(1, TSAO)
    await subscriptions.toggle_topic(1, "sport")
    user = await subscriptions.stop(1)
    assert user.paused and user.next_delivery_at is None
    subs = await subscriptions.get(1)
    assert subs.is_empty and len(subs.topics) == len(TOPICS) - 1
