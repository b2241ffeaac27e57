from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from surveys import engine
from surveys.answers import Option, Pressed, RawInput, Rejected, Typed
from surveys.definition import AnswerValue, Survey
from surveys.engine import Accepted, Prompt, Summary
from surveys.records import AnswerChange, ResponseState

TODAY = date(2025, 3, 25)
NOW = datetime(2025, 3, 25, 9, 30, tzinfo=UTC)

SurveyFactory = Callable[..., Survey]
QuestionFactory = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def survey(make_survey: SurveyFactory, make_question: QuestionFactory) -> Survey:
    q = make_question
    return make_survey(
        q("welcome", "note", label={"en": "Welcome.", "fr": "Bienvenue.", "es": "Bienvenida."}),
        q("attended", "yes_no", required=True),
        q(
            "thanks",
            "note",
            label={"en": "Thank you for attending.", "fr": "Merci d’être venu."},
            relevant="${attended} = 'yes'",
        ),
        q(
            "rating",
            "scale",
            relevant="${attended} = 'yes'",
            scale={"min": 1, "max": 5, "min_label": {"en": "Poor"}, "max_label": {"en": "Good"}},
        ),
        q("why_not", "text", relevant="${attended} = 'no'"),
        q("topics", "multiple_choice"),
        q("other", "text", relevant="selected(${topics}, 'other')", required=True),
        q("comments", "text"),
        q("closing", "note", label={"en": "Thank you.", "fr": "Merci."}),
    )


def accepted(outcome: engine.Outcome) -> Accepted:
    assert isinstance(outcome, Accepted), outcome
    return outcome


def prompt(survey: Survey, state: ResponseState, language: str = "en") -> Prompt:
    shown = engine.step(survey, state, language=language, today=TODAY)
    assert isinstance(shown, Prompt), shown
    return shown


def give(
    survey: Survey, state: ResponseState, raw: RawInput | str, language: str = "en"
) -> Accepted:
    if isinstance(raw, str):
        raw = Typed(raw)
    return accepted(engine.answer(survey, state, raw, language=language, today=TODAY, now=NOW))


def reasons(outcome: Accepted) -> list[tuple[str, str]]:
    return [(change.question_id, change.reason) for change in outcome.changes]


def walk(survey: Survey, *inputs: RawInput | str | None) -> ResponseState:
    """Start and answer in turn; ``None`` skips."""
    state = engine.start(survey)
    for raw in inputs:
        if raw is None:
            state = accepted(engine.skip(survey, state, language="en", now=NOW)).state
        else:
            state = give(survey, state, raw).state
    return state


def test_start_is_at_the_first_question_that_applies(survey: Survey) -> None:
    assert engine.start(survey) == ResponseState(answers={}, current="attended", started=True)


def test_the_first_prompt(survey: Survey) -> None:
    shown = prompt(survey, engine.start(survey), "fr")
    assert shown.question.id == "attended"
    assert shown.language == "fr"
    assert shown.label == "Question attended ?"
    assert shown.notes == ("Bienvenue.",)
    assert shown.options == (Option(1, "yes", "Oui"), Option(2, "no", "Non"))
    assert shown.current is None
    assert (shown.can_back, shown.can_skip) == (False, False)
    assert (shown.position, shown.total) == (1, 3)


def test_a_linear_walk_to_the_summary(survey: Survey) -> None:
    state = engine.start(survey)

    outcome = give(survey, state, Pressed(("yes",)))
    assert outcome.changes == (AnswerChange("attended", "yes", NOW, reason="answered"),)
    state = outcome.state
    assert state.current == "rating"
    shown = prompt(survey, state)
    assert shown.notes == ("Thank you for attending.",)
    assert (shown.position, shown.total, shown.can_back, shown.can_skip) == (2, 4, True, True)
    assert shown.options[0] == Option(1, "1", "1")
    assert shown.scale_labels == ("Poor", "Good")

    state = give(survey, state, "4").state
    assert state.current == "topics"
    state = give(survey, state, "1, 5").state
    assert state.answers["topics"] == ["trade", "other"]
    assert state.current == "other"
    shown = prompt(survey, state)
    assert (shown.position, shown.total, shown.notes) == (4, 5, ())
    state = give(survey, state, "  Migration  ").state
    assert state.current == "comments"
    outcome = accepted(engine.skip(survey, state, language="en", now=NOW))
    assert reasons(outcome) == [("comments", "skipped")]
    state = outcome.state

    assert state == ResponseState(
        answers={
            "attended": "yes",
            "rating": 4,
            "topics": ["trade", "other"],
            "other": "Migration",
            "comments": None,
        },
        current=None,
        started=True,
    )
    assert engine.is_complete(survey, state)
    summary = engine.step(survey, state, language="en")
    assert isinstance(summary, Summary)
    assert summary.notes == ("Thank you.",)
    assert [(item.question.id, item.value, item.display) for item in summary.items] == [
        ("attended", "yes", "Yes"),
        ("rating", 4, "4"),
        ("topics", ["trade", "other"], "Trade, Other"),
        ("other", "Migration", "Migration"),
        ("comments", None, "(skipped)"),
    ]
    assert summary.items[0].label == "Question attended?"


def test_the_summary_in_spanish(survey: Survey) -> None:
    state = walk(survey, "no", "", "1,2", None)
    summary = engine.step(survey, state, language="es")
    assert isinstance(summary, Summary)
    assert summary.language == "es"
    assert summary.notes == ("Thank you.",)  # the note has no Spanish: the default language
    assert [item.display for item in summary.items] == [
        "No",
        "(sin respuesta)",
        "Comercio, Seguridad",
        "(sin respuesta)",
    ]


def test_skip_logic_follows_the_answers(survey: Survey) -> None:
    state = walk(survey, "no")
    assert state.current == "why_not"
    shown = prompt(survey, state)
    assert shown.notes == ()
    assert (shown.position, shown.total) == (2, 4)
    state = walk(survey, "no", "Travel", "2")
    assert state.current == "comments"
    assert "rating" not in state.answers


def test_an_empty_answer_to_an_optional_question_skips_it(survey: Survey) -> None:
    outcome = give(survey, walk(survey, "no"), "   ")
    assert outcome.state.answers["why_not"] is None
    assert reasons(outcome) == [("why_not", "skipped")]


def test_back_at_the_first_question_stays(survey: Survey) -> None:
    state = engine.start(survey)
    assert engine.back(survey, state) == state


def test_back_from_the_middle_shows_the_previous_answer(survey: Survey) -> None:
    state = walk(survey, "yes", "4")
    assert state.current == "topics"
    state = engine.back(survey, state)
    assert state.current == "rating"
    assert prompt(survey, state).current == 4
    state = engine.back(survey, state)
    assert state.current == "attended"
    assert prompt(survey, state).current == "yes"
    assert state.answers == {"attended": "yes", "rating": 4}

    # Forward again with the same answers: nothing changes, the walk goes on in order.
    outcome = give(survey, state, "yes")
    assert outcome.changes == ()
    assert outcome.state.current == "rating"
    outcome = give(survey, outcome.state, "5")
    assert outcome.changes == (AnswerChange("rating", 5, NOW, reason="changed"),)
    assert outcome.state.current == "topics"


def test_back_skips_questions_that_do_not_apply(survey: Survey) -> None:
    state = walk(survey, "no", "Travel")
    assert engine.back(survey, state).current == "why_not"


def test_back_from_the_summary_goes_to_the_last_question(survey: Survey) -> None:
    state = walk(survey, "no", "x", "1", "y")
    assert state.current is None
    assert engine.back(survey, state).current == "comments"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This question needs an answer, so it cannot be skipped."),
        ("fr", "Cette question appelle une réponse et ne peut donc pas être passée."),
        ("es", "Esta pregunta requiere una respuesta, por lo que no se puede omitir."),
    ],
)
def test_a_required_question_cannot_be_skipped(survey: Survey, language: str, message: str) -> None:
    assert engine.skip(survey, engine.start(survey), language=language, now=NOW) == Rejected(
        message
    )


def test_a_required_question_with_its_own_message(
    make_survey: SurveyFactory, make_question: QuestionFactory
) -> None:
    survey = make_survey(
        make_question("name", required=True, required_message={"en": "Your name, please."})
    )
    state = engine.start(survey)
    assert engine.skip(survey, state, language="fr", now=NOW) == Rejected("Your name, please.")
    assert engine.answer(survey, state, Typed(""), language="en", today=TODAY, now=NOW) == Rejected(
        "Your name, please."
    )


def test_a_rejected_answer_leaves_the_state_as_it_was(survey: Survey) -> None:
    state = walk(survey, "yes")
    outcome = engine.answer(survey, state, Typed("9"), language="fr", today=TODAY, now=NOW)
    assert isinstance(outcome, Rejected)
    assert outcome.message.startswith("Veuillez choisir un nombre de 1 (Poor) à 5 (Good)")
    assert prompt(survey, state).question.id == "rating"


def test_skip_reasons(survey: Survey) -> None:
    state = walk(survey, "no", "Travel")
    state = engine.back(survey, state)
    outcome = accepted(engine.skip(survey, state, language="en", now=NOW))
    assert outcome.changes == (AnswerChange("why_not", None, NOW, reason="skipped"),)
    state = engine.back(survey, outcome.state)
    outcome = accepted(engine.skip(survey, state, language="en", now=NOW))
    assert outcome.changes == ()  # skipped already
    outcome = give(survey, engine.back(survey, outcome.state), "Now I know")
    assert outcome.changes == (AnswerChange("why_not", "Now I know", NOW, reason="answered"),)


def test_changing_an_answer_from_the_summary_clears_what_no_longer_applies(
    survey: Survey,
) -> None:
    state = walk(survey, "yes", "4", "1,5", "Migration", "Fine")
    assert state.current is None

    state = accepted(engine.edit(survey, state, "topics", language="en")).state
    assert (state.current, state.editing) == ("topics", True)
    assert prompt(survey, state).current == ["trade", "other"]

    outcome = give(survey, state, "1")
    assert outcome.changes == (
        AnswerChange("topics", ["trade"], NOW, reason="changed"),
        AnswerChange("other", None, NOW, reason="cleared"),
    )
    assert outcome.state.current is None
    assert outcome.state.editing is False
    assert "other" not in outcome.state.answers
    assert engine.is_complete(survey, outcome.state)


def test_changing_an_answer_from_the_summary_asks_what_now_applies(survey: Survey) -> None:
    state = walk(survey, "yes", "4", "1", None)
    state = accepted(engine.edit(survey, state, "attended", language="en")).state

    outcome = give(survey, state, "no")
    assert reasons(outcome) == [("attended", "changed"), ("rating", "cleared")]
    state = outcome.state
    assert (state.current, state.editing) == ("why_not", True)
    assert not engine.is_complete(survey, state)
    shown = prompt(survey, state)
    assert (shown.position, shown.total) == (2, 4)

    outcome = give(survey, state, "Travel")
    assert reasons(outcome) == [("why_not", "answered")]
    assert (outcome.state.current, outcome.state.editing) == (None, False)
    assert outcome.state.answers == {
        "attended": "no",
        "why_not": "Travel",
        "topics": ["trade"],
        "comments": None,
    }
    assert engine.is_complete(survey, outcome.state)


def test_editing_without_a_change_returns_to_the_summary(survey: Survey) -> None:
    state = walk(survey, "no", "x", "1", "y")
    state = accepted(engine.edit(survey, state, "topics", language="en")).state
    outcome = give(survey, state, "1")
    assert outcome.changes == ()
    assert (outcome.state.current, outcome.state.editing) == (None, False)


def test_editing_from_the_middle_returns_to_where_the_delegate_was(survey: Survey) -> None:
    state = walk(survey, "no", "x")
    assert state.current == "topics"
    state = accepted(engine.edit(survey, state, "why_not", language="en")).state
    state = give(survey, state, "y").state
    assert (state.current, state.editing) == ("topics", True)


@pytest.mark.parametrize("question_id", ["rating", "closing", "nowhere"])
def test_only_a_question_that_applies_can_be_edited(survey: Survey, question_id: str) -> None:
    state = walk(survey, "no", "x", "1", "y")
    assert engine.edit(survey, state, question_id, language="fr") == Rejected(
        "Cette question ne peut pas être modifiée pour le moment."
    )


def test_nothing_to_answer_once_complete(survey: Survey) -> None:
    state = walk(survey, "no", "x", "1", "y")
    message = "All questions have been answered. You may review your answers or submit them."
    assert engine.answer(
        survey, state, Typed("x"), language="en", today=TODAY, now=NOW
    ) == Rejected(message)
    assert engine.skip(survey, state, language="en", now=NOW) == Rejected(message)


def test_resume_from_a_stored_state(survey: Survey) -> None:
    stored = ResponseState(answers={"attended": "yes", "rating": 4}, current="topics", started=True)
    shown = prompt(survey, stored, "fr")
    assert (shown.question.id, shown.position, shown.total) == ("topics", 3, 4)
    state = give(survey, stored, "2").state
    assert state.current == "comments"


def test_resume_from_a_state_whose_question_no_longer_applies(survey: Survey) -> None:
    stale = ResponseState(answers={"attended": "yes"}, current="why_not", started=True)
    assert prompt(survey, stale).question.id == "rating"
    assert engine.back(survey, stale).current == "attended"
    assert not engine.is_complete(survey, stale)
    unstarted = ResponseState()
    assert prompt(survey, unstarted).question.id == "attended"


def test_is_complete_only_at_the_summary(survey: Survey) -> None:
    assert not engine.is_complete(survey, engine.start(survey))
    assert not engine.is_complete(survey, walk(survey, "no", "x", "1"))
    assert engine.is_complete(survey, walk(survey, "no", "x", "1", "y"))


def test_relevant_questions(survey: Survey) -> None:
    ids = [q.id for q in engine.relevant_questions(survey, {})]
    assert ids == ["attended", "topics", "comments"]
    answers: dict[str, AnswerValue | None] = {"attended": "yes", "topics": ["other"]}
    ids = [q.id for q in engine.relevant_questions(survey, answers)]
    assert ids == ["attended", "rating", "topics", "other", "comments"]


def test_relevance_cascades(make_survey: SurveyFactory, make_question: QuestionFactory) -> None:
    q = make_question
    survey = make_survey(
        q("a", "yes_no"),
        q("b", "yes_no", relevant="${a} = 'yes'"),
        q("c", "text", relevant="${b} = 'yes' or ${b} = ''"),
        q("d", "text", relevant="${b} = 'yes'"),
    )
    state = walk(survey, "yes", "yes", "C", "D")
    assert state.current is None
    state = accepted(engine.edit(survey, state, "a", language="en")).state
    outcome = give(survey, state, "no")
    # b no longer applies, so d, which needs b = 'yes', does not either; c does (b is empty).
    assert reasons(outcome) == [("a", "changed"), ("b", "cleared"), ("d", "cleared")]
    assert outcome.state.answers == {"a": "no", "c": "C"}
    assert outcome.state.current is None


def test_notes_only(make_survey: SurveyFactory, make_question: QuestionFactory) -> None:
    survey = make_survey(make_question("hello", "note"))
    state = engine.start(survey)
    assert state.current is None
    summary = engine.step(survey, state, language="es")
    assert summary == Summary(language="es", items=(), notes=("¿Pregunta hello?",))
    assert engine.is_complete(survey, state)
    assert engine.back(survey, state) == state


def test_a_note_with_a_hint(make_survey: SurveyFactory, make_question: QuestionFactory) -> None:
    survey = make_survey(
        make_question("n", "note", hint={"en": "Details."}), make_question("q", "integer")
    )
    assert prompt(survey, engine.start(survey)).notes == ("Question n?\nDetails.",)


@pytest.mark.parametrize(
    ("language", "prompt_language", "label", "message"),
    [
        ("fr-CA", "fr", "Question topics ?", "Veuillez choisir une seule option."),
        ("de", "en", "Question topics?", "Please choose only one option."),
        ("ar", "en", "Question topics?", "يرجى اختيار خيار واحد فقط."),
    ],
)
def test_languages_fall_back(
    make_survey: SurveyFactory,
    make_question: QuestionFactory,
    language: str,
    prompt_language: str,
    label: str,
    message: str,
) -> None:
    survey = make_survey(make_question("topics", "single_choice"))
    state = engine.start(survey)
    shown = prompt(survey, state, language)
    assert (shown.language, shown.label) == (prompt_language, label)
    outcome = engine.answer(
        survey, state, Pressed(("trade", "peace")), language=language, today=TODAY, now=NOW
    )
    assert outcome == Rejected(message)


def test_a_condition_on_today(make_survey: SurveyFactory, make_question: QuestionFactory) -> None:
    survey = make_survey(
        make_question("deadline", "date"),
        make_question("late", "text", relevant="${deadline} < today()"),
    )
    state = walk(survey, "2025-03-01")
    assert state.current == "late"
    state = walk(survey, "2025-04-01")
    assert state.current is None
    # Without a date, a condition on today() counts as true: ask rather than hide.
    assert [q.id for q in engine.relevant_questions(survey, state.answers)] == ["deadline", "late"]
    assert [q.id for q in engine.relevant_questions(survey, state.answers, today=TODAY)] == [
        "deadline"
    ]


@pytest.mark.parametrize(
    ("question_id", "value", "language", "expected"),
    [
        ("topic", "peace", "fr", "Paix, justice"),
        ("topic", "gone", "en", "gone"),
        ("topics", ["trade", "health"], "es", "Comercio, Salud pública"),
        ("topics", [], "en", ""),
        ("agree", "yes", "fr", "Oui"),
        ("agree", "no", "zh", "No"),
        ("share", 3.5, "fr", "3,5"),
        ("share", 3.5, "en", "3.5"),
        ("share", 2.0, "es", "2"),
        ("count", 1500, "fr", "1500"),
        ("when", "2025-03-01", "fr", "2025-03-01"),
        ("when", None, "fr", "(sans réponse)"),
        ("count", None, "de", "(skipped)"),
    ],
)
def test_display_value(
    make_survey: SurveyFactory,
    make_question: QuestionFactory,
    question_id: str,
    value: Any,
    language: str,
    expected: str,
) -> None:
    q = make_question
    survey = make_survey(
        q("topic", "single_choice"),
        q("topics", "multiple_choice"),
        q("agree", "yes_no"),
        q("share", "decimal"),
        q("count", "integer"),
        q("when", "date"),
    )
    question = survey.question(question_id)
    assert engine.display_value(survey, question, value, language=language) == expected


def test_expressions_are_parsed_once(survey: Survey) -> None:
    engine.parsed_expression.cache_clear()
    walk(survey, "yes", "4", "1,5", "x", "y")
    info = engine.parsed_expression.cache_info()
    assert info.misses == 3  # one per distinct condition
    assert info.hits > info.misses


# --- forms as written in KoboToolbox and ODK -------------------------------------------------

NPS = [{"value": str(n), "label": {"en": str(n)}} for n in range(11)]
REGIONS = [
    {"value": "dakar", "label": {"en": "Dakar"}, "columns": {"country": "sen"}},
    {"value": "thies", "label": {"en": "Thiès"}, "columns": {"country": "sen"}},
    {"value": "oaxaca", "label": {"en": "Oaxaca"}, "columns": {"country": "mex"}},
]
COUNTRIES = [
    {"value": "sen", "label": {"en": "Senegal", "fr": "Sénégal"}},
    {"value": "mex", "label": {"en": "Mexico", "fr": "Mexique"}},
]


@pytest.fixture(scope="module")
def kobo(make_survey: SurveyFactory, make_question: QuestionFactory) -> Survey:
    """Piping, group headings, a cascading select, an NPS list and a large range."""
    q = make_question
    return make_survey(
        q("intro", "note", label={"en": "Welcome."}),
        q("name", "text", group="you", required=True),
        q("country", "single_choice", choices="countries", group="you"),
        q(
            "region",
            "single_choice",
            choices="regions",
            choice_filter="country = ${country}",
            group="you/where",
            label={"en": "Region of ${country}, ${name}?", "fr": "Région (${country}) ?"},
            hint={"en": "In ${country} only"},
            guidance={"en": "As on the map."},
        ),
        q("nps", "single_choice", choices="nps", label={"en": "Score, ${name}?"}),
        q("share", "scale", scale={"min": 0, "max": 1000, "step": 5}),
        q("bye", "note", label={"en": "Thanks ${name}: ${nps} in ${region}."}),
        choice_lists={"countries": COUNTRIES, "regions": REGIONS, "nps": NPS},
        groups={"you": {"en": "About you", "fr": "Vous"}, "you/where": {"en": "Where"}},
    )


def test_group_headings_come_before_the_groups_first_question(kobo: Survey) -> None:
    first = prompt(kobo, engine.start(kobo))
    assert first.question.id == "name"
    assert first.notes == ("Welcome.",)
    assert first.headings == ((1, "About you"),)  # after the note, which is outside the group
    assert first.lead_in() == (("Welcome.", False), ("About you", True))

    state = walk(kobo, "Amina", Pressed(("sen",)))
    shown = prompt(kobo, state)
    assert shown.question.id == "region"
    assert shown.lead_in() == (("Where", True),)  # "About you" was shown at its first question
    assert prompt(kobo, walk(kobo, "Amina"), "fr").headings == ()  # same group, no heading


def test_answers_are_piped_into_labels_hints_and_notes(kobo: Survey) -> None:
    state = walk(kobo, "Amina <b>", Pressed(("sen",)))
    shown = prompt(kobo, state)
    assert shown.label == "Region of Senegal, Amina <b>?"  # a choice shows its label
    assert shown.hint == "In Senegal only\nAs on the map."
    assert prompt(kobo, state, "fr").label == "Région (Sénégal) ?"  # in the delegate's language

    state = walk(kobo, "Amina", Pressed(("sen",)), Pressed(("thies",)), "7", "55")
    summary = engine.step(kobo, state, language="en")
    assert isinstance(summary, Summary)
    assert summary.notes == ("Thanks Amina: 7 in Thiès.",)
    assert [item.label for item in summary.items][3] == "Score, Amina?"


def test_an_unanswered_piped_question_is_empty(kobo: Survey) -> None:
    state = walk(kobo, "Amina", None, "7", "55")  # no country, so no region either
    summary = engine.step(kobo, state, language="en")
    assert isinstance(summary, Summary)
    assert summary.notes == ("Thanks Amina: 7 in .",)


def test_a_choice_filter_offers_the_choices_of_earlier_answers(kobo: Survey) -> None:
    state = walk(kobo, "Amina", Pressed(("sen",)))
    assert [o.value for o in prompt(kobo, state).options] == ["dakar", "thies"]
    refused = engine.answer(kobo, state, Pressed(("oaxaca",)), language="en", today=TODAY, now=NOW)
    assert refused == Rejected(
        "That option is not available for this question. Please choose again."
    )
    assert give(kobo, state, "2").state.answers["region"] == "thies"  # positions of those shown

    state = walk(kobo, "Amina", Pressed(("mex",)))
    assert [o.value for o in prompt(kobo, state).options] == ["oaxaca"]


def test_changing_an_earlier_answer_clears_a_choice_it_no_longer_offers(kobo: Survey) -> None:
    state = walk(kobo, "Amina", Pressed(("sen",)), Pressed(("dakar",)))
    state = accepted(engine.edit(kobo, state, "country", language="en")).state

    outcome = give(kobo, state, Pressed(("mex",)))

    assert ("region", "cleared") in reasons(outcome)
    assert "region" not in outcome.state.answers
    assert outcome.state.current == "region"  # asked again, with Mexico's regions


def test_a_list_labelled_with_numbers_is_not_numbered(kobo: Survey) -> None:
    state = walk(kobo, "Amina", None)
    shown = prompt(kobo, state)
    assert shown.question.id == "nps"
    assert not shown.numbered
    assert [o.label for o in shown.options] == [str(n) for n in range(11)]
    for typed in ("0", "7", "10"):
        assert give(kobo, state, typed).state.answers["nps"] == typed
    assert prompt(kobo, walk(kobo, "Amina")).numbered  # countries: positions shown


def test_a_range_too_large_to_list_is_typed_within_bounds_and_step(kobo: Survey) -> None:
    state = walk(kobo, "Amina", None, "7")
    shown = prompt(kobo, state)
    assert shown.question.id == "share"
    assert shown.options == ()  # 201 points: no options, a typed number
    assert shown.number_hint == "Please type a number from 0 to 1000, in steps of 5."
    assert prompt(kobo, state, "fr").number_hint == (
        "Veuillez saisir un nombre de 0 à 1000, par pas de 5."
    )
    assert engine.answer(kobo, state, Typed("57"), language="en", today=TODAY, now=NOW) == (
        Rejected("Please type a number from 0 to 1000, in steps of 5.")
    )
    assert give(kobo, state, "995").state.answers["share"] == 995


def test_the_engine_and_the_input_parser_do_not_import_each_other() -> None:
    import ast
    from pathlib import Path

    core = Path(engine.__file__).parent

    def imports(module: str) -> set[str]:
        tree = ast.parse((core / f"{module}.py").read_text(encoding="utf-8"))
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        return found

    assert "surveys.engine" not in imports("inputs")
    assert "surveys.engine" not in imports("answers")
    assert "surveys.inputs" not in imports("answers")


def test_a_filtered_question_with_nothing_to_offer_is_not_asked(kobo: Survey) -> None:
    state = walk(kobo, "Amina", None)  # no country: no region to choose from

    shown = prompt(kobo, state)

    assert shown.question.id == "nps"
    assert "region" not in [q.id for q in engine.relevant_questions(kobo, state.answers)]


def test_what_applies_follows_the_answers_given_not_the_dict_they_are_in(survey: Survey) -> None:
    """What applies is kept for answers asked lately: by their content, so the same dict
    changed, or an equal survey that is another object, is worked out anew."""
    answers: dict[str, AnswerValue | None] = {"attended": "yes"}
    asked = [q.id for q in engine.relevant_questions(survey, answers)]
    assert "why_not" not in asked and "rating" in asked
    answers["attended"] = "no"
    again = [q.id for q in engine.relevant_questions(survey, answers)]
    assert "why_not" in again and "rating" not in again
    other = survey.model_copy(update={"questions": survey.questions[:2]})
    assert [q.id for q in engine.relevant_questions(other, answers)] == ["attended"]
    assert [q.id for q in engine.relevant_questions(survey, answers)] == again
