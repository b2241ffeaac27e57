"""XLSForm translation: in-memory sheets for each rule, real Kobo-shaped workbooks end to end."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.survey_files import read_xlsx_sheets
from surveys.definition import QuestionType, Scale
from surveys.errors import DefinitionError
from surveys.language_names import language_code
from surveys.xlsform import (
    Row,
    Sheets,
    cell_text,
    content_version,
    safe_form_id,
    translate_xlsform,
    xlsform_to_survey,
)

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
    ("type_", "written", "reason", "instead"),
    [
        ("begin_repeat", "begin_repeat", "repeat groups", "ask one question per item"),
        ("begin repeat", "begin repeat", "repeat groups", "ask one question per item"),
        ("geopoint", "geopoint", "locations", "ask for the place in a text question"),
        ("geotrace", "geotrace", "locations", "ask for the place in a text question"),
        ("geoshape", "geoshape", "locations", "ask for the place in a text question"),
        ("image", "image", "media capture", "ask for a link to the file in a text question"),
        ("audio", "audio", "media capture", "ask for a link to the file in a text question"),
        ("video", "video", "media capture", "ask for a link to the file in a text question"),
        ("file", "file", "media capture", "ask for a link to the file in a text question"),
        ("barcode", "barcode", "barcodes", "ask for the code in a text question"),
        ("calculate", "calculate", "calculations", "compute the value from the export instead"),
        ("rank", "rank", "ranking", "use select_multiple"),
        (
            "select_one_from_file countries.csv",
            "select_one_from_file",
            "choices from a file",
            "copy the file's rows",
        ),
        (
            "select one from file countries.csv",
            "select one from file",
            "choices from a file",
            "copy the file's rows",
        ),
        (
            "select_one_external cities",
            "select_one_external",
            "external choices",
            "copy the external_choices rows",
        ),
        ("acknowledge", "acknowledge", "acknowledgements", "use a note or a select_one yes_no"),
        ("datetime", "datetime", "dates with times", "use a date question"),
    ],
)
def test_unsupported_types_are_refused_by_row_with_a_way_round(
    type_: str, written: str, reason: str, instead: str
) -> None:
    sheets = make_sheets(
        {"type": "text", "name": "a", "label": "A"},
        {"type": type_, "name": "b", "label": "B"},
    )

    problems = problems_of(sheets)

    assert problems[0].startswith(
        f"survey sheet, row 3: type {written!r} ({reason}) is not supported; {instead}"
    )


def test_unknown_type_is_refused() -> None:
    sheets = make_sheets({"type": "signature", "name": "s", "label": "Sign"})

    assert problems_of(sheets) == ["survey sheet, row 2: type 'signature' is not supported"]


@pytest.mark.parametrize("suffix", ["or_other", "or specify other", "or other"])
def test_or_other_adds_other_and_a_text_follow_up(suffix: str) -> None:
    sheets = make_sheets(
        {"type": f"select_one yes_no {suffix}", "name": "q", "label": "Q"},
        {"type": "select_one yes_no", "name": "plain", "label": "Plain"},
        choices=YES_NO,
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert [q.id for q in survey.questions] == ["q", "q_other", "plain"]
    question = survey.question("q")
    assert [c.value for c in survey.choices_of(question)] == ["yes", "no", "other"]
    assert survey.choices_of(question)[-1].label == {"en": "Other"}
    follow = survey.question("q_other")
    assert follow.type is QuestionType.TEXT
    assert follow.relevant == "selected(${q}, 'other')"
    assert follow.label == {"en": "Please specify."}
    # The list itself is unchanged for the questions that did not ask for "Other".
    assert [c.value for c in survey.choices_of(survey.question("plain"))] == ["yes", "no"]


def test_or_other_cannot_be_filtered_nor_collide() -> None:
    sheets = make_sheets(
        {"type": "select_one yes_no or_other", "name": "q", "label": "Q", "choice_filter": "1=1"},
        {"type": "select_one yes_no or_other", "name": "r", "label": "R"},
        {"type": "text", "name": "r_other", "label": "Mine"},
        choices=YES_NO,
    )

    assert problems_of(sheets) == [
        "survey sheet, row 2: choice_filter cannot be combined with or_other: add an 'other' "
        "choice to the list and a text question relevant on it",
        "survey sheet, row 4: name 'r_other' is already used at the top of the form (row 3)",
    ]


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

    problems = problems_of(sheets)

    assert [problem.split(";")[0] for problem in problems] == [
        "survey sheet, row 2: type 'begin_repeat' (repeat groups) is not supported",
        "survey sheet, row 5: type 'geopoint' (locations) is not supported",
        "survey sheet, row 6: name 'inside' is already used at the top of the form (row 3)",
        "survey sheet, row 7: column 'calculation': calculations are not supported",
        "survey sheet, row 8: required 'sometimes': write yes or no (a condition here is not "
        "supported",
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


def test_media_cells_are_ignored_with_a_warning() -> None:
    sheets = make_sheets(
        {"type": "note", "name": "n", "label": "N", "media::image::English (en)": "map.png"},
        {"type": "note", "name": "m", "label": "M", "media::image::English (en)": "m.png"},
        {"type": "select_one yes_no", "name": "q", "label": "Q", "audio": "q.mp3"},
        choices=[*YES_NO, {"list_name": "yes_no", "name": "maybe", "label": "?", "image": "m.png"}],
    )

    translation = translate_xlsform(sheets, source=None)

    assert [str(w) for w in translation.warnings] == [
        "choices sheet: column 'image' (row 4) is ignored: images, audio and video are not "
        "shown in chat",
        "survey sheet: column 'media::image::English (en)' (rows 2, 3) is ignored: images, "
        "audio and video are not shown in chat",
        "survey sheet: column 'audio' (row 4) is ignored: images, audio and video are not "
        "shown in chat",
    ]
    assert [q.id for q in translation.survey.questions] == ["n", "m", "q"]


def test_a_choice_filter_naming_unknown_things_is_refused_at_load() -> None:
    sheets = make_sheets(
        {"type": "select_one yes_no", "name": "q", "label": "Q", "choice_filter": "x = 1"},
        {"type": "select_one yes_no", "name": "r", "label": "R", "choice_filter": "${nope} = 1"},
        {"type": "select_one yes_no", "name": "s", "label": "S", "choice_filter": "${t} = 'a'"},
        {"type": "text", "name": "t", "label": "T"},
        choices=YES_NO,
    )

    assert problems_of(sheets) == [
        "question 'q' (survey sheet, row 2): choice_filter 'x = 1': unknown choice column 'x' "
        "(the choices have: name) at character 1",
        "question 'r' (survey sheet, row 3): choice_filter '${nope} = 1': unknown question "
        "'nope' at character 1",
        "question 's' (survey sheet, row 4): choice_filter \"${t} = 'a'\": refers to 't', which "
        "is not asked before this question at character 1",
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


def test_without_default_language_the_first_label_column_is_the_default() -> None:
    sheets = make_sheets(
        {
            "type": "text",
            "name": "q",
            "label::French (fr)": "Pourquoi ?",
            "label::English (en)": "Why?",
        },
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert survey.default_language == "fr"
    assert survey.languages == ("fr", "en")


def test_a_bare_label_column_first_is_english() -> None:
    sheets = make_sheets(
        {"type": "text", "name": "q", "label": "Why?", "label::French (fr)": "Pourquoi ?"},
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert survey.default_language == "en"
    assert survey.question("q").label == {"en": "Why?", "fr": "Pourquoi ?"}


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
    sheets = make_sheets({"type": "text", "name": "q", "label": "Q", "label::Martian": "Q'"})

    assert problems_of(sheets) == [
        "survey sheet: column 'label::Martian': cannot tell its language; "
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
        ("fr", "fr"),
        ("Français", "fr"),
        ("francais", "fr"),
        ("Deutsch", "de"),
        ("German", "de"),
        ("Amharic", "am"),
        ("አማርኛ", "am"),
        ("Kiswahili", "sw"),
        ("Русский", "ru"),
        ("中文", "zh"),
        ("Klingon (tlh)", "tlh"),
        ("Martian", None),
        ("Something (not a code!)", None),
        ("", None),
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


def test_without_a_file_name_the_form_id_is_needed() -> None:
    sheets: dict[str, list[Row]] = {"survey": [(2, {"type": "text", "name": "q", "label": "Q"})]}

    with pytest.raises(DefinitionError) as caught:
        xlsform_to_survey(sheets, source=None)

    assert [str(p) for p in caught.value.problems] == [
        "settings sheet: form_id (the survey id) is missing"
    ]


def test_settings_default_to_the_file_name_and_the_content() -> None:
    sheets: dict[str, list[Row]] = {"survey": [(2, {"type": "text", "name": "q", "label": "Q"})]}

    survey = xlsform_to_survey(sheets, source="forms/Needs assessment 2026 (v2).xlsx")

    assert survey.id == "Needs_assessment_2026_v2"
    assert survey.title == {"en": "Needs_assessment_2026_v2"}
    assert survey.version == content_version(survey)
    assert len(survey.version) == 12
    edited = {"survey": [(2, {"type": "text", "name": "q", "label": "Q, edited"})]}
    again = xlsform_to_survey(sheets, source="other.xlsx", form_name="Needs assessment 2026 (v2)")
    assert again.version == survey.version  # same content, same version
    assert xlsform_to_survey(edited, source="x.xlsx").version != survey.version


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("route_feedback", "route_feedback"),
        ("Évaluation des besoins", "Evaluation_des_besoins"),
        ("2026 survey", "form_2026_survey"),
        ("***", "form"),
        ("a" * 80, "a" * 64),
    ],
)
def test_safe_form_id(name: str, safe: str) -> None:
    assert safe_form_id(name) == safe


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
        "survey sheet, row 4: type 'begin_repeat' (repeat groups) is not supported; ask one "
        "question per item, or for a list in a text question"
    ]


def test_media_and_geo_workbook() -> None:
    path = FIXTURES / "media_and_geo.xlsx"

    assert problems_of(read_xlsx_sheets(path)) == [
        "survey sheet, row 3: type 'geopoint' (locations) is not supported; ask for the place "
        "in a text question (a town, or coordinates typed as text)",
        "survey sheet, row 4: type 'image' (media capture) is not supported; ask for a link to "
        "the file in a text question",
        "survey sheet, row 6: type 'calculate' (calculations) is not supported; compute the "
        "value from the export instead",
    ]


def _load_make_fixtures() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_xlsform_fixtures", FIXTURES / "make_fixtures.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parts(path: Path) -> dict[str, bytes]:
    """The workbook's parts, but its creation time (openpyxl stamps it on every save)."""
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"
        }


def test_fixtures_are_what_the_script_writes(tmp_path: Path) -> None:
    written = _load_make_fixtures().write_fixtures(tmp_path)

    assert sorted(path.name for path in written) == sorted(
        path.name for path in FIXTURES.glob("*.xlsx")
    )
    for path in written:
        assert _parts(path) == _parts(FIXTURES / path.name), path.name


def test_words_after_a_plain_type_are_refused() -> None:
    sheets = make_sheets(
        {"type": "integer big", "name": "q", "label": "Q"},
        settings={"form_id": "my form", "version": "1"},
    )

    assert problems_of(sheets) == [
        "survey sheet, row 2: type 'integer big': unexpected words after it",
    ]


def test_a_form_id_with_spaces_is_made_safe() -> None:
    sheets = make_sheets(
        {"type": "integer", "name": "q", "label": "Q"},
        settings={"form_id": "Spec test 2026", "version": "1"},
    )

    translation = translate_xlsform(sheets, source=None)

    assert translation.survey.id == "Spec_test_2026"
    assert [str(w) for w in translation.warnings] == [
        "settings sheet: form_id 'Spec test 2026' is used as 'Spec_test_2026' (letters, "
        "digits, '_', '.', '-')"
    ]


# -- forms as KoboToolbox and ODK users write them: one fixture per variant ---------------------


def fixture(name: str) -> Any:
    path = FIXTURES / name
    return translate_xlsform(read_xlsx_sheets(path), source=str(path))


def test_settings_are_optional() -> None:
    translation = fixture("Feedback form (copy).xlsx")
    survey = translation.survey

    assert survey.id == "Feedback_form_copy"  # the file name, made safe
    assert survey.version == content_version(survey)  # the content
    assert survey.default_language == "fr"  # the first label column
    assert survey.languages == ("fr", "en")
    assert survey.title == {"fr": "Feedback_form_copy", "en": "Feedback_form_copy"}
    assert survey.question("office").required


def test_languages_by_name_in_any_language() -> None:
    survey = fixture("languages_by_name.xlsx").survey

    assert survey.default_language == "de"  # default_language: Deutsch
    assert survey.languages == ("de", "en", "fr", "am")
    assert survey.question("engaged").label == {
        "en": "Engaged?",
        "fr": "Engagé ?",
        "de": "Engagiert?",
        "am": "ተሳትፎ?",
    }
    assert survey.question("engaged").hint == {"de": "Ja/Nein"}
    assert survey.choice_lists["yes_no"][0].label["am"] == "አዎ"
    assert survey.title == {"de": "Sprachen", "en": "Sprachen", "fr": "Sprachen", "am": "Sprachen"}


def test_languages_by_code() -> None:
    translation = fixture("languages_by_code.xlsx")
    survey = translation.survey

    assert survey.languages == ("en", "fr", "pt-BR")
    assert survey.question("office").label["pt-BR"] == "Qual escritório?"
    assert survey.question("office").hint == {"fr": "Ville"}


def test_legacy_syntax() -> None:
    survey = fixture("legacy_syntax.xlsx").survey

    assert survey.languages == ("en", "es")  # Label:English, Label:Español (one colon)
    assert [(q.id, q.type, q.choices, q.required) for q in survey.questions] == [
        ("engaged", QuestionType.SINGLE_CHOICE, "yes_or_no", True),  # select one from, TRUE
        ("topics", QuestionType.MULTIPLE_CHOICE, "topics", True),  # ... all that apply from, Yes
        ("why", QuestionType.TEXT, None, True),  # string, 1
        ("staff", QuestionType.INTEGER, None, False),  # int, no
    ]
    assert survey.question("engaged").label == {"en": "Engaged?", "es": "¿Participa?"}
    assert survey.question("staff").constraint_message == {"en": "Zero or more"}
    assert survey.choice_lists["topics"][1].label == {"en": "Return", "es": "Retorno"}


@pytest.mark.parametrize(
    ("type_", "kind"),
    [
        ("select1 l", QuestionType.SINGLE_CHOICE),
        ("select one using l", QuestionType.SINGLE_CHOICE),
        ("add select one prompt using l", QuestionType.SINGLE_CHOICE),
        ("Select_One l", QuestionType.SINGLE_CHOICE),
        ("select multiple l", QuestionType.MULTIPLE_CHOICE),
        ("select multiple from l", QuestionType.MULTIPLE_CHOICE),
        ("add select multiple prompt using l", QuestionType.MULTIPLE_CHOICE),
        ("q int", QuestionType.INTEGER),
        ("add integer prompt", QuestionType.INTEGER),
        ("add decimal prompt", QuestionType.DECIMAL),
        ("q string", QuestionType.TEXT),
        ("add text prompt", QuestionType.TEXT),
        ("add date prompt", QuestionType.DATE),
        ("add note prompt", QuestionType.NOTE),
    ],
)
def test_type_spellings(type_: str, kind: QuestionType) -> None:
    sheets = make_sheets(
        {"type": type_, "name": "q", "label": "Q"},
        choices=[{"list_name": "l", "name": "a", "label": "A"}],
    )

    assert xlsform_to_survey(sheets, source=None).question("q").type is kind


def test_column_spellings() -> None:
    sheets = make_sheets(
        {"Type": "text", "Name": "a", "Caption": "A"},
        {"type": "text", "name": "b", "label": "B", "Relevance": "${a} != ''"},
        {
            "type": "integer",
            "name": "c",
            "label": "C",
            "constraint": ". > 0",
            "Constraint Message": "Positive",
        },
        {"type": "select_one l", "name": "d", "label": "D"},
        choices=[{"List Name": "l", "Value": "x", "Label": "X"}],
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert survey.question("a").label == {"en": "A"}
    assert survey.question("b").relevant == "${a} != ''"
    assert survey.question("c").constraint_message == {"en": "Positive"}
    assert survey.choice_lists["l"][0].value == "x"


def test_one_colon_is_not_a_translation_where_the_sheet_uses_two() -> None:
    sheets = make_sheets(
        {
            "type": "integer",
            "name": "q",
            "label::English (en)": "How many?",
            "constraint": ". >= 0",
            "jr:constraintMsg::English (en)": "Zero or more",
        },
    )

    question = xlsform_to_survey(sheets, source=None).question("q")

    assert question.constraint_message == {"en": "Zero or more"}


def test_or_other_fixture() -> None:
    survey = fixture("or_other.xlsx").survey

    assert [q.id for q in survey.questions] == [
        "partner",
        "partner_other",
        "partners",
        "partners_other",
        "lead",
    ]
    other = survey.choices_of(survey.question("partner"))[-1]
    assert (other.value, other.label) == ("other", {"en": "Other", "fr": "Autre"})
    assert survey.question("partner_other").label == {
        "en": "Please specify.",
        "fr": "Veuillez préciser.",
    }
    assert survey.question("partners_other").relevant == "selected(${partners}, 'other')"
    assert [c.value for c in survey.choices_of(survey.question("lead"))] == ["unhcr", "iom"]


def test_group_labels_and_guidance_hints() -> None:
    survey = fixture("groups_and_guidance.xlsx").survey

    assert survey.groups == {"return": {"en": "Return"}, "return/details": {"en": "Details"}}
    assert [(q.id, q.group) for q in survey.questions] == [
        ("welcome", None),
        ("returns", "return"),
        ("detail_note", "return/details"),
        ("how", "return/details"),
        ("comment", "unlabelled"),
    ]
    returns = survey.question("returns")
    assert returns.hint == {"en": "Last year"}
    assert returns.guidance == {"en": "Count each person once."}
    assert returns.hint_in("en") == "Last year\nCount each person once."
    assert survey.question("how").hint_in("en") == "Name the agencies."
    assert survey.question("how").relevant == "(${returns} > 0)"


def test_repeated_names_are_qualified_by_their_group() -> None:
    survey = fixture("repeated_names.xlsx").survey

    assert [q.id for q in survey.questions] == [
        "office",  # unique: the name as written
        "return/engaged",
        "return/details",
        "transfer/engaged",
        "transfer/details",
    ]
    # ${engaged} means the one in the same group; ${office} the only one.
    assert survey.question("return/details").relevant == "${return/engaged} = 'yes'"
    assert survey.question("transfer/details").relevant == (
        "${transfer/engaged} = 'yes' and ${office} != ''"
    )


def test_a_name_used_at_the_top_and_in_a_group() -> None:
    sheets = make_sheets(
        {"type": "text", "name": "name", "label": "Your name?"},
        {"type": "begin group", "name": "partner", "label": "Partner"},
        {"type": "text", "name": "name", "label": "Partner's name?"},
        {"type": "note", "name": "hello", "label": "Hello ${name}"},
        {"type": "end group"},
        {"type": "note", "name": "bye", "label": "Bye ${name}"},
    )

    survey = xlsform_to_survey(sheets, source=None)

    assert [q.id for q in survey.questions] == ["name", "partner/name", "hello", "bye"]
    assert survey.question("hello").label == {"en": "Hello ${partner/name}"}
    assert survey.question("bye").label == {"en": "Bye ${name}"}


def test_an_ambiguous_reference_and_a_name_twice_in_one_group() -> None:
    sheets = make_sheets(
        {"type": "begin group", "name": "a"},
        {"type": "text", "name": "x", "label": "X in a"},
        {"type": "end group"},
        {"type": "begin group", "name": "b"},
        {"type": "text", "name": "x", "label": "X in b"},
        {"type": "text", "name": "x", "label": "X in b again"},
        {"type": "end group"},
        {"type": "text", "name": "y", "label": "Y", "relevant": "${x} != ''"},
    )

    assert problems_of(sheets) == [
        "survey sheet, row 7: name 'x' is already used in this group (row 6)",
        "survey sheet, row 9: relevant: ${x} could mean ${a/x}, ${b/x}; write one of those",
    ]


def test_existing_ids_do_not_change() -> None:
    # A Kobo form without repeated names keeps every name as its id, groups or not.
    survey = xlsform_to_survey(read_xlsx_sheets(FIXTURES / "kobo_route_feedback.xlsx"), source=None)

    assert "alignment_return" in [q.id for q in survey.questions]
    assert all("/" not in q.id for q in survey.questions)


def test_piping_references_are_checked() -> None:
    survey = fixture("piping.xlsx").survey
    assert survey.question("staff").hint == {"en": "In ${region} only"}

    sheets = make_sheets(
        {"type": "note", "name": "n", "label": "Hello ${who}, ${later}"},
        {"type": "text", "name": "later", "label": "Later"},
    )
    assert problems_of(sheets) == [
        "question 'n' (survey sheet, row 2): label: ${who} is not a question of this survey",
        "question 'n' (survey sheet, row 2): label: ${later} is not asked before this question",
    ]


def test_large_ranges() -> None:
    translation = fixture("large_ranges.xlsx")
    survey = translation.survey

    assert survey.question("share").scale == Scale(min=0, max=100, step=5)
    assert survey.question("budget").scale == Scale(min=0, max=1000, step=1)
    assert survey.question("rating").scale == Scale(min=0, max=10, step=2)  # 10 down to 0
    assert survey.question("years").scale == Scale(min=1, max=50, step=1)
    assert [str(w) for w in translation.warnings] == [
        "survey sheet, row 6: parameter 'tick_interval' is ignored: chat shows no slider",
        "survey sheet, row 6: parameter 'placeholder' is ignored: chat shows no slider",
    ]


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        (
            "start=0 end=1 step=0.5",
            "step='0.5': ranges of decimals are not supported; use a "
            "decimal question with a constraint",
        ),
        ("start=0 end=5 step=0", "step must not be 0"),
    ],
)
def test_range_parameters_refused(parameters: str, problem: str) -> None:
    sheets = make_sheets({"type": "range", "name": "r", "label": "R", "parameters": parameters})

    assert problems_of(sheets) == [f"survey sheet, row 2: parameters: {problem}"]


def test_descending_range_keeps_its_points() -> None:
    sheets = make_sheets(
        {"type": "range", "name": "r", "label": "R", "parameters": "start=9 end=0 step=3"}
    )

    scale = xlsform_to_survey(sheets, source=None).question("r").scale
    assert scale is not None and scale.points() == [0, 3, 6, 9]


def test_cascading_selects() -> None:
    survey = fixture("cascading_selects.xlsx").survey

    region = survey.question("region")
    assert region.choice_filter == "country = ${country}"
    assert [(c.value, c.columns) for c in survey.choice_lists["region"][:2]] == [
        ("dakar", {"country": "sen"}),
        ("thies", {"country": "sen"}),
    ]
    assert survey.choice_lists["country"][0].columns == {}  # no filter reads that list


def test_a_list_labelled_with_numbers() -> None:
    survey = fixture("nps_numbers.xlsx").survey

    assert [(c.value, c.label["en"]) for c in survey.choice_lists["nps"]] == [
        (str(n), str(n)) for n in range(11)
    ]


def test_a_million_declared_empty_rows_are_not_read() -> None:
    sheets = read_xlsx_sheets(FIXTURES / "million_empty_rows.xlsx")

    assert [number for number, _ in sheets["survey"]] == [2, 3]
    survey = xlsform_to_survey(sheets, source=None)
    assert [q.id for q in survey.questions] == ["office", "staff"]


def test_warnings_for_what_chat_shows_differently() -> None:
    translation = fixture("warnings_shown.xlsx")

    assert [str(w) for w in translation.warnings] == [
        "survey sheet, row 5: parameter 'randomize' is ignored: choices are shown in their order",
        "survey sheet: column 'media::image::English (en)' (row 3) is ignored: images, audio "
        "and video are not shown in chat",
        "survey sheet: appearance 'minimal' (row 2) is ignored: chat shows its own buttons, "
        "lists and typed answers",
        "survey sheet: appearance 'horizontal' (row 5) is ignored: chat shows its own buttons, "
        "lists and typed answers",
        "survey sheet: default (row 4) is ignored: delegates start every question unanswered",
    ]


def test_external_data_is_refused_with_a_way_round() -> None:
    path = FIXTURES / "external_data.xlsx"

    assert problems_of(read_xlsx_sheets(path)) == [
        "external_choices sheet: external choices are not supported; copy these rows into the "
        "choices sheet and use choice_filter",
        "survey sheet, row 3: type 'select_one_from_file' (choices from a file) is not "
        "supported; copy the file's rows into the choices sheet",
        "survey sheet, row 4: type 'select_one_external' (external choices) is not supported; "
        "copy the external_choices rows into the choices sheet and use choice_filter",
        "survey sheet, row 5: relevant: pulldata() reads a CSV file attached to the form, which "
        "a chat survey does not have: ask the question instead, or put the values in the "
        "choices sheet",
        "survey sheet, row 6: appearance \"search('offices')\" reads choices from a file, which "
        "is not supported; copy them into the choices sheet",
    ]
