from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from surveys.answers import Pressed, RawInput, Rejected, Typed
from surveys.definition import AnswerValue, Survey
from surveys.inputs import TEXT_LIMIT, fold, parse_input

TODAY = date(2025, 3, 25)
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def survey(
    make_survey: Callable[..., Survey], make_question: Callable[..., dict[str, Any]]
) -> Survey:
    q = make_question
    return make_survey(
        q("topic", "single_choice", required=True),
        q("topic_opt", "single_choice"),
        q("agree", "yes_no"),
        q("topics", "multiple_choice"),
        q("topics_req", "multiple_choice", required=True),
        q("topics_2_3", "multiple_choice", min_selected=2, max_selected=3),
        q("topics_exactly_2", "multiple_choice", min_selected=2, max_selected=2),
        q("topics_at_least_2", "multiple_choice", min_selected=2),
        q("topics_at_most_2", "multiple_choice", max_selected=2),
        q("topics_one", "multiple_choice", max_selected=1),
        q(
            "rating",
            "scale",
            scale={
                "min": 1,
                "max": 5,
                "min_label": {"en": "Poor", "fr": "Médiocre", "es": "Malo"},
                "max_label": {"en": "Excellent", "fr": "Excellent", "es": "Excelente"},
            },
        ),
        q("evens", "scale", scale={"min": 0, "max": 10, "step": 2}),
        q("count", "integer", min=0, max=5000),
        q("any_int", "integer"),
        q("at_most", "integer", max=10),
        q("share", "decimal", min=0, max=100),
        q("ratio", "decimal"),
        q("at_least", "decimal", min=0.5),
        q("note", "text", max_length=10),
        q("comment", "text"),
        q("essay", "text", max_length=50_000),
        q(
            "name",
            "text",
            required=True,
            required_message={
                "en": "Please tell us your name.",
                "fr": "Veuillez indiquer votre nom.",
            },
        ),
        q("when", "date"),
        q(
            "delegates",
            "integer",
            constraint=". >= 2",
            constraint_message={
                "en": "At least two delegates, please.",
                "fr": "Au moins deux délégués, s’il vous plaît.",
            },
        ),
        q("pages", "integer", constraint=". mod 2 = 0"),
        q("upper", "integer", constraint=". >= ${count}"),
        q("intro", "note"),
    )


def rejected(message: str) -> Rejected:
    return Rejected(message)


EN_REPLY = "Please reply with a number from 1 to 5."
EN_REPLY_MANY = "Please reply with numbers from 1 to 5, separated by commas."
EN_DATE = "Please give a date as day/month/year, such as 25/03/2025."
TRADE_HEALTH = ["trade", "health"]

CASES: list[tuple[str, RawInput, str, AnswerValue | Rejected | None]] = [
    # --- single choice
    ("topic", Pressed(("trade",)), "en", "trade"),
    ("topic", Pressed(("trade", "trade")), "en", "trade"),
    (
        "topic",
        Pressed(("nope",)),
        "en",
        rejected("That option is not available for this question. Please choose again."),
    ),
    ("topic", Pressed(("trade", "security")), "en", rejected("Please choose only one option.")),
    ("topic", Pressed(("trade", "security")), "fr", rejected("Veuillez choisir une seule option.")),
    ("topic", Typed("2"), "en", "security"),
    ("topic", Typed(" 2. "), "en", "security"),
    ("topic", Typed("٢"), "ar", "security"),
    ("topic", Typed("security"), "en", "security"),
    ("topic", Typed("SÉCURITÉ"), "fr", "security"),
    ("topic", Typed("securite"), "en", "security"),
    ("topic", Typed("  salud   PUBLICA "), "fr", "health"),
    ("topic", Typed("Peace, justice"), "en", "peace"),
    ("topic", Typed("6"), "en", rejected(f'"6" is not one of the options. {EN_REPLY}')),
    (
        "topic",
        Typed("Xyz"),
        "fr",
        rejected(
            f"«{NBSP}Xyz{NBSP}» ne fait pas partie des options. "
            "Veuillez répondre par un nombre de 1 à 5."
        ),
    ),
    (
        "topic",
        Typed("Xyz"),
        "es",
        rejected("«Xyz» no es una de las opciones. Por favor, responda con un número del 1 al 5."),
    ),
    ("topic", Typed("1, 2"), "en", rejected(f'"1, 2" is not one of the options. {EN_REPLY}')),
    (
        "topic",
        Typed("x" * 60),
        "en",
        rejected(f'"{"x" * 39}…" is not one of the options. {EN_REPLY}'),
    ),
    ("topic", Typed(""), "en", rejected("This question needs an answer.")),
    ("topic", Typed("  "), "fr", rejected("Cette question appelle une réponse.")),
    ("topic", Pressed(()), "es", rejected("Esta pregunta requiere una respuesta.")),
    ("topic_opt", Typed("   "), "en", None),
    ("topic_opt", Pressed(()), "en", None),
    # --- yes / no
    ("agree", Pressed(("no",)), "en", "no"),
    ("agree", Typed("Yes"), "en", "yes"),
    ("agree", Typed("y"), "en", "yes"),
    ("agree", Typed("N"), "en", "no"),
    ("agree", Typed("oui"), "en", "yes"),
    ("agree", Typed("NON"), "fr", "no"),
    ("agree", Typed("Sí"), "es", "yes"),
    ("agree", Typed("si"), "es", "yes"),
    ("agree", Typed("no"), "es", "no"),
    ("agree", Typed("نعم"), "ar", "yes"),
    ("agree", Typed("لا"), "ar", "no"),
    ("agree", Typed("1"), "en", "yes"),
    ("agree", Typed("2"), "en", "no"),
    ("agree", Typed("maybe"), "en", rejected("Please answer yes or no.")),
    ("agree", Typed("peut-être"), "fr", rejected("Veuillez répondre par oui ou par non.")),
    ("agree", Typed("quizás"), "es", rejected("Por favor, responda sí o no.")),
    # --- multiple choice
    ("topics", Pressed(("health", "trade")), "en", TRADE_HEALTH),
    ("topics", Pressed(("trade", "trade")), "en", ["trade"]),
    (
        "topics",
        Pressed(("trade", "zzz")),
        "en",
        rejected("That option is not available for this question. Please choose again."),
    ),
    ("topics", Typed("1, 3"), "en", TRADE_HEALTH),
    ("topics", Typed("3;1;3"), "en", TRADE_HEALTH),
    ("topics", Typed("3 1"), "en", TRADE_HEALTH),
    ("topics", Typed("1،3"), "ar", TRADE_HEALTH),
    ("topics", Typed("peace, JUSTICE"), "en", ["peace"]),
    ("topics", Typed("commerce, Sécurité, trade"), "fr", ["trade", "security"]),
    (
        "topics",
        Typed("1, Xyz"),
        "en",
        rejected(f'"Xyz" is not one of the options. {EN_REPLY_MANY}'),
    ),
    (
        "topics",
        Typed("Xyz; 9"),
        "en",
        rejected(f'"Xyz", "9" are not among the options. {EN_REPLY_MANY}'),
    ),
    (
        "topics",
        Typed("Xyz; 9"),
        "fr",
        rejected(
            f"«{NBSP}Xyz{NBSP}», «{NBSP}9{NBSP}» ne font pas partie des options. "
            "Veuillez répondre par des nombres de 1 à 5, séparés par des virgules."
        ),
    ),
    ("topics", Typed(" , ; "), "en", None),
    ("topics", Pressed(()), "en", None),
    ("topics_req", Typed(" , ; "), "en", rejected("This question needs an answer.")),
    ("topics_req", Pressed(()), "en", rejected("This question needs an answer.")),
    ("topics_req", Typed("5"), "en", ["other"]),
    ("topics_2_3", Typed("1,2"), "en", ["trade", "security"]),
    ("topics_2_3", Typed("1"), "en", rejected("Please choose between 2 and 3 options.")),
    ("topics_2_3", Typed("1,2,3,4"), "fr", rejected("Veuillez choisir entre 2 et 3 options.")),
    ("topics_2_3", Typed("1,1"), "en", rejected("Please choose between 2 and 3 options.")),
    ("topics_exactly_2", Typed("1"), "en", rejected("Please choose exactly 2 options.")),
    ("topics_at_least_2", Typed("1"), "en", rejected("Please choose at least 2 options.")),
    (
        "topics_at_most_2",
        Pressed(("trade", "security", "health")),
        "es",
        rejected("Por favor, elija como máximo 2 opciones."),
    ),
    ("topics_one", Typed("1, 2"), "en", rejected("Please choose only one option.")),
    # --- scale
    ("rating", Pressed(("4",)), "en", 4),
    ("rating", Typed(" 5 "), "en", 5),
    (
        "rating",
        Pressed(("9",)),
        "en",
        rejected("That option is not available for this question. Please choose again."),
    ),
    ("rating", Pressed(("4", "5")), "en", rejected("Please choose only one option.")),
    (
        "rating",
        Typed("6"),
        "en",
        rejected("Please choose a number from 1 (Poor) to 5 (Excellent)."),
    ),
    (
        "rating",
        Typed("0"),
        "fr",
        rejected("Veuillez choisir un nombre de 1 (Médiocre) à 5 (Excellent)."),
    ),
    (
        "rating",
        Typed("bueno"),
        "es",
        rejected("Por favor, elija un número del 1 (Malo) al 5 (Excelente)."),
    ),
    ("evens", Typed("4"), "en", 4),
    ("evens", Typed("0"), "en", 0),
    ("evens", Typed("12"), "en", rejected("Please choose a number from 0 to 10.")),
    ("evens", Typed("3"), "en", rejected("Please choose one of these values: 0, 2, 4, 6, 8, 10.")),
    # --- integer
    ("count", Typed("12"), "en", 12),
    ("count", Typed("+12"), "en", 12),
    ("count", Typed("0012"), "en", 12),
    ("count", Typed("1 500"), "fr", 1500),
    ("count", Typed("1\u202f500"), "fr", 1500),
    ("count", Typed("1\u2009500"), "en", 1500),
    ("count", Typed("1_500"), "en", 1500),
    ("count", Typed("1,500"), "en", 1500),
    ("count", Typed("1.500"), "es", 1500),
    ("count", Typed("١٢"), "ar", 12),
    ("count", Typed("１２"), "en", 12),
    (
        "count",
        Typed("1,500"),
        "fr",
        rejected("Veuillez indiquer un nombre entier, par exemple 12."),
    ),
    ("count", Typed("12.5"), "en", rejected("Please give a whole number, such as 12.")),
    ("count", Typed("1 50"), "en", rejected("Please give a whole number, such as 12.")),
    ("count", Typed("twelve"), "en", rejected("Please give a whole number, such as 12.")),
    ("count", Typed("-1"), "en", rejected("Please give a number from 0 to 5000.")),
    ("count", Typed("5001"), "es", rejected("Por favor, indique un número entre 0 y 5000.")),
    ("count", Pressed(("3",)), "en", rejected("Please type your answer.")),
    ("count", Pressed(("3",)), "fr", rejected("Veuillez saisir votre réponse.")),
    ("any_int", Typed("-42"), "en", -42),
    ("any_int", Typed("\u22127"), "en", -7),
    ("any_int", Typed("9" * 30), "en", rejected("Please give a whole number, such as 12.")),
    ("any_int", Typed("9" * 5000), "en", rejected("Please give a whole number, such as 12.")),
    ("at_most", Typed("11"), "en", rejected("Please give a number no greater than 10.")),
    # --- decimal
    ("share", Typed("3.5"), "en", 3.5),
    ("share", Typed("3,5"), "fr", 3.5),
    ("share", Typed("3,5"), "es", 3.5),
    ("share", Typed("3.5"), "fr", 3.5),
    ("share", Typed("3,5"), "en", 3.5),
    ("share", Typed("٣٫٥"), "ar", 3.5),
    ("share", Typed(".5"), "en", 0.5),
    ("share", Typed("7"), "en", 7.0),
    ("ratio", Typed("1,500.25"), "en", 1500.25),
    ("ratio", Typed("1 500,25"), "fr", 1500.25),
    ("ratio", Typed("-2"), "en", -2.0),
    ("ratio", Typed("nan"), "en", rejected("Please give a number, such as 3.5.")),
    ("ratio", Typed("NaN"), "fr", rejected("Veuillez indiquer un nombre, par exemple 3,5.")),
    ("ratio", Typed("inf"), "es", rejected("Por favor, indique un número, por ejemplo 3,5.")),
    ("ratio", Typed("1e5"), "en", rejected("Please give a number, such as 3.5.")),
    ("ratio", Typed("1" * 400), "en", rejected("Please give a number, such as 3.5.")),
    ("ratio", Typed("3.5.1"), "en", rejected("Please give a number, such as 3.5.")),
    ("ratio", Pressed(("3",)), "en", rejected("Please type your answer.")),
    (
        "share",
        Typed("100,5"),
        "fr",
        rejected("Veuillez indiquer un nombre compris entre 0 et 100."),
    ),
    (
        "at_least",
        Typed("0,25"),
        "fr",
        rejected("Veuillez indiquer un nombre supérieur ou égal à 0,5."),
    ),
    ("at_least", Typed("0.25"), "en", rejected("Please give a number no lower than 0.5.")),
    # --- text
    ("note", Typed("  hello  "), "en", "hello"),
    ("note", Typed("x" * 10), "en", "x" * 10),
    (
        "note",
        Typed("x" * 11),
        "en",
        rejected("Please keep your answer within 10 characters; it now has 11."),
    ),
    (
        "note",
        Typed("x" * 11),
        "fr",
        rejected(
            f"Veuillez limiter votre réponse à 10 caractères{NBSP}; elle en compte actuellement 11."
        ),
    ),
    ("note", Pressed(("x",)), "en", rejected("Please type your answer.")),
    ("name", Typed(""), "en", rejected("Please tell us your name.")),
    ("name", Typed(""), "fr", rejected("Veuillez indiquer votre nom.")),
    ("name", Typed(""), "es", rejected("Please tell us your name.")),
    ("name", Typed("Ana"), "es", "Ana"),
    # --- date
    ("when", Typed("2025-03-01"), "en", "2025-03-01"),
    ("when", Typed("2025-3-1"), "en", "2025-03-01"),
    ("when", Typed("1/3/2025"), "en", "2025-03-01"),
    ("when", Typed("01.03.2025"), "fr", "2025-03-01"),
    ("when", Typed("01-03-2025"), "es", "2025-03-01"),
    ("when", Typed("١/٣/٢٠٢٥"), "ar", "2025-03-01"),
    ("when", Typed("29/02/2024"), "en", "2024-02-29"),
    (
        "when",
        Typed("31/02/2025"),
        "en",
        rejected(f'The date "31/02/2025" does not exist. {EN_DATE}'),
    ),
    (
        "when",
        Typed("31/02/2025"),
        "fr",
        rejected(
            f"La date «{NBSP}31/02/2025{NBSP}» n’existe pas. Veuillez indiquer une date au "
            "format jour/mois/année, par exemple 25/03/2025."
        ),
    ),
    (
        "when",
        Typed("2025-13-01"),
        "en",
        rejected(f'The date "2025-13-01" does not exist. {EN_DATE}'),
    ),
    ("when", Typed("yesterday"), "en", rejected(EN_DATE)),
    ("when", Typed("1/3/25"), "en", rejected(EN_DATE)),
    ("when", Typed("01/03-2025"), "en", rejected(EN_DATE)),
    (
        "when",
        Typed("mañana"),
        "es",
        rejected("Por favor, indique una fecha en formato día/mes/año, por ejemplo 25/03/2025."),
    ),
    ("when", Pressed(("2025-03-01",)), "en", rejected(EN_DATE)),
    # --- constraints
    ("delegates", Typed("2"), "en", 2),
    ("delegates", Typed("1"), "en", rejected("At least two delegates, please.")),
    ("delegates", Typed("1"), "fr", rejected("Au moins deux délégués, s’il vous plaît.")),
    ("delegates", Typed("1"), "es", rejected("At least two delegates, please.")),
    ("delegates", Typed("1"), "de", rejected("At least two delegates, please.")),
    ("pages", Typed("4"), "en", 4),
    (
        "pages",
        Typed("3"),
        "en",
        rejected("This answer cannot be accepted. Please check it and try again."),
    ),
    (
        "pages",
        Typed("3"),
        "es",
        rejected("Esta respuesta no puede aceptarse. Por favor, revísela e inténtelo de nuevo."),
    ),
]


@pytest.mark.parametrize(
    ("question_id", "raw", "language", "expected"),
    CASES,
    ids=[f"{case[0]}-{case[1]!r}-{case[2]}" for case in CASES],
)
def test_parse_input(
    survey: Survey,
    question_id: str,
    raw: RawInput,
    language: str,
    expected: AnswerValue | Rejected | None,
) -> None:
    result = parse_input(survey, survey.question(question_id), raw, language=language, today=TODAY)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("typed", "expected"), [("10", 10), ("25", 25), ("5", None)])
def test_a_constraint_sees_the_other_answers(
    survey: Survey, typed: str, expected: int | None
) -> None:
    result = parse_input(
        survey,
        survey.question("upper"),
        Typed(typed),
        language="en",
        today=TODAY,
        answers={"count": 10},
    )
    if expected is None:
        assert isinstance(result, Rejected)
    else:
        assert result == expected


def test_a_note_takes_no_input(survey: Survey) -> None:
    with pytest.raises(ValueError, match="note"):
        parse_input(survey, survey.question("intro"), Typed("x"), language="en", today=TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Santé  Publique ", "sante publique"),
        ("ÉCOLE", "ecole"),
        ("Straße", "strasse"),
        ("ﻻ", "لا"),
        ("نَعَم", "نعم"),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


# --- typed choices mean what they say ---------------------------------------------------------

NUMBER_LABELS = [{"value": str(n), "label": {"en": str(n), "fr": str(n)}} for n in range(11)]
SHIFTED = [  # labels are numbers, codes are not: a position and a label of different choices
    {"value": f"n{n}", "label": {"en": str(n)}} for n in range(11)
]
REVERSED = [  # a scale coded 5 down to 1, as Kobo forms often are
    {"value": str(5 - i), "label": {"en": label}}
    for i, label in enumerate(["Strongly agree", "Agree", "Neutral", "Disagree", "Disagree!"])
]
CONFUSING = [  # a label that is another choice's position
    {"value": "a", "label": {"en": "Thirty"}},
    {"value": "b", "label": {"en": "1"}},
]


@pytest.fixture(scope="module")
def numbers(
    make_survey: Callable[..., Survey], make_question: Callable[..., dict[str, Any]]
) -> Survey:
    q = make_question
    return make_survey(
        q("nps", "single_choice", choices="nps"),
        q("shifted", "single_choice", choices="shifted"),
        q("shifted_many", "multiple_choice", choices="shifted"),
        q("reversed", "single_choice", choices="reversed"),
        q("confusing", "single_choice", choices="confusing"),
        choice_lists={
            "nps": NUMBER_LABELS,
            "shifted": SHIFTED,
            "reversed": REVERSED,
            "confusing": CONFUSING,
        },
    )


def read(survey: Survey, question: str, typed: str, language: str = "en") -> object:
    return parse_input(
        survey, survey.question(question), Typed(typed), language=language, today=TODAY
    )


@pytest.mark.parametrize("typed", ["0", "7", "10", " 7 ", "٧"])
def test_a_number_typed_on_a_list_labelled_with_numbers_is_that_label(
    numbers: Survey, typed: str
) -> None:
    expected = str(int(typed.strip().replace("٧", "7")))
    assert read(numbers, "nps", typed) == expected
    assert read(numbers, "shifted", typed) == f"n{expected}"  # not the 7th choice, "n6"


def test_several_numbers_typed_are_labels_too(numbers: Survey) -> None:
    assert read(numbers, "shifted_many", "0, 7, 10") == ["n0", "n7", "n10"]
    assert read(numbers, "shifted_many", "1 2") == ["n1", "n2"]


def test_a_label_wins_over_a_position(numbers: Survey) -> None:
    assert read(numbers, "confusing", "1") == "b"  # labelled 1, although "Thirty" is first
    assert read(numbers, "confusing", "thirty") == "a"
    assert read(numbers, "confusing", "2") == Rejected(
        '"2" is not one of the options. Please reply with one of the options, as shown.'
    )


def test_codes_that_are_other_numbers_than_positions_are_not_positions(numbers: Survey) -> None:
    assert read(numbers, "reversed", "1") == "1"  # the code 1 ("Disagree!"), never position 1
    assert read(numbers, "reversed", "strongly agree") == "5"
    assert read(numbers, "reversed", "6", "fr") == Rejected(
        "« 6 » ne fait pas partie des options. Veuillez répondre par l’une des options, telle "
        "qu’elle est affichée.".replace("« ", f"«{NBSP}").replace(" »", f"{NBSP}»")
    )
    assert read(numbers, "nps", "11") == Rejected(
        '"11" is not one of the options. Please reply with one of the options, as shown.'
    )


@pytest.mark.parametrize("question_id", ["comment", "essay"])
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Please keep your answer within 4,000 characters; it now has 100,000."),
        ("fr", "4\u202f000"),
        ("es", "4.000"),
        ("ar", "4,000"),
        ("ru", "4\xa0000"),
        ("zh", "4,000"),
    ],
)
def test_a_huge_text_is_refused_naming_the_global_limit(
    survey: Survey, question_id: str, language: str, expected: str
) -> None:
    """Without a max_length, or with one above it, a text is held to TEXT_LIMIT."""
    assert TEXT_LIMIT == 4000
    result = parse_input(
        survey, survey.question(question_id), Typed("x" * 100_000), language=language, today=TODAY
    )
    assert isinstance(result, Rejected)
    assert expected in result.message
    fits = parse_input(
        survey,
        survey.question(question_id),
        Typed("y" * TEXT_LIMIT),
        language=language,
        today=TODAY,
    )
    assert fits == "y" * TEXT_LIMIT


@pytest.mark.parametrize(
    "typed",
    [
        "<!channel> <@U123> @everyone *bold* _it_ ~s~ `code`",
        '<b>bold</b> <a href="https://evil.example">link</a> &amp; &lt;',
        "\u202eevil\u202c \u200bzero\u200d width\ufeff",
        "esc \x1b[2J vt \x0b bell \x07",
        '=HYPERLINK("https://evil.example") +1 -1 @SUM(A1)',
    ],
)
def test_free_text_is_kept_as_typed(survey: Survey, typed: str) -> None:
    assert (
        parse_input(survey, survey.question("comment"), Typed(typed), language="en", today=TODAY)
        == typed
    )


def test_a_nul_is_removed_from_free_text(survey: Survey) -> None:
    """PostgreSQL text cannot hold U+0000: it goes, on every backend, and nothing else."""
    typed = Typed("a\x00b\x00\x0b\x1b")
    assert parse_input(survey, survey.question("comment"), typed, language="en", today=TODAY) == (
        "ab\x0b\x1b"
    )
