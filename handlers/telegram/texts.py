"""The texts Telegram shows: ``telegram.*`` messages of the catalogues in :mod:`surveys.i18n`.

``text("greeting", ...)`` reads ``telegram.greeting``, or the shared message of that key
(survey texts, button captions, statuses). People we do not know yet get :func:`multilingual`
texts, since we cannot know their language.

Example::

    text("timezone_set", "fr", zone="Africa/Dakar", time="09:30")
    # 'Votre fuseau horaire est désormais Africa/Dakar (il y est 09:30).'
"""

from __future__ import annotations

from surveys import i18n

LANGUAGES = i18n.LANGUAGES
"""Languages a delegate may choose with /language."""

LANGUAGE_NAMES = {
    "ar": "العربية",
    "zh": "中文",
    "en": "English",
    "fr": "Français",
    "ru": "Русский",
    "es": "Español",
}
"""Each language's name in itself (CLDR's, capitalised for a button; a test compares)."""

GUEST_LANGUAGES = i18n.LANGUAGES
"""Languages of texts to people we do not know yet: all of them."""

text = i18n.Texts("telegram")
language_of = i18n.language_of


def multilingual(key: str) -> str:
    """``key`` in every guest language, one paragraph each, for someone we do not know yet."""
    return multilingual_with(key)


def multilingual_with(key: str, /, **params: str) -> str:
    """:func:`multilingual` for a message with (text) placeholders."""
    return "\n\n".join(text(key, language, count=None, **params) for language in GUEST_LANGUAGES)
