"""The one lookup: its fallback, CLDR plurals per language, and Babel's dates and numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys import i18n
from surveys.i18n import text

# Monday 30 November 2026, 23:30 UTC: already Tuesday 1 December in Geneva and Cairo.
LATE_NOVEMBER = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


def bare(value: str) -> str:
    """``value`` without the bidi isolates Arabic puts around values (tested on their own)."""
    return value.replace(i18n.FSI, "").replace(i18n.PDI, "")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Please give a number from 1 to 10."),
        ("fr", "Veuillez indiquer un nombre compris entre 1 et 10."),
        ("es", "Por favor, indique un número entre 1 y 10."),
        ("fr-CA", "Veuillez indiquer un nombre compris entre 1 et 10."),
        ("es_MX", "Por favor, indique un número entre 1 y 10."),
        ("ru-RU", "Пожалуйста, укажите число от 1 до 10."),
        ("zh-Hans-CN", "请输入 1 至 10 之间的数字。"),
        ("de", "Please give a number from 1 to 10."),
    ],
)
def test_the_persons_language_or_its_base_else_english(language: str, expected: str) -> None:
    assert text("number_between", language, low=1, high=10) == expected


def test_an_unknown_key_is_a_bug() -> None:
    with pytest.raises(KeyError, match="no_such_message"):
        text("no_such_message", "en")


def test_a_plural_message_needs_its_count() -> None:
    with pytest.raises(TypeError, match="count"):
        text("duration", "fr")


def test_a_channel_reads_its_own_key_first_then_the_shared_one() -> None:
    slack = i18n.Texts("slack")
    assert slack("home_title", "fr") == text("slack.home_title", "fr") == "Vos enquêtes"
    assert slack("button_back", "fr") == text("button_back", "fr") == "Retour"
    with pytest.raises(KeyError):
        slack("no_such_message", "fr")


def test_a_language_without_a_catalogue_reads_english() -> None:
    assert i18n.language_of("de") == "en"
    assert text("duration", "de", count=1) == "about 1 minute"
    assert text("duration", "de", count=5) == "about 5 minutes"


# --- plurals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "environ 0\u00a0minute"), (1, "environ 1\u00a0minute"), (2, "environ 2\u00a0minutes")],
)
def test_french_zero_and_one_are_singular(count: int, expected: str) -> None:
    assert text("duration", "fr", count=count) == expected


def test_english_says_one_delegate_in_one_delegation() -> None:
    def launched(delegates: int, delegations: int) -> str:
        return text(
            "round_launched",
            "en",
            id=3,
            survey="route_alignment",
            version="2026.1",
            participants=text("delegates_count", "en", count=delegates),
            delegations=text("delegations_count", "en", count=delegations),
            closes="Friday",
        )

    assert "for 1 delegate in 1 delegation." in launched(1, 1)
    assert "for 12 delegates in 11 delegations." in launched(12, 11)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0 مندوب"),  # zero
        (1, "مندوب واحد"),  # one
        (2, "مندوبان"),  # two
        (3, "3 مندوبين"),  # few: 3-10
        (10, "10 مندوبين"),
        (11, "11 مندوبًا"),  # many: 11-99
        (99, "99 مندوبًا"),
        (100, "100 مندوب"),  # other: 100-102
        (102, "102 مندوب"),
        (103, "103 مندوبين"),  # few again: 103-110
        (111, "111 مندوبًا"),  # many again
    ],
)
def test_arabic_has_six_plural_forms(count: int, expected: str) -> None:
    assert bare(text("delegates_count", "ar", count=count)) == expected


@pytest.mark.parametrize(
    ("count", "delegates", "minutes"),
    [
        (1, "1 делегат", "около 1 минуты"),  # one
        (3, "3 делегата", "около 3 минут"),  # few
        (5, "5 делегатов", "около 5 минут"),  # many
        (11, "11 делегатов", "около 11 минут"),  # many: 11-14 are not "one" or "few"
        (12, "12 делегатов", "около 12 минут"),
        (21, "21 делегат", "около 21 минуты"),  # one again
        (22, "22 делегата", "около 22 минут"),  # few again
        (25, "25 делегатов", "около 25 минут"),
    ],
)
def test_russian_one_few_many(count: int, delegates: str, minutes: str) -> None:
    assert text("delegates_count", "ru", count=count) == delegates
    assert text("duration", "ru", count=count) == minutes


def test_chinese_has_one_form() -> None:
    assert text("delegates_count", "zh", count=1) == "1 名代表"
    assert text("delegates_count", "zh", count=25) == "25 名代表"


def test_arabic_minutes_follow_the_number() -> None:
    assert bare(text("duration", "ar", count=10)) == "نحو 10 دقائق"
    assert bare(text("duration", "ar", count=15)) == "نحو 15 دقيقة"
    assert bare(text("duration", "ar", count=2)) == "نحو دقيقتين"


def test_counts_are_written_as_numbers_of_the_language() -> None:
    assert text("delegates_count", "fr", count=15000) == "15\u202f000 délégués"
    assert text("delegates_count", "es", count=15000) == "15.000 delegados"
    assert text("delegates_count", "en", count=15000) == "15,000 delegates"


# --- dates, numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "timezone", "expected"),
    [
        ("fr", "Europe/Zurich", "mardi 1er décembre 2026, 00:30 (heure normale d’Europe centrale)"),
        ("fr", "America/Toronto", "lundi 30 novembre 2026, 18:30 (heure normale de l’Est"),
        ("es", "Europe/Madrid", "martes, 1 de diciembre de 2026, 0:30 (hora estándar de Europa c"),
        ("es", "America/Bogota", "lunes, 30 de noviembre de 2026, 18:30 (hora estándar de Colom"),
        ("ar", "Africa/Cairo", "الثلاثاء، 1 ديسمبر 2026، 1:30 ص (توقيت شرق أوروبا الرسمي)"),
        ("en", "Asia/Tokyo", "Tuesday, 1 December 2026, 08:30 (Japan Standard Time)"),
        (
            "ru",
            "Europe/Moscow",
            "вторник, 1 декабря 2026\u202fг., 02:30 (Москва, стандартное время)",
        ),
        ("zh", "Asia/Shanghai", "2026年12月1日星期二 07:30（中国标准时间）"),
        ("en", "Mars/Base", "Monday, 30 November 2026, 23:30 (Coordinated Universal Time)"),
        # Names that make ZoneInfo raise OSError (too long for a file name) or ValueError
        # (a path, an empty name): UTC, never a traceback.
        ("en", "Europe/" + "x" * 300, "Monday, 30 November 2026, 23:30 (Coordinated Universal"),
        ("en", "../../etc/passwd", "Monday, 30 November 2026, 23:30 (Coordinated Universal Time)"),
        ("fr", "", "lundi 30 novembre 2026, 23:30 (temps universel coordonné)"),
    ],
)
def test_moments_in_the_persons_language_and_timezone(
    language: str, timezone: str, expected: str
) -> None:
    assert bare(i18n.moment(LATE_NOVEMBER, language, timezone)).startswith(expected)


def test_french_writes_the_first_of_the_month_as_an_ordinal() -> None:
    assert i18n.day(LATE_NOVEMBER, "fr", "Europe/Paris") == "1er décembre 2026"
    assert i18n.day(datetime(2026, 12, 2, 12, tzinfo=UTC), "fr", "UTC") == "2 décembre 2026"
    assert i18n.day(LATE_NOVEMBER, "fr", "UTC") == "30 novembre 2026"
    assert i18n.day(LATE_NOVEMBER, "es", "Europe/Madrid") == "1 de diciembre de 2026"


def test_russian_months_are_in_the_genitive() -> None:
    assert i18n.day(LATE_NOVEMBER, "ru", "Europe/Moscow") == "1 декабря 2026\u202fг."
    assert i18n.day(datetime(2026, 3, 8, 9, tzinfo=UTC), "ru", "UTC") == "8 марта 2026\u202fг."


@pytest.mark.parametrize(
    ("fraction", "language", "expected"),
    [(0.75, "en", "75%"), (0.75, "fr", "75\u00a0%"), (2 / 3, "es", "67\u00a0%"), (1, "ar", "100%")],
)
def test_percentages(fraction: float, language: str, expected: str) -> None:
    assert i18n.percent(fraction, language) == expected


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        (3, "en", "3"),
        (3.0, "en", "3"),
        (3.5, "en", "3.5"),
        (3.5, "fr", "3,5"),
        (3.5, "es-MX", "3,5"),
        (-0.25, "ar", "-0.25"),
        (1500, "fr", "1500"),
        (1e16, "en", "10000000000000000"),
        (0.1 + 0.2, "en", "0.30000000000000004"),
        (1e-20, "en", "0.00000000000000000001"),
    ],
)
def test_plain_numbers_as_a_delegate_types_them(value: float, language: str, expected: str) -> None:
    assert i18n.plain_number(value, language) == expected


@pytest.mark.parametrize(
    ("language", "mark"),
    [("en", "."), ("fr", ","), ("es", ","), ("ar", "."), ("ru", ","), ("zh", ".")],
)
def test_decimal_marks_come_from_cldr(language: str, mark: str) -> None:
    assert i18n.decimal_mark(language) == mark


# --- right to left --------------------------------------------------------------------------


def test_arabic_isolates_every_value_and_other_languages_none() -> None:
    fsi, pdi = "\u2068", "\u2069"
    assert text("position", "ar", position=3, total=22) == f"السؤال {fsi}3{pdi} من {fsi}22{pdi}"
    assert text("delegates_count", "ar", count=11) == f"{fsi}11{pdi} مندوبًا"
    assert text("position", "fr", position=3, total=22) == "Question 3 sur 22"
    assert i18n.is_rtl("ar-EG") and not i18n.is_rtl("fr") and not i18n.is_rtl("zh")


def test_a_value_of_several_lines_is_isolated_line_by_line() -> None:
    assert i18n.isolate("a\n\nb") == "\u2068a\u2069\n\n\u2068b\u2069"
    assert i18n.isolated("Geneva", "ar") == "\u2068Geneva\u2069"
    assert i18n.isolated("Geneva", "en") == "Geneva"
