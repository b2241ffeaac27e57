"""Random small surveys, random delegates: the engine never raises and its state stays valid."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.survey_files import read_survey_file
from surveys import engine, expressions
from surveys.answers import Pressed, Rejected, Typed
from surveys.definition import Question, QuestionType, Scale, Survey
from surveys.engine import Accepted, Prompt, Summary
from surveys.errors import DefinitionError
from surveys.inputs import fold, parse_input
from surveys.records import ResponseState

TODAY = date(2025, 3, 25)
NOW = datetime(2025, 3, 25, 9, 30, tzinfo=UTC)
LANGUAGES = ["en", "fr", "es", "ar", "de"]

CODES = ["a", "b", "c", "d"]
LABELS = {
    "a": {"en": "Alpha", "fr": "Été"},
    "b": {"en": "Beta, gamma", "fr": "Bêta"},
    "c": {"en": "3", "fr": "Trois"},  # a label that is also an option number
    "d": {"en": "Delta", "fr": "delta"},
}
CHOICE_LISTS = {
    "two": [{"value": code, "label": LABELS[code]} for code in CODES[:2]],
    "four": [{"value": code, "label": LABELS[code]} for code in CODES],
}
ASKING_TYPES = [t for t in QuestionType if t is not QuestionType.NOTE]
NUMERIC = {QuestionType.INTEGER, QuestionType.DECIMAL, QuestionType.SCALE}


@st.composite
def surveys(draw: st.DrawFn, build: Callable[..., Survey]) -> Survey:
    count = draw(st.integers(1, 6))
    questions: list[dict[str, Any]] = []
    earlier: list[tuple[str, QuestionType, str | None]] = []  # id, type, choice list
    for index in range(count):
        qid = f"q{index}"
        kind = draw(st.sampled_from([*ASKING_TYPES, QuestionType.NOTE]))
        data: dict[str, Any] = {
            "id": qid,
            "type": kind.value,
            "label": {"en": f"Q{index}?", "fr": f"Q{index} ?"},
        }
        choices: str | None = None
        if kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
            choices = draw(st.sampled_from(sorted(CHOICE_LISTS)))
            data["choices"] = choices
        if kind is QuestionType.MULTIPLE_CHOICE:
            size = len(CHOICE_LISTS[choices or "two"])
            low = draw(st.none() | st.integers(0, size))
            high = draw(st.none() | st.integers(max(low or 1, 1), size + 1))
            data.update(min_selected=low, max_selected=high)
        if kind is QuestionType.SCALE:
            low = draw(st.integers(-1, 2))
            high = draw(st.integers(low + 1, low + 8))
            data["scale"] = {
                "min": low,
                "max": high,
                "step": draw(st.integers(1, min(2, high - low))),
            }
        if kind in (QuestionType.INTEGER, QuestionType.DECIMAL):
            low_bound = draw(st.none() | st.integers(-5, 5))
            high_bound = draw(st.none() | st.integers(-5 if low_bound is None else low_bound, 20))
            data.update(min=low_bound, max=high_bound)
        if kind is QuestionType.TEXT:
            data["max_length"] = draw(st.none() | st.integers(1, 8))
        if kind is not QuestionType.NOTE:
            data["required"] = draw(st.booleans())
            data["constraint"] = draw(st.none() | st.sampled_from(_constraints(kind)))
        if earlier and draw(st.integers(0, 3)) > 0:  # mostly conditional
            data["relevant"] = draw(st.sampled_from([_condition(*ref) for ref in earlier]))
        questions.append(data)
        if kind is not QuestionType.NOTE:
            earlier.append((qid, kind, choices))
    return build(*questions, choice_lists=CHOICE_LISTS)


def _constraints(kind: QuestionType) -> list[str]:
    if kind in NUMERIC:
        return [". >= 2", ". != 3", ". mod 2 = 0"]
    if kind is QuestionType.TEXT:
        return ["string-length(.) >= 2", "regex(., '[a-z ]*')"]
    if kind is QuestionType.MULTIPLE_CHOICE:
        return ["count-selected(.) <= 2", "not(selected(., 'a'))"]
    if kind is QuestionType.SINGLE_CHOICE:
        return [". != 'b'"]
    if kind is QuestionType.YES_NO:
        return [". = 'yes'"]
    return [". != '2025-03-01'"]


def _condition(qid: str, kind: QuestionType, choices: str | None) -> str:
    ref = "${" + qid + "}"
    match kind:
        case QuestionType.SINGLE_CHOICE:
            return f"{ref} = 'a' or {ref} = ''"
        case QuestionType.MULTIPLE_CHOICE:
            return f"selected({ref}, 'b')"
        case QuestionType.YES_NO:
            return f"{ref} = 'yes'"
        case QuestionType.SCALE | QuestionType.INTEGER | QuestionType.DECIMAL:
            return f"{ref} >= 2"
        case QuestionType.TEXT:
            return f"string-length({ref}) > 1"
        case _:
            return f"{ref} != ''"


typed_texts = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "1",
            "2",
            "3",
            "4",
            "0",
            "-1",
            "1, 2",
            "2;3",
            "1 3",
            "a",
            "b",
            "C",
            "Alpha",
            "ete",
            "Beta, gamma",
            "trois",
            "yes",
            "non",
            "Sí",
            "لا",
            "2,5",
            "3.5",
            "1 500",
            "nan",
            "inf",
            "1e5",
            "10",
            "٣",
            "2025-03-01",
            "31/02/2025",
            "1/3/2025",
            "xyz",
        ]
    ),
    st.integers(-3, 12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.floats(-10, 10).map(lambda number: f"{number:.2f}".replace(".", ",")),
    st.text(max_size=12),
)
pressed_codes = st.lists(
    st.sampled_from([*CODES, "yes", "no", "z", "", *map(str, range(-1, 12))]), max_size=4
).map(tuple)

actions = st.one_of(
    st.tuples(st.just("typed"), typed_texts),
    st.tuples(st.just("pressed"), pressed_codes),
    st.tuples(st.just("back"), st.none()),
    st.tuples(st.just("skip"), st.none()),
    st.tuples(st.just("edit"), st.integers(0, 6).map(lambda index: f"q{index}")),
)


def test_random_delegates_keep_the_state_valid(make_survey: Callable[..., Survey]) -> None:
    @settings(max_examples=200, deadline=None)
    @given(survey=surveys(make_survey), data=st.data())
    def run(survey: Survey, data: st.DataObject) -> None:
        state = engine.start(survey, today=TODAY)
        assert_valid(survey, state)
        for _ in range(data.draw(st.integers(0, 25), label="steps")):
            language = data.draw(st.sampled_from(LANGUAGES), label="language")
            likely = data.draw(st.booleans(), label="plausible")
            strategy = plausible_inputs(survey, state) if likely else actions
            kind, argument = data.draw(strategy, label="action")
            state = apply(survey, state, kind, argument, language)
            assert_valid(survey, state)
            shown = engine.step(survey, state, language=language, today=TODAY)
            if state.current is None:
                assert isinstance(shown, Summary)
            else:
                assert isinstance(shown, Prompt)
                assert shown.question.id == state.current
                assert 1 <= shown.position <= shown.total

    run()


def plausible_inputs(survey: Survey, state: ResponseState) -> st.SearchStrategy[tuple[str, Any]]:
    """Inputs likely to be accepted for the current question, so that walks get somewhere."""
    if state.current is None:
        return st.tuples(st.just("edit"), st.sampled_from([q.id for q in survey.questions]))
    question = survey.question(state.current)
    codes = [option.value for option in survey.choices_of(question)]
    typed: st.SearchStrategy[str]
    match question.type:
        case QuestionType.SINGLE_CHOICE | QuestionType.YES_NO:
            return st.tuples(st.just("pressed"), st.sampled_from(codes).map(lambda c: (c,)))
        case QuestionType.MULTIPLE_CHOICE:
            return st.tuples(st.just("pressed"), st.lists(st.sampled_from(codes)).map(tuple))
        case QuestionType.SCALE:
            typed = st.sampled_from((question.scale or Scale()).points()).map(str)
        case QuestionType.INTEGER:
            typed = st.integers(-6, 21).map(str)
        case QuestionType.DECIMAL:
            typed = st.floats(-6, 21).map(lambda number: f"{number:.1f}")
        case QuestionType.TEXT:
            typed = st.text("abc XYZ", max_size=10)
        case _:
            typed = st.builds(
                date.strftime,
                st.dates(date(2024, 1, 1), date(2026, 12, 31)),
                st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"]),
            )
    return st.tuples(st.just("typed"), typed)


def apply(
    survey: Survey, state: ResponseState, kind: str, argument: Any, language: str
) -> ResponseState:
    outcome: engine.Outcome
    if kind == "back":
        return engine.back(survey, state, today=TODAY)
    if kind == "skip":
        outcome = engine.skip(survey, state, language=language, now=NOW, today=TODAY)
    elif kind == "edit":
        outcome = engine.edit(survey, state, argument, language=language, today=TODAY)
    else:
        raw = Typed(argument) if kind == "typed" else Pressed(argument)
        outcome = engine.answer(survey, state, raw, language=language, today=TODAY, now=NOW)
    if isinstance(outcome, Rejected):
        assert outcome.message.strip()
        return state
    assert isinstance(outcome, Accepted)
    return outcome.state


def assert_valid(survey: Survey, state: ResponseState) -> None:
    relevant = {q.id for q in engine.relevant_questions(survey, state.answers, today=TODAY)}
    assert set(state.answers) <= relevant, "an answer to a question that does not apply"
    assert state.current is None or state.current in relevant
    assert engine.is_complete(survey, state, today=TODAY) == (state.current is None)
    for question_id, value in state.answers.items():
        question = survey.question(question_id)
        if value is None:
            assert not question.required
            continue
        assert_well_typed(survey, question, value)
        if question.constraint is not None:
            tree = expressions.parse(question.constraint)
            assert expressions.evaluate(tree, state.answers, current=value, today=TODAY)


def assert_well_typed(survey: Survey, question: Question, value: object) -> None:
    codes = [option.value for option in survey.choices_of(question)]
    match question.type:
        case QuestionType.SINGLE_CHOICE | QuestionType.YES_NO:
            assert isinstance(value, str) and value in codes
        case QuestionType.MULTIPLE_CHOICE:
            assert isinstance(value, list) and value
            assert value == [code for code in codes if code in value]  # distinct, in order
            assert len(value) >= (question.min_selected or 1)
            assert question.max_selected is None or len(value) <= question.max_selected
        case QuestionType.SCALE:
            assert type(value) is int and value in (question.scale or Scale()).points()
        case QuestionType.INTEGER | QuestionType.DECIMAL:
            expected = int if question.type is QuestionType.INTEGER else float
            assert type(value) is expected
            assert isinstance(value, int | float) and math.isfinite(value)
            assert question.min is None or value >= question.min
            assert question.max is None or value <= question.max
        case QuestionType.TEXT:
            assert isinstance(value, str) and value == value.strip() and value
            assert question.max_length is None or len(value) <= question.max_length
        case QuestionType.DATE:
            assert isinstance(value, str) and date.fromisoformat(value).isoformat() == value
        case QuestionType.NOTE:
            raise AssertionError("a note has an answer")


# --- typing a choice's label selects that choice, in every list Itinera ships or tests --------

ROOT = Path(__file__).resolve().parents[2]
FORMS = sorted((ROOT / "surveys" / "examples").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "fixtures" / "xlsform").glob("*.xlsx")
)


def _loadable(path: Path) -> Survey | None:
    try:
        return read_survey_file(path)
    except DefinitionError:
        return None  # the fixtures of refused forms


CHOICE_QUESTIONS: list[tuple[str, Survey, Question]] = [
    (path.name, survey, question.model_copy(update={"choice_filter": None}))
    for path in FORMS
    if (survey := _loadable(path)) is not None
    for question in survey.questions
    if survey.choices_of(question)
]


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


SPELLINGS: list[Callable[[str], str]] = [
    lambda label: label,
    str.upper,
    str.lower,
    _strip_accents,
    lambda label: f"  {label}  ",
]


def test_the_property_sees_the_lists_that_matter() -> None:
    names = {name for name, _, _ in CHOICE_QUESTIONS}
    assert {"route_alignment.yaml", "nps_numbers.xlsx", "kobo_route_feedback.xlsx"} <= names
    assert "cascading_selects.xlsx" in names and "languages_by_name.xlsx" in names


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_typing_any_label_in_its_language_selects_exactly_that_choice(data: st.DataObject) -> None:
    name, survey, question = data.draw(st.sampled_from(CHOICE_QUESTIONS), label="question")
    options = survey.choices_of(question)
    choice = data.draw(st.sampled_from(options), label="choice")
    language = data.draw(st.sampled_from(sorted(choice.label)), label="language")
    spell = data.draw(st.sampled_from(SPELLINGS), label="spelling")
    typed = spell(choice.label[language])

    value = parse_input(survey, question, Typed(typed), language=language, today=TODAY)

    expected = [choice.value] if question.type is QuestionType.MULTIPLE_CHOICE else choice.value
    assert value == expected, (name, question.id, typed)

    # A label no other choice has in any language selects it whatever the delegate's language.
    folded = fold(typed)
    others = [
        o for o in options if o is not choice for lb in o.label.values() if fold(lb) == folded
    ]
    if not others:
        anyone = data.draw(st.sampled_from(survey.languages), label="delegate")
        value = parse_input(survey, question, Typed(typed), language=anyone, today=TODAY)
        assert value == expected, (name, question.id, typed, anyone)
