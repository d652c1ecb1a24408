"""Every button's callback data fits Telegram's 64 bytes: for each factory, the packed data
with the longest value every field can take."""

from __future__ import annotations

import enum
import zoneinfo
from collections.abc import Iterable

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.services.broadcast_progress import BroadcastCb
from digests.region import load_region
from digests.understanding import TOPICS
from handlers.admin.callbacks import AdminCb, BroadcastStepCb, FeedCb
from handlers.callbacks import PickCb, PrivacyCb, SetCb, SetupCb, SubCb, TopicCb
from handlers.reading import SearchPage

LIMIT = 64
BIGGEST_ID = 2**63 - 1  # a database id or a Telegram user id, stored as BIGINT

_region = load_region("moscow")
PLACES = [d.slug for d in _region.districts] + [o.slug for o in _region.okrugs]
MINUTES = [str(m) for m in range(24 * 60)]

# What the string fields can hold; a new string field must be added here.
STRING_VALUES: dict[tuple[type[CallbackData], str], Iterable[str]] = {
    (PickCb, "slug"): PLACES,
    (TopicCb, "slug"): TOPICS,
    (SetCb, "value"): [
        *("main", "time", "tz", "mode", "wd", "daily", "instant", "ru", "en", "0", "1"),
        *MINUTES,
        *zoneinfo.available_timezones(),  # any zone, though buttons offer a dozen
    ],
    (SubCb, "slug"): PLACES,
    (SetupCb, "value"): ["ru", "en"],
    (BroadcastStepCb, "value"): [
        *("all", "okrug", "district", "language", "topic", "ru", "en", "n", "u"),
        *(o.slug for o in _region.okrugs),
        *TOPICS,
    ],
}
FACTORIES = [
    PickCb,
    TopicCb,
    SetCb,
    SubCb,
    SetupCb,
    PrivacyCb,
    SearchPage,
    BroadcastStepCb,
    FeedCb,
    AdminCb,
    BroadcastCb,
]


def longest(factory: type[CallbackData]) -> CallbackData:
    """An instance with the longest packed value in every field."""
    values: dict[str, object] = {}
    for name, field in factory.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            values[name] = max(kind, key=lambda member: len(str(member.value)))
        elif kind is bool:
            values[name] = False  # packed as "0" or "1"
        elif kind is int:
            values[name] = BIGGEST_ID
        elif kind is str:
            values[name] = max(STRING_VALUES[(factory, name)], key=len)
        else:
            raise AssertionError(f"{factory.__name__}.{name}: no worst case for {kind!r}")
    return factory(**values)


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_the_longest_callback_data_fits(factory: type[CallbackData]) -> None:
    packed = longest(factory).pack()
    assert len(packed.encode()) <= LIMIT, packed
    assert factory.unpack(packed) == longest(factory)


def test_fields_have_readable_names() -> None:
    for factory in FACTORIES:
        assert all(len(name) > 2 for name in factory.model_fields), factory.__name__
