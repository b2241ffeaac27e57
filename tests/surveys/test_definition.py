"""load_survey: each problem is reported with the question (or list) it concerns, all at once."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from surveys.definition import QuestionType, Survey, load_survey
from surveys.errors import DefinitionError


def make_survey_data(**overrides: Any) -> dict[str, Any]:
    """A small valid survey mapping; keyword arguments replace top-level fields."""
    data: dict[str, Any] = {
        "id": "demo",
        "version": "1",
        "title": {"en": "Demo", "fr": "Démo"},
        "default_language": "en",
        "languages": ["en", "fr"],
        "choice_lists": {
            "engagement": [
                {"value": "engaged", "label": {"en": "Engaged", "fr": "Engagé"}},
                {"value": "other", "label": {"en": "Other", "fr": "Autre"}},
            ]
        },
        "questions": [
            {"id": "welcome", "type": "note", "label": {"en": "Welcome", "fr": "Bienvenue"}},
            {
                "id": "engagement",
                "type": "single_choice",
                "choices": "engagement",
                "label": {"en": "Engaged?", "fr": "Engagé ?"},
            },
            {
                "id": "detail",
                "type": "text",
                "relevant": "${engagement} = 'other'",
                "label": {"en": "Which?", "fr": "Lequel ?"},
            },
        ],
    }
    data.update(copy.deepcopy(overrides))
    return data


def problems_of(data: object, **kwargs: Any) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_survey(data, source="demo.yaml", **kwargs)
    assert caught.value.source == "demo.yaml"
    return [str(problem) for problem in caught.value.problems]


def test_a_valid_survey_loads() -> None:
    survey = load_survey(make_survey_data(), source="demo.yaml")

    assert isinstance(survey, Survey)
    assert [q.id for q in survey.questions] == ["welcome", "engagement", "detail"]
    assert survey.question("engagement").type is QuestionType.SINGLE_CHOICE
    assert [c.value for c in survey.choices_of(survey.question("engagement"))] == [
        "engaged",
        "other",
    ]


def test_duplicate_question_id_names_the_question() -> None:
    data = make_survey_data()
    data["questions"].append(
        {"id": "engagement", "type": "text", "label": {"en": "Again", "fr": "Encore"}}
    )

    assert problems_of(data) == ["question 'engagement': this id is used by another question"]


def test_unknown_question_in_a_condition() -> None:
    data = make_survey_data()
    data["questions"][2]["relevant"] = "${nowhere} = 'x'"

    (problem,) = problems_of(data)

    assert problem.startswith("question 'detail': relevant \"${nowhere} = 'x'\": ")
    assert "nowhere" in problem.removeprefix("question 'detail': relevant")


def test_condition_on_a_later_question_says_so() -> None:
    data = make_survey_data()
    data["questions"][1]["relevant"] = "${detail} = 'x'"

    (problem,) = problems_of(data)

    assert problem.startswith("question 'engagement': relevant ")
    assert "refers to 'detail', which is not asked before this question" in problem


def test_empty_choice_list() -> None:
    data = make_survey_data(choice_lists={"engagement": []})

    problems = problems_of(data)

    assert "choice list 'engagement': has no choices" in problems


def test_missing_choice_list_names_the_question() -> None:
    data = make_survey_data()
    data["questions"][1]["choices"] = "ghost"

    problems = problems_of(data)

    assert "question 'engagement': choice list 'ghost' does not exist" in problems


def test_choice_question_without_a_list() -> None:
    data = make_survey_data()
    del data["questions"][1]["choices"]

    problems = problems_of(data)

    assert "question 'engagement': a single_choice question needs a choice list" in problems


def test_duplicate_choice_value() -> None:
    data = make_survey_data()
    data["choice_lists"]["engagement"].append({"value": "other", "label": {"en": "Else"}})

    assert "choice list 'engagement': choice 'other' appears twice" in problems_of(data)


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        ({"min": 5, "max": 1}, "scale min 5 must be below max 1"),
        ({"min": 3, "max": 3}, "scale min 3 must be below max 3"),
        ({"min": 0, "max": 4, "step": 5}, "scale step 5 is more than max - min 4"),
    ],
)
def test_bad_scale(scale: dict[str, int], message: str) -> None:
    data = make_survey_data()
    data["questions"].append(
        {"id": "rating", "type": "scale", "scale": scale, "label": {"en": "Rate", "fr": "Notez"}}
    )

    assert problems_of(data) == [f"question 'rating': {message}"]


def test_default_language_not_in_languages() -> None:
    data = make_survey_data(default_language="es")

    problems = problems_of(data)

    assert "survey: default_language 'es' is not in languages ['en', 'fr']" in problems


def test_title_missing_a_language() -> None:
    data = make_survey_data(title={"en": "Demo"})

    assert problems_of(data) == ["survey: title has no 'fr' text"]


def test_every_problem_is_reported_at_once() -> None:
    data = make_survey_data(choice_lists={"engagement": []}, default_language="es")
    data["questions"][2]["max_length"] = 10
    data["questions"].append({"id": "welcome", "type": "note", "label": {"en": "Hi"}})

    problems = problems_of(data)

    assert len(problems) >= 3
    assert "question 'welcome': this id is used by another question" in problems
    assert "choice list 'engagement': has no choices" in problems


def test_wrong_field_type_is_located_by_question_id() -> None:
    data = make_survey_data()
    data["questions"][1]["type"] = "slider"

    (problem,) = problems_of(data)

    assert problem.startswith("question 'engagement', field 'type': ")


def test_locations_are_added_to_the_question() -> None:
    data = make_survey_data()
    data["questions"][1]["max_length"] = 20

    problems = problems_of(data, locations={"engagement": "survey sheet, row 7"})

    assert problems == [
        "question 'engagement' (survey sheet, row 7): max_length applies to text questions only"
    ]


def test_error_message_starts_with_the_source() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_survey(make_survey_data(choice_lists={"engagement": []}), source="demo.yaml")

    assert str(caught.value).startswith("demo.yaml: ")


def test_not_a_mapping() -> None:
    assert problems_of([1, 2]) == ["a survey must be a mapping of fields"]


def test_constraint_on_a_choice_question_checks_its_own_codes() -> None:
    data = make_survey_data()
    data["questions"][1]["constraint"] = ". != 'other'"
    assert load_survey(data).questions[1].constraint == ". != 'other'"

    data["questions"][1]["constraint"] = ". != 'maybe'"
    problems = problems_of(data)
    assert any("'maybe' is not a choice" in problem for problem in problems), problems


# --- what XLSForms bring: groups, guidance, filters, piping --------------------------------------


def test_fields_at_their_default_stay_out_of_the_stored_json() -> None:
    # Surveys stored before groups, guidance hints and choice filters existed hash the same.
    survey = load_survey(make_survey_data())
    stored = survey.canonical_json()

    for key in ('"groups"', '"guidance"', '"group"', '"choice_filter"', '"columns"'):
        assert key not in stored
    assert Survey.model_validate_json(stored) == survey


def test_the_new_fields_are_stored_when_used() -> None:
    data = make_survey_data(groups={"g": {"en": "G", "fr": "G"}})
    data["questions"][2].update(group="g", guidance={"en": "Say which.", "fr": "Dites."})
    data["choice_lists"]["engagement"][0]["columns"] = {"region": "x"}
    survey = load_survey(data)

    again = Survey.model_validate_json(survey.canonical_json())

    assert again == survey
    assert again.question("detail").groups == ("g",)
    assert again.question("detail").hint_in("fr") == "Dites."


def test_qualified_ids_and_their_references() -> None:
    data = make_survey_data()
    data["questions"][1]["id"] = "part_one/engagement"
    data["questions"][2]["relevant"] = "${part_one/engagement} = 'other'"

    survey = load_survey(data)

    assert survey.question("part_one/engagement").type is QuestionType.SINGLE_CHOICE


def test_a_choice_filter_belongs_to_a_choice_question() -> None:
    data = make_survey_data()
    data["questions"][2]["choice_filter"] = "name = 'x'"

    assert problems_of(data) == [
        "question 'detail': only a choice question can have a choice_filter"
    ]


def test_piping_a_note_is_refused() -> None:
    data = make_survey_data()
    data["questions"][2]["label"] = {"en": "After ${welcome}", "fr": "Après ${welcome}"}

    assert problems_of(data) == ["question 'detail': label: ${welcome} is a note and has no answer"]
