"""The pure core of the bot: no I/O, no clock, no Telegram.

- :mod:`digests.understanding` — understanding one article: morphology, places (districts,
  okrugs, settlements), topics, a summary, and the features that group copies of one story;
  also resolving a place name a user typed.
- :mod:`digests.composition` — composing digests: choosing stories for a subscriber and
  rendering them as Telegram HTML.
- Shared by both: :mod:`digests.region` (a city's geography and place-name rules, from
  ``digests/data/<city>/``) and :mod:`digests.i18n` (the translation contract).
"""
