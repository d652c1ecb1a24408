"""Translation contract for pure code.

Pure modules never import aiogram's i18n: they take a :class:`Translator` (a
``babel.support.Translations`` or ``gettext.NullTranslations`` fits) and mark
constant strings for extraction with :func:`N_`.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["N_", "Translator"]


class Translator(Protocol):
    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


def N_(message: str) -> str:
    """Mark a constant for pybabel extraction; translate later with a Translator."""
    return message
