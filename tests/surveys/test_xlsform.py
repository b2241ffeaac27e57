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
            name: archive.read(name)
            for name in archive.namelist()
            if name != "docProps/core.xml"
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
        "settings sheet: form_id 'my form': use at most 64 letters, digits, '_', '.', '-' "
        "(not starting with a digit)",
        "survey sheet, row 2: type 'integer big': unexpected words after it",
    ]
