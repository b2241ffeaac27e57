"""Every message in every language: same placeholders, the language's number of plural forms.

This is the check a translator runs after editing a PO file (README, Languages)::

    python -m pytest tests/surveys/test_catalogues.py
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from surveys import i18n

EXAMPLE = Path(__file__).resolve().parents[2] / "surveys" / "examples" / "route_alignment.yaml"

TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.SOURCE_LANGUAGE]
TEMPLATE = i18n.read_catalogue(None)


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def forms(message: Message) -> list[str]:
    value = message.string
    return list(value) if isinstance(value, tuple | list) else [value]


def english(message: Message) -> list[str]:
    return list(message.id) if message.pluralizable else [str(message.id)]


@pytest.fixture(scope="module", params=TRANSLATED)
def catalogue(request: pytest.FixtureRequest) -> Catalog:
    return i18n.read_catalogue(request.param)


def entries(catalogue: Catalog) -> dict[str, Message]:
    return {str(message.context): message for message in catalogue if message.id}


def test_every_language_has_a_catalogue_and_english_is_the_template() -> None:
    assert i18n.SOURCE_LANGUAGE in i18n.LANGUAGES
    for language in TRANSLATED:
        assert i18n.catalogue_path(language).is_file(), language
    assert {str(message.context) for message in TEMPLATE if message.id} == set(i18n.keys())


@pytest.mark.parametrize("language", [None, *TRANSLATED])
def test_every_catalogue_parses_strictly(language: str | None) -> None:
    """A PO file that Babel reads only with a warning (an entry without msgstr, a stray line)
    loses messages silently; Poedit and Weblate refuse it."""
    path = i18n.catalogue_path(language) if language else i18n.TEMPLATE
    with path.open("rb") as handle:
        read_po(handle, abort_invalid=True)


def test_the_template_is_well_formed() -> None:
    problems = []
    for message in TEMPLATE:
        if not message.id:
            continue
        key = str(message.context)
        if not message.context:
            problems.append(f"{message.id!r} has no msgctxt (its key)")
        texts = english(message)
        named = set().union(*(fields(text) for text in texts))
        flagged = "python-brace-format" in message.flags
        if bool(named) != flagged:
            problems.append(f"{key}: python-brace-format flag {flagged} but placeholders {named}")
        if message.pluralizable and "count" not in fields(texts[-1]):
            problems.append(f"{key}: a plural message shows its {{count}} in English")
        if any(text != text.strip() for text in texts) and key != "list_separator":
            problems.append(f"{key}: spaces around the text")
    assert problems == []


def test_every_message_is_translated_with_the_same_placeholders(catalogue: Catalog) -> None:
    language = str(catalogue.locale)
    translated = entries(catalogue)
    problems = [f"{key}: not in the template" for key in set(translated) - set(i18n.keys())]
    for message in TEMPLATE:
        if not message.id:
            continue
        key = str(message.context)
        found = translated.get(key)
        if found is None:
            problems.append(f"{key}: missing")
            continue
        if found.id != message.id:
            problems.append(f"{key}: msgid differs from the template (run pybabel update)")
        if found.fuzzy:
            problems.append(f"{key}: fuzzy (needs review)")
        texts = forms(found)
        if any(not text for text in texts):
            problems.append(f"{key}: empty translation")
            continue
        expected = set().union(*(fields(text) for text in english(message)))
        for text in texts:
            shown = fields(text)
            # A plural form may say "one" or "two" in words instead of showing {count}.
            allowed_missing = {"count"} if message.pluralizable else set()
            if not (expected - allowed_missing <= shown <= expected):
                problems.append(f"{key}: placeholders {sorted(shown)} != {sorted(expected)}")
            text.format_map(dict.fromkeys(expected, "x"))  # no stray braces
    assert problems == [], language


def test_plural_messages_have_the_forms_of_the_languages_cldr_rules(catalogue: Catalog) -> None:
    language = str(catalogue.locale)
    rule = get_plural(language)
    assert catalogue.num_plurals == rule.num_plurals
    assert catalogue.plural_expr == rule.plural_expr
    wrong = {
        str(message.context): len(forms(message))
        for message in catalogue
        if message.id and message.pluralizable and len(forms(message)) != rule.num_plurals
    }
    assert wrong == {}, f"{language} needs {rule.num_plurals} forms"


def test_plural_and_single_messages_match_the_template(catalogue: Catalog) -> None:
    translated = entries(catalogue)
    mismatched = [
        key
        for key in list(i18n.keys())
        if key in translated and translated[key].pluralizable != i18n.is_plural(key)
    ]
    assert mismatched == []


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_message_formats_in_every_language(language: str) -> None:
    for message in TEMPLATE:
        if not message.id:
            continue
        key = str(message.context)
        named = set().union(*(fields(text) for text in english(message))) - {"count"}
        written = i18n.text(key, language, count=7, **dict.fromkeys(named, "X"))
        assert written.strip() or key == "list_separator", key
        assert "{" not in written.replace("{{", ""), key


def test_the_example_survey_speaks_every_language() -> None:
    """Title, intro, themes, labels, hints, choices and scale ends: all in the six languages."""
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert set(document["languages"]) == set(i18n.LANGUAGES)
    incomplete: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "en" in node and all(isinstance(value, str) for value in node.values()):
                missing = set(i18n.LANGUAGES) - {k for k, v in node.items() if v.strip()}
                if missing:
                    incomplete.append(f"{where}: no {sorted(missing)}")
                return
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    walk(document, "survey")
    assert incomplete == []


@pytest.mark.parametrize("language", [lang for lang in TRANSLATED if i18n.is_rtl(lang)])
def test_commands_in_right_to_left_texts_are_isolated(language: str) -> None:
    """``/help`` in an Arabic sentence would show as ``help/`` unless isolated (FSI ... PDI)."""
    isolated = re.compile("\u2068[^\u2069]*\u2069")
    bare = []
    for message in i18n.read_catalogue(language):
        if not message.id:
            continue
        for text in forms(message):
            if re.search(r"(?<![A-Za-z0-9_])/[a-z]", isolated.sub("", text)):
                bare.append(str(message.context))
    assert bare == []
