from __future__ import annotations

import string

import pytest

from surveys.messages import (
    MESSAGES,
    REQUIRED_LANGUAGES,
    format_number,
    joined,
    quoted,
    text,
)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_key_has_the_required_languages_with_the_same_placeholders(key: str) -> None:
    by_language = MESSAGES[key]
    missing = [language for language in REQUIRED_LANGUAGES if language not in by_language]
    assert not missing, f"{key!r} has no text in {missing}"
    expected = placeholders(by_language["en"])
    for language, template in by_language.items():
        assert placeholders(template) == expected, f"{key!r} in {language!r}"
        assert template.strip() or key == "list_separator", f"{key!r} in {language!r} is empty"


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_text_formats(key: str) -> None:
    params = {name: "X" for name in placeholders(MESSAGES[key]["en"])}
    for language in MESSAGES[key]:
        assert "X" in text(key, language, **params) or not params


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Please give a number from 1 to 10."),
        ("fr", "Veuillez indiquer un nombre compris entre 1 et 10."),
        ("es", "Por favor, indique un número entre 1 y 10."),
        ("fr-CA", "Veuillez indiquer un nombre compris entre 1 et 10."),
        ("de", "Please give a number from 1 to 10."),
        ("zh", "Please give a number from 1 to 10."),
    ],
)
def test_text_formats_in_the_language_or_its_base_else_english(
    language: str, expected: str
) -> None:
    assert text("number_between", language, low=1, high=10) == expected


def test_a_key_missing_in_a_language_falls_back_to_english(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(MESSAGES, "only_english", {"en": "Hello {name}"})
    assert text("only_english", "fr", name="Ana") == "Hello Ana"


def test_an_unknown_key_is_a_bug() -> None:
    with pytest.raises(KeyError):
        text("no_such_message", "en")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", '"Xyz"'),
        ("fr", "«\u00a0Xyz\u00a0»"),
        ("es", "«Xyz»"),
        ("ar", "«Xyz»"),
        ("ru", '"Xyz"'),
    ],
)
def test_quoted(language: str, expected: str) -> None:
    assert quoted("Xyz", language) == expected


def test_joined() -> None:
    assert joined(["a", "b"], "en") == "a, b"
    assert joined(["a", "b"], "ar") == "a، b"


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        (3, "en", "3"),
        (3.0, "en", "3"),
        (3.5, "en", "3.5"),
        (3.5, "fr", "3,5"),
        (3.5, "es-MX", "3,5"),
        (-0.25, "ar", "-0,25"),
        (1500, "fr", "1500"),
        (1e16, "en", "10000000000000000"),
        (0.1 + 0.2, "en", "0.30000000000000004"),
        (1e-20, "en", "1e-20"),
    ],
)
def test_format_number(value: float, language: str, expected: str) -> None:
    assert format_number(value, language) == expected
