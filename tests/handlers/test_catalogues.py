"""Every catalogue of texts people read: each key in en, fr, es and ar, same placeholders."""

from __future__ import annotations

import string

import pytest

from handlers.slack import texts as slack_texts
from handlers.telegram import texts as telegram_texts
from surveys import delivery_texts, messages

CATALOGUES = {
    "core": messages.MESSAGES,
    "delivery": delivery_texts.TEXTS,
    "slack": slack_texts.TEXTS,
    "telegram": telegram_texts.MESSAGES,
}
LANGUAGES = ("en", "fr", "es", "ar")


FREE = {"nbsp"}
"""Placeholders a catalogue fills in itself (Telegram's no-break space for French)."""


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name} - FREE


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_text_has_every_language_with_the_same_placeholders(name: str) -> None:
    problems = []
    for key, by_language in CATALOGUES[name].items():
        missing = [language for language in LANGUAGES[:3] if language not in by_language]
        if missing:
            problems.append(f"{key}: no {missing}")
            continue
        expected = placeholders(by_language["en"])
        for language, template in by_language.items():
            if placeholders(template) != expected:
                problems.append(f"{key} [{language}]: {placeholders(template)} != {expected}")
            values = dict.fromkeys(expected | FREE, "x")
            template.format(**values)  # formats without KeyError or stray braces
    assert problems == []
