"""The core's texts: validation messages, button captions, summary wording.

They live in the gettext catalogues of :mod:`surveys.i18n` (survey content itself, question
labels and choices, comes from the survey definition). This module keeps the names the engine
and the channels call.

Example::

    text("number_between", "fr", low="1", high="10")
    # 'Veuillez indiquer un nombre compris entre 1 et 10.'
"""

from __future__ import annotations

from surveys import i18n

FALLBACK_LANGUAGE = i18n.SOURCE_LANGUAGE

text = i18n.text
decimal_mark = i18n.decimal_mark


def quoted(value: str, language: str) -> str:
    """``value`` in the quotation marks of ``language``."""
    return text("quoted", language, text=value)


def joined(values: list[str], language: str) -> str:
    """``values`` joined with the list separator of ``language``."""
    return text("list_separator", language).join(values)


def format_number(value: float, language: str) -> str:
    """A number as a delegate would type it: the language's decimal mark, no grouping."""
    return i18n.plain_number(value, language)
