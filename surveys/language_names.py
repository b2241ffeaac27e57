"""Languages as organisers name them in XLSForm columns, resolved with CLDR data (Babel).

KoboToolbox writes ``label::French (fr)``; older forms and hand-made ones write ``label::fr``,
``label::French``, ``label::Français`` or ``label::Amharic``, and ``default_language: Deutsch``.
Every one of these resolves to a language code through CLDR's language names (Babel), in
English, in the UN languages and a few others, and in each language's own name.

Example::

    language_code("Français")      # 'fr'
    language_code("Amharic")       # 'am'
    language_code("Português (pt-BR)")  # 'pt-BR'
    language_name("am")            # 'Amharic'
"""

from __future__ import annotations

import functools
import re
import unicodedata

from babel import Locale, UnknownLocaleError, localedata

CODE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")
_IN_BRACKETS = re.compile(r"\(([^()]+)\)\s*$")

NAME_LOCALES = ("en", "fr", "es", "ar", "ru", "zh", "de", "pt", "it")
"""Locales whose names for every language are looked up first (cheap: a few CLDR files)."""


def language_code(name: str) -> str | None:
    """``French (fr)``, ``fr``, ``French``, ``Français`` or ``Deutsch`` -> a code; None if unknown.

    A code written in brackets is taken as given (``Klingon (tlh)`` is ``tlh``): the author has
    said which language it is. A bare word is a code when CLDR knows it as one, else a name.
    """
    text = " ".join(name.split())
    if not text:
        return None
    bracketed = _IN_BRACKETS.search(text)
    if bracketed:
        return _normal_code(bracketed.group(1).strip())
    if CODE.fullmatch(text) and _known_code(text):
        return _normal_code(text)
    return _by_name(text)


def language_name(code: str, *, in_language: str = "en") -> str:
    """The CLDR name of the language ``code`` in ``in_language`` (the code itself if unknown)."""
    try:
        locale = Locale.parse(code.replace("-", "_"))
        shown = locale.get_display_name(in_language)
    except (UnknownLocaleError, ValueError, TypeError):
        return code
    return shown or code


def _normal_code(code: str) -> str | None:
    """``EN`` -> ``en``, ``pt_BR`` -> ``pt-BR``; None if it is not shaped like a code."""
    if not CODE.fullmatch(code):
        return None
    primary, _, rest = code.replace("_", "-").partition("-")
    return primary.lower() + (f"-{rest}" if rest else "")


def _known_code(code: str) -> bool:
    primary = code.replace("-", "_").split("_")[0].lower()
    return primary in Locale("en").languages


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def _by_name(name: str) -> str | None:
    wanted = _fold(name)
    found = _common_names().get(wanted)
    if found is None:
        found = _own_names().get(wanted)
    return _normal_code(found) if found is not None else None


@functools.cache
def _common_names() -> dict[str, str]:
    """Folded language name -> code, from the names in :data:`NAME_LOCALES` (English first)."""
    names: dict[str, str] = {}
    for locale in NAME_LOCALES:
        for code, shown in Locale.parse(locale).languages.items():
            names.setdefault(_fold(shown), code)
    return names


@functools.cache
def _own_names() -> dict[str, str]:
    """Folded autonym -> code for every language CLDR has data for (``አማርኛ`` -> ``am``).

    Loading every locale takes about a second, once per process, and only for a name that is
    not in :func:`_common_names`.
    """
    names: dict[str, str] = {}
    for identifier in localedata.locale_identifiers():
        if "_" in identifier:
            continue
        try:
            shown = Locale.parse(identifier).get_language_name(identifier)
        except (UnknownLocaleError, ValueError):
            continue
        if shown:
            names.setdefault(_fold(shown), identifier)
    return names
