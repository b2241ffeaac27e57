"""Every text Itinera shows people, in their language: one lookup over gettext catalogues.

The catalogues are the PO files translators edit with Poedit, Weblate or Crowdin::

    surveys/locale/itinera.pot                      the template: every message in English
    surveys/locale/<language>/LC_MESSAGES/itinera.po  one per language, bilingual

Each message is keyed by its ``msgctxt`` (a stable key such as ``number_between`` or
``slack.home_title``); its ``msgid`` is the English text and its ``msgstr`` the translation,
with ``{placeholders}`` in ``str.format`` syntax (flagged ``python-brace-format``). A message
that counts something has ``msgid_plural`` and one ``msgstr[n]`` per CLDR plural form of the
language (the ``Plural-Forms`` header, from Babel): Arabic has six, Russian three, Chinese one.

:func:`text` is the one lookup. Its one fallback: the person's language (``fr-CA`` reads
``fr``), else English. A key that is not in the template is a bug and raises ``KeyError``;
a test checks that every language has every message with the same placeholders and plural
forms, so a delegate never sees English by accident.

Dates, times, numbers and percentages are written by Babel for the language, in the person's
timezone (:func:`moment`, :func:`number`, :func:`percent`). In a right-to-left language
(Arabic), every value put into a message is wrapped in FSI ... PDI (Unicode bidi isolates),
so that a name, number, code or date in Latin script shows in place and in order.

Catalogues are read at first use and cached (they never change while the program runs);
Babel is imported only then, so ``itinera --help`` does not pay for it.

Example::

    text("number_between", "fr", low="1", high="10")
    # 'Veuillez indiquer un nombre compris entre 1 et 10.'
    text("duration", "ru", count=5)
    # 'около 5 минут'
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:  # imported at first use: keeps start-up fast
    from babel import Locale
    from babel.messages.catalog import Catalog, Message

SOURCE_LANGUAGE = "en"
"""The language of the template's ``msgid``s, and the fallback."""

LANGUAGES: tuple[str, ...] = ("ar", "zh", "en", "fr", "ru", "es")
"""The languages Itinera speaks, in the UN's order; each has a catalogue except English."""

DOMAIN = "itinera"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"

FORMAT_LOCALES: Mapping[str, str] = {"en": "en_GB", "zh": "zh_Hans_CN"}
"""The CLDR locale whose formats a language uses: UN English writes "1 December 2026"."""

FSI, PDI = "\u2068", "\u2069"
"""First-strong isolate and pop directional isolate (Unicode bidi, UAX #9)."""


def catalogue_path(language: str) -> Path:
    """Where the PO catalogue of ``language`` lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def language_of(language: str) -> str:
    """The language Itinera speaks closest to ``language`` (``fr-CA`` -> ``fr``), else English."""
    if language in LANGUAGES:
        return language
    base = language.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else SOURCE_LANGUAGE


def text(key: str, language: str, /, *, count: int | None = None, **params: object) -> str:
    """The message ``key`` in ``language`` (see :func:`language_of`), formatted with ``params``.

    A plural message needs ``count``: it picks the CLDR plural form and fills ``{count}``
    (written as a number of the language). In a right-to-left language every value is
    isolated (:func:`isolate`). Raises ``KeyError`` for an unknown key and ``TypeError`` for
    a plural message without ``count``.
    """
    chosen = language_of(language)
    template = translation(key, chosen, count=count)
    values: dict[str, object] = dict(params)
    if count is not None:
        values["count"] = number(count, chosen)
    if is_rtl(chosen):
        values = {name: isolate(str(value)) for name, value in values.items()}
    return template.format_map(values)


def translation(key: str, language: str, /, *, count: int | None = None) -> str:
    """The ``str.format`` template of the message ``key`` in ``language`` (see
    :func:`language_of`), in the plural form CLDR gives ``count``, nothing filled in.

    For callers that prepare their values themselves (the digest isolates only what is not
    already written in the reader's language); everyone else calls :func:`text`. Raises like
    :func:`text`.
    """
    message = _template().get(key)
    if message is None:
        raise KeyError(f"no message {key!r} in the catalogue template")
    translations = _translations(language_of(language))
    if message.pluralizable:
        if count is None:
            raise TypeError(f"the message {key!r} counts something: give count=")
        singular, plural = message.id[0], message.id[1]
        return translations.npgettext(key, singular, plural, count)
    return translations.pgettext(key, str(message.id))


@dataclass(frozen=True)
class Texts:
    """The texts of one part of Itinera (a channel): ``KEY`` is its own ``prefix.KEY`` if the
    catalogue has one, else the shared ``KEY``. Lets a channel's modules keep short keys::

        text = Texts("slack")
        text("home_title", "fr")   # the message slack.home_title
        text("button_back", "fr")  # the shared message button_back
    """

    prefix: str

    def __call__(
        self, key: str, language: str, /, *, count: int | None = None, **params: object
    ) -> str:
        return text(self.key(key), language, count=count, **params)

    def key(self, key: str) -> str:
        own = f"{self.prefix}.{key}"
        return own if own in _template() else key


def keys() -> list[str]:
    """Every message key, in the template's order."""
    return list(_template())


def is_plural(key: str) -> bool:
    return bool(_template()[key].pluralizable)


# --- right to left ------------------------------------------------------------------------------


def is_rtl(language: str) -> bool:
    """Whether ``language`` is written right to left (CLDR's character order)."""
    return _locale(language_of(language)).text_direction == "rtl"


def isolate(value: str) -> str:
    """``value`` between FSI and PDI, line by line (a line break ends an isolate anyway)."""
    return "\n".join(f"{FSI}{line}{PDI}" if line else line for line in value.split("\n"))


def isolated(value: str, language: str) -> str:
    """``value`` isolated if ``language`` is right to left, else as it is (for text that
    renderers put together themselves, such as ``name – status`` lines)."""
    return isolate(value) if is_rtl(language) else value


# --- dates, numbers ----------------------------------------------------------------------------


def zone_or_utc(timezone: str | None) -> ZoneInfo:
    """The IANA zone ``timezone``, or UTC if it is empty or unknown."""
    try:
        return ZoneInfo(timezone) if timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def moment(when: datetime, language: str, timezone: str | None) -> str:
    """``when`` in ``timezone`` (UTC if unknown), written out for ``language`` by Babel, with
    the weekday and the zone's name: ``Tuesday, 1 December 2026, 18:00 (Central European
    Standard Time)``, ``mardi 1er décembre 2026, 18:00 (heure normale d’Europe centrale)``."""
    from babel.dates import format_date, format_time, get_timezone_name

    chosen = language_of(language)
    locale = _locale(chosen)
    local = when.astimezone(zone_or_utc(timezone))
    day = format_date(local.date(), _date_pattern(locale, local.day), locale=locale)
    hour = format_time(local, "short", tzinfo=local.tzinfo, locale=locale)
    joined = str(locale.datetime_formats["full"]).replace("'", "")
    written = joined.replace("{1}", day).replace("{0}", hour)
    zone = get_timezone_name(local, "long", locale=locale)
    return text("moment", chosen, when=written, zone=zone)


def day(when: datetime, language: str, timezone: str | None) -> str:
    """The date of ``when`` in ``timezone``, written out: ``1er décembre 2026``."""
    from babel.dates import format_date

    locale = _locale(language_of(language))
    local = when.astimezone(zone_or_utc(timezone))
    return format_date(local.date(), _date_pattern(locale, local.day, width="long"), locale=locale)


def _date_pattern(locale: Locale, day_of_month: int, *, width: str = "full") -> str:
    """The locale's date pattern; in French the first of the month is an ordinal, "1er"
    (CLDR's patterns write "1", which French typography does not)."""
    from babel.dates import tokenize_pattern, untokenize_pattern

    pattern = str(locale.date_formats[width].pattern)
    if locale.language != "fr" or day_of_month != 1:
        return pattern
    tokens = [
        ("chars", "1er") if token == ("field", ("d", 1)) else token
        for token in tokenize_pattern(pattern)
    ]
    return str(untokenize_pattern(tokens))


def number(value: float, language: str) -> str:
    """``value`` as the language writes it, every digit kept (``1 234,5`` in French)."""
    from babel.numbers import format_decimal

    return str(
        format_decimal(value, locale=_locale(language_of(language)), decimal_quantization=False)
    )


def plain_number(value: float, language: str) -> str:
    """``value`` with the language's decimal mark but no grouping and no exponent, as a
    delegate would type it (``1500``, ``3,5``): for examples and bounds in messages."""
    from babel.numbers import format_decimal

    return str(
        format_decimal(
            value,
            locale=_locale(language_of(language)),
            decimal_quantization=False,
            group_separator=False,
        )
    )


def listing(items: Sequence[str], language: str) -> str:
    """``items`` joined as the language lists them (CLDR: "a, b and c", "a、b和c")."""
    from babel.lists import format_list

    return format_list(list(items), locale=_locale(language)) if items else ""


def percent(fraction: float, language: str) -> str:
    """``fraction`` (0.75) as a percentage of the language: ``75%``, ``75 %``."""
    from babel.numbers import format_percent

    return str(format_percent(fraction, locale=_locale(language_of(language))))


def decimal_mark(language: str) -> str:
    """The decimal mark of ``language`` (CLDR, Latin digits): ``,`` in French, ``.`` in English."""
    from babel.numbers import get_decimal_symbol

    return str(get_decimal_symbol(_locale(language_of(language)), numbering_system="latn"))


# --- loading -----------------------------------------------------------------------------------


@functools.cache
def _locale(language: str) -> Locale:
    from babel import Locale

    return Locale.parse(FORMAT_LOCALES.get(language, language))


@functools.cache
def _template() -> dict[str, Message]:
    """The template's messages by key (their ``msgctxt``)."""
    return {str(message.context): message for message in _read(TEMPLATE, None) if message.id}


@functools.cache
def _translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``language``; English reads the ``msgid``s themselves.

    Compiled to MO in memory and read by :class:`gettext.GNUTranslations`, which evaluates the
    catalogue's ``Plural-Forms``. Fuzzy entries are left out, so they show in English.
    """
    from babel.messages.mofile import write_mo

    path = catalogue_path(language)
    if language == SOURCE_LANGUAGE or not path.exists():
        return gettext.NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, _read(path, language), use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def read_catalogue(language: str | None) -> Catalog:
    """The PO catalogue of ``language`` as Babel reads it (the template for None)."""
    return _read(TEMPLATE if language is None else catalogue_path(language), language)


def _read(path: Path, language: str | None) -> Catalog:
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)
