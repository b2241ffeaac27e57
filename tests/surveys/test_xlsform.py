"""XLSForm translation: in-memory sheets for each rule, real Kobo-shaped workbooks end to end."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.survey_files import read_xlsx_sheets
from surveys.definition import QuestionType, Scale
from surveys.errors import DefinitionError
from surveys.xlsform import Row, Sheets, cell_text, language_code, xlsform_to_survey

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "xlsform"

SETTINGS: list[Row] = [(2, {"form_id": "demo", "version": "1", "form_title": "Demo"})]


def make_sheets(
    *survey_rows: dict[str, object],
    choices: list[dict[str, object]] | None = None,
    settings: dict[str, object] | None = None,
    **extra: list[Row],
) -> dict[str, list[Row]]:
    """Sheets whose survey rows start at row 2, like a spreadsheet under its header."""
    sheets: dict[str, list[Row]] = {
        "survey": [(number, row) for number, row in enumerate(survey_rows, start=2)],
        "settings": [(2, settings)] if settings is not None else list(SETTINGS),
    }
    if choices is not None:
        sheets["choices"] = [(number, row) for number, row in enumerate(choices, start=2)]
    sheets.update(extra)
    return sheets


def problems_of(sheets: Sheets) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        xlsform_to_survey(sheets, source="form.xlsx")
    assert caught.value.source == "form.xlsx"
    return [str(problem) for problem in caught.value.problems]


YES_NO = [
    {"list_name": "yes_no", "name": "yes", "label": "Yes"},
    {"list_name": "yes_no", "name": "no", "label": "No"},
]


# -- types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("integer", QuestionType.INTEGER),
        ("int", QuestionType.INTEGER),
        ("decimal", QuestionType.DECIMAL),
        ("text", QuestionType.TEXT),
        ("string", QuestionType.TEXT),
        ("date", QuestionType.DATE),
        ("note", QuestionType.NOTE),
        ("select_one yes_no", QuestionType.SINGLE_CHOICE),
        ("select one yes_no", QuestionType.SINGLE_CHOICE),
        ("select_multiple yes_no", QuestionType.MULTIPLE_CHOICE),
        ("select all that apply yes_no", QuestionType.MULTIPLE_CHOICE),
        ("range", QuestionType.SCALE),
    ],
)
def test_supported_types(type_: str, expected: QuestionType) -> None:
    sheets = make_sheets({"type": type_, "name": "q", "label": "Q?"}, choices=YES_NO)

    question = xlsform_to_survey(sheets, source=None).question("q")

    assert question.type is expected
    if expected in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        assert question.choices == "yes_no"


def test_range_parameters_become_the_scale() -> None:
    sheets = make_sheets(
        {"type": "range", "name": "r", "label": "Rate", "parameters": "start=0 end=10 step=2"},
        {"type": "range", "name": "d", "label": "Default"},
        {"type": "range", "name": "c", "label": "Commas", "parameters": "start=1;end=5, step=1"},
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert survey.question("r").scale == Scale(min=0, max=10, step=2)
    assert survey.question("d").scale == Scale(min=1, max=10, step=1)  # XLSForm's defaults
    assert survey.question("c").scale == Scale(min=1, max=5, step=1)


def test_bad_range_parameters_are_located() -> None:
    sheets = make_sheets(
        {"type": "range", "name": "r", "label": "Rate", "parameters": "start=one end=5 size=3"},
    )

    assert problems_of(sheets) == [
        "survey sheet, row 2: parameters: start='one' must be a whole number",
        "survey sheet, row 2: parameters: unknown range parameter 'size'",
    ]


@pytest.mark.parametrize(
    ("type_", "reason"),
    [
        ("begin_repeat", "repeat groups"),
        ("begin repeat", "repeat groups"),
        ("geopoint", "locations"),
        ("geotrace", "locations"),
        ("geoshape", "locations"),
        ("image", "media and files"),
        ("audio", "media and files"),
        ("video", "media and files"),
        ("file", "media and files"),
        ("barcode", "media and files"),
        ("calculate", "calculations"),
        ("rank", "ranking"),
        ("select_one_from_file countries.csv", "choices from a file"),
        ("acknowledge", "acknowledgements; use a note or a select_one yes_no"),
    ],
)
def test_unsupported_types_are_refused_by_row(type_: str, reason: str) -> None:
    sheets = make_sheets(
        {"type": "text", "name": "a", "label": "A"},
        {"type": type_, "name": "b", "label": "B"},
    )

    problems = problems_of(sheets)

    written = type_ if type_ == "begin repeat" else type_.split()[0]
    assert problems[0] == f"survey sheet, row 3: type {written!r} ({reason}) is not supported"


def test_unknown_type_is_refused() -> None:
    sheets = make_sheets({"type": "signature", "name": "s", "label": "Sign"})

    assert problems_of(sheets) == ["survey sheet, row 2: type 'signature' is not supported"]


def test_or_other_is_refused_with_a_way_out() -> None:
    sheets = make_sheets(
        {"type": "select_one yes_no or_other", "name": "q", "label": "Q"}, choices=YES_NO
    )

    (problem,) = problems_of(sheets)

    assert problem.startswith("survey sheet, row 2: 'or_other' is not supported")
    assert "'other' choice" in problem


def test_select_without_a_list_name() -> None:
    sheets = make_sheets({"type": "select_one", "name": "q", "label": "Q"})

    assert problems_of(sheets) == [
        "survey sheet, row 2: type 'select_one' needs a choice list name"
    ]


def test_unknown_choice_list_is_located_by_row() -> None:
    sheets = make_sheets(
        {"type": "note", "name": "n", "label": "Hi"},
        {"type": "select_one ghosts", "name": "q", "label": "Q"},
        choices=YES_NO,
    )

    assert problems_of(sheets) == [
        "survey sheet, row 3: choice list 'ghosts' is not in the choices sheet"
    ]


def test_metadata_rows_are_skipped() -> None:
    sheets = make_sheets(
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {"type": "today", "name": "today"},
        {"type": "deviceid", "name": "deviceid"},
        {"type": "text", "name": "q", "label": "Q"},
    )

    assert [q.id for q in xlsform_to_survey(sheets, source=None).questions] == ["q"]


# -- rows and columns --------------------------------------------------------------------------


def test_missing_name_and_type_are_located() -> None:
    sheets = make_sheets(
        {"type": "text", "label": "No name"},
        {"name": "no_type", "label": "No type"},
        {"type": "text", "name": "2nd", "label": "Bad name"},
    )

    assert problems_of(sheets) == [
        "survey sheet, row 2: name is missing",
        "survey sheet, row 3: type is missing",
        "survey sheet, row 4: name '2nd': use at most 64 letters, digits, '_', '.', '-' "
        "(not starting with a digit)",
    ]


def test_every_problem_is_collected_before_raising() -> None:
    sheets = make_sheets(
        {"type": "begin_repeat", "name": "r", "label": "R"},
        {"type": "text", "name": "inside", "label": "Inside"},
        {"type": "end_repeat"},
        {"type": "geopoint", "name": "where", "label": "Where"},
        {"type": "text", "name": "inside", "label": "Again"},
        {"type": "text", "name": "c", "label": "C", "calculation": "1 + 1"},
        {"type": "text", "name": "req", "label": "Req", "required": "sometimes"},
    )

    assert problems_of(sheets) == [
        "survey sheet, row 2: type 'begin_repeat' (repeat groups) is not supported",
        "survey sheet, row 5: type 'geopoint' (locations) is not supported",
        "survey sheet, row 6: name 'inside' is already used (row 3)",
        "survey sheet, row 7: column 'calculation': calculations are not supported",
        "survey sheet, row 8: required 'sometimes': write yes or no",
    ]


def test_blank_rows_and_bookkeeping_only_rows_are_skipped() -> None:
    sheets: dict[str, list[Row]] = {
        "survey": [
            (2, {"type": "text", "name": "a", "label": "A"}),
            (3, {}),
            (4, {"type": None, "name": "  ", "label": None}),
            (5, {"$kuid": "abc123", "$autoname": "x"}),
            (9, {"type": "text", "name": "b", "label": "B"}),
        ],
        "settings": SETTINGS,
    }

    assert [q.id for q in xlsform_to_survey(sheets, source=None).questions] == ["a", "b"]


def test_extra_kobo_columns_are_ignored() -> None:
    sheets = make_sheets(
        {
            "type": "text",
            "name": "q",
            "label": "Q",
            "$kuid": "abc",
            "$autoname": "q",
            "appearance": "multiline",
            "default": "none",
            "read_only": "false",
            "media::image": None,
            "hxl": "#org",
        }
    )

    assert xlsform_to_survey(sheets, source=None).question("q").type is QuestionType.TEXT


def test_media_cells_and_choice_filters_are_refused() -> None:
    sheets = make_sheets(
        {"type": "note", "name": "n", "label": "N", "media::image::English (en)": "map.png"},
        {"type": "select_one yes_no", "name": "q", "label": "Q", "choice_filter": "x = 1"},
        choices=[*YES_NO, {"list_name": "yes_no", "name": "maybe", "image": "m.png"}],
    )

    assert problems_of(sheets) == [
        "choices sheet, row 4: column 'image': media are not supported",
        "choices sheet, row 4: choice 'maybe' of list 'yes_no' has no label",
        "survey sheet, row 2: column 'media::image::English (en)': media are not supported",
        "survey sheet, row 3: column 'choice_filter': choice_filter (cascading selects) "
        "is not supported",
    ]


@pytest.mark.parametrize(
    ("cell", "required"),
    [
        ("yes", True),
        ("TRUE()", True),
        ("true", True),
        ("1", True),
        (True, True),
        (1, True),
        ("no", False),
        ("false()", False),
        (False, False),
        (None, False),
        ("", False),
    ],
)
def test_required_spellings(cell: object, required: bool) -> None:
    sheets = make_sheets({"type": "text", "name": "q", "label": "Q", "required": cell})

    assert xlsform_to_survey(sheets, source=None).question("q").required is required


def test_relevant_and_constraint_are_kept_as_written() -> None:
    sheets = make_sheets(
        {"type": "select_multiple fw", "name": "fw", "label": "Frameworks"},
        {
            "type": "text",
            "name": "fw_other",
            "label": "Which?",
            "relevant": "selected(${fw}, 'other')",
        },
        {
            "type": "integer",
            "name": "n",
            "label": "How many?",
            "constraint": ". >= 0",
            "constraint_message": "Zero or more",
        },
        choices=[
            {"list_name": "fw", "name": "gcr", "label": "GCR"},
            {"list_name": "fw", "name": "other", "label": "Other"},
        ],
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert survey.question("fw_other").relevant == "selected(${fw}, 'other')"
    assert survey.question("n").constraint == ". >= 0"
    assert survey.question("n").constraint_message == {"en": "Zero or more"}


def test_tags_column() -> None:
    sheets = make_sheets(
        {"type": "text", "name": "q", "label": "Q", "tags": "return  transfer,asylum_systems"}
    )

    assert xlsform_to_survey(sheets, source=None).question("q").tags == (
        "return",
        "transfer",
        "asylum_systems",
    )


def test_groups_are_flattened_and_their_relevance_kept() -> None:
    sheets = make_sheets(
        {"type": "select_one yes_no", "name": "engaged", "label": "Engaged?"},
        {
            "type": "begin group",
            "name": "details",
            "label": "Details",
            "relevant": "${engaged} = 'yes'",
        },
        {"type": "text", "name": "how", "label": "How?"},
        {"type": "begin_group", "name": "inner", "label": "Inner"},
        {"type": "text", "name": "who", "label": "Who?", "relevant": "${how} != ''"},
        {"type": "end_group"},
        {"type": "end group"},
        {"type": "text", "name": "after", "label": "After"},
        choices=YES_NO,
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert [q.id for q in survey.questions] == ["engaged", "how", "who", "after"]
    assert survey.question("how").relevant == "(${engaged} = 'yes')"
    assert survey.question("who").relevant == "(${engaged} = 'yes') and (${how} != '')"
    assert survey.question("after").relevant is None


def test_unbalanced_groups() -> None:
    sheets = make_sheets(
        {"type": "end_group"},
        {"type": "begin_group", "name": "g"},
        {"type": "text", "name": "q", "label": "Q"},
    )

    assert problems_of(sheets) == [
        "survey sheet, row 2: 'end_group' closes no open group",
        "survey sheet, row 3: this group is never closed with 'end group'",
    ]


# -- languages ---------------------------------------------------------------------------------


def test_translation_columns_make_the_languages() -> None:
    sheets = make_sheets(
        {
            "type": "select_one yes_no",
            "name": "q",
            "label::English (en)": "Engaged?",
            "label::French (fr)": "Engagé ?",
            "label::Español (es)": "¿Participa?",
            "hint::French (fr)": "Une seule réponse",
            "required": "yes",
            "required_message::English (en)": "Please answer",
            "required_message::French (fr)": "Merci de répondre",
        },
        choices=[
            {
                "list_name": "yes_no",
                "name": "yes",
                "label::English (en)": "Yes",
                "label::French (fr)": "Oui",
            },
            {
                "list_name": "yes_no",
                "name": "no",
                "label::English (en)": "No",
                "label::French (fr)": "Non",
            },
        ],
        settings={
            "form_id": "demo",
            "version": 3,
            "form_title": "Démo",
            "form_title::English (en)": "Demo",
            "default_language": "French (fr)",
        },
    )

    survey = xlsform_to_survey(sheets, source=None)
    question = survey.question("q")

    assert survey.default_language == "fr"
    assert survey.languages == ("fr", "en", "es")
    assert survey.version == "3"
    assert survey.title == {"fr": "Démo", "en": "Demo", "es": "Démo"}
    assert question.label == {"en": "Engaged?", "fr": "Engagé ?", "es": "¿Participa?"}
    assert question.hint == {"fr": "Une seule réponse"}
    assert question.required_message == {"en": "Please answer", "fr": "Merci de répondre"}
    assert survey.choice_lists["yes_no"][0].label == {"en": "Yes", "fr": "Oui"}


def test_bare_label_goes_to_the_default_language() -> None:
    sheets = make_sheets(
        {"type": "text", "name": "q", "label": "Pourquoi ?", "label::English (en)": "Why?"},
        settings={"form_id": "demo", "version": "1", "form_title": "T", "default_language": "fr"},
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert survey.question("q").label == {"fr": "Pourquoi ?", "en": "Why?"}
    assert survey.languages == ("fr", "en")


def test_without_default_language_english_is_assumed_when_present() -> None:
    sheets = make_sheets(
        {
            "type": "text",
            "name": "q",
            "label::French (fr)": "Pourquoi ?",
            "label::English (en)": "Why?",
        },
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert survey.default_language == "en"
    assert survey.languages == ("en", "fr")


def test_only_translated_columns_make_the_first_language_the_default() -> None:
    sheets = make_sheets(
        {"type": "text", "name": "q", "label::Français (fr)": "Pourquoi ?"},
        {"type": "text", "name": "r", "label::Español (es)": "¿Por qué?", "label::fr": "Et ?"},
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert survey.default_language == "fr"
    assert survey.languages == ("fr", "es")
    assert survey.title == {"fr": "Demo", "es": "Demo"}


def test_unknown_language_column() -> None:
    sheets = make_sheets({"type": "text", "name": "q", "label": "Q", "label::Klingon": "Q'"})

    assert problems_of(sheets) == [
        "survey sheet: column 'label::Klingon': cannot tell its language; "
        "name it like 'label::French (fr)'"
    ]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("French (fr)", "fr"),
        ("fr", "fr"),
        ("French", "fr"),
        ("Español (es)", "es"),
        ("English (EN)", "en"),
        ("Português (pt-BR)", "pt-BR"),
        ("العربية (ar)", "ar"),
        ("Klingon", None),
        ("Something (not a code!)", None),
    ],
)
def test_language_code(name: str, code: str | None) -> None:
    assert language_code(name) == code


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (" a ", "a"), (5, "5"), (5.0, "5"), (2026.1, "2026.1"), (True, "true")],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


# -- settings and choices ----------------------------------------------------------------------


def test_missing_settings_are_reported() -> None:
    sheets: dict[str, list[Row]] = {"survey": [(2, {"type": "text", "name": "q", "label": "Q"})]}

    assert problems_of(sheets) == [
        "settings sheet: form_id (the survey id) is missing",
        "settings sheet: version is missing",
    ]


def test_id_string_is_accepted_as_form_id() -> None:
    sheets = make_sheets(
        {"type": "text", "name": "q", "label": "Q"},
        settings={"id_string": "kobo_form", "version": "2"},
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert survey.id == "kobo_form"
    assert survey.title == {"en": "kobo_form"}


def test_no_survey_sheet() -> None:
    assert problems_of({"settings": SETTINGS}) == ["the workbook has no 'survey' sheet"]


def test_choice_rows_are_checked() -> None:
    sheets = make_sheets(
        {"type": "select_one l", "name": "q", "label": "Q"},
        choices=[
            {"list name": "l", "name": "a", "label": "A"},
            {"list_name": "l", "name": "a", "label": "A again"},
            {"name": "b", "label": "B"},
            {"list_name": "l", "label": "C"},
            {"list_name": "l", "name": 3, "label": "Three"},
        ],
    )

    assert problems_of(sheets) == [
        "choices sheet, row 3: choice 'a' is already in list 'l' (row 2)",
        "choices sheet, row 4: list_name is missing",
        "choices sheet, row 5: name is missing",
    ]


def test_numeric_choice_names_become_text() -> None:
    sheets = make_sheets(
        {"type": "select_one l", "name": "q", "label": "Q"},
        choices=[{"list_name": "l", "name": 1.0, "label": "One"}],
    )

    assert xlsform_to_survey(sheets, source=None).choice_lists["l"][0].value == "1"


def test_themes_sheet_names_the_tags() -> None:
    sheets = make_sheets(
        {"type": "text", "name": "q", "label": "Q", "tags": "return"},
        themes=[(2, {"name": "return", "label": "Return", "label::French (fr)": "Retour"})],
        settings={"form_id": "demo", "version": "1", "form_title": "Demo"},
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert survey.themes == {"return": {"en": "Return", "fr": "Retour"}}


# -- real workbooks ----------------------------------------------------------------------------


def test_kobo_export_translates_whole() -> None:
    path = FIXTURES / "kobo_route_feedback.xlsx"

    survey = xlsform_to_survey(read_xlsx_sheets(path), source=path.name)

    assert survey.id == "kobo_route_feedback"
    assert survey.version == "1 (2026-01-15 10:00:00)"
    assert survey.default_language == "en"
    assert survey.languages == ("en", "fr")
    assert survey.title == {
        "en": "Route-based approach: feedback",
        "fr": "Route-based approach: feedback",
    }
    assert [(q.id, q.type.value) for q in survey.questions] == [
        ("welcome", "note"),
        ("alignment_return", "scale"),
        ("engagement_return", "single_choice"),
        ("frameworks_return", "multiple_choice"),
        ("frameworks_other_return", "text"),
        ("asylum_officers", "integer"),
        ("budget_share", "decimal"),
        ("follow_up", "single_choice"),
        ("follow_up_date", "date"),
        ("comments", "text"),
    ]
    alignment = survey.question("alignment_return")
    assert alignment.scale == Scale(min=1, max=5, step=1)
    assert alignment.required
    assert alignment.tags == ("return",)
    assert alignment.hint == {
        "en": "1 = not at all, 5 = fully",
        "fr": "1 = pas du tout, 5 = pleinement",
    }
    assert alignment.label_in("fr").startswith("Dans quelle mesure")
    other = survey.question("frameworks_other_return")
    assert other.relevant == "selected(${frameworks_return}, 'other')"
    assert other.required
    budget = survey.question("budget_share")
    assert budget.constraint == ". >= 0 and . <= 100"
    assert budget.constraint_message["fr"] == "Saisissez un pourcentage de 0 à 100."
    assert survey.question("follow_up").choices == "yes_no"
    assert survey.question("follow_up_date").relevant == "${follow_up} = 'yes'"
    assert [c.value for c in survey.choice_lists["engagement"]] == [
        "engaged",
        "planning",
        "considering",
        "not_planning",
        "not_applicable",
    ]
    assert survey.choice_lists["frameworks"][0].label == {
        "en": "Global Compact on Refugees",
        "fr": "Pacte mondial sur les réfugiés",
    }


def test_kobo_problems_name_the_row() -> None:
    path = FIXTURES / "kobo_route_feedback.xlsx"
    sheets: dict[str, Any] = dict(read_xlsx_sheets(path))
    sheets["choices"] = [row for row in sheets["choices"] if row[1]["list_name"] != "frameworks"]

    problems = problems_of(sheets)

    assert problems == ["survey sheet, row 8: choice list 'frameworks' is not in the choices sheet"]


def test_unsupported_repeat_workbook() -> None:
    path = FIXTURES / "unsupported_repeat.xlsx"

    assert problems_of(read_xlsx_sheets(path)) == [
        "survey sheet, row 4: type 'begin_repeat' (repeat groups) is not supported"
    ]


def test_media_and_geo_workbook() -> None:
    path = FIXTURES / "media_and_geo.xlsx"

    assert problems_of(read_xlsx_sheets(path)) == [
        "survey sheet, row 3: type 'geopoint' (locations) is not supported",
        "survey sheet, row 4: type 'image' (media and files) is not supported",
        "survey sheet, row 5: column 'media::image::English (en)': media are not supported",
        "survey sheet, row 6: type 'calculate' (calculations) is not supported",
    ]


def _load_make_fixtures() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_xlsform_fixtures", FIXTURES / "make_fixtures.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cell_values(path: Path) -> dict[str, list[tuple[object, ...]]]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets
        }
    finally:
        workbook.close()


def test_fixtures_are_what_the_script_writes(tmp_path: Path) -> None:
    written = _load_make_fixtures().write_fixtures(tmp_path)

    assert sorted(path.name for path in written) == sorted(
        path.name for path in FIXTURES.glob("*.xlsx")
    )
    for path in written:
        assert _cell_values(path) == _cell_values(FIXTURES / path.name), path.name


def test_words_after_a_plain_type_are_refused() -> None:
    sheets = make_sheets(
        {"type": "integer big", "name": "q", "label": "Q"},
        settings={"form_id": "my form", "version": "1"},
    )

    assert problems_of(sheets) == [
        "settings sheet: form_id 'my form': use letters, digits, '_', '.', '-'",
        "survey sheet, row 2: type 'integer big': unexpected words after it",
    ]
