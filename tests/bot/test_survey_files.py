"""Reading survey files: dispatch on the suffix, and every failure as a located DefinitionError."""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.survey_files import (
    check_survey_file,
    last_value_row,
    read_survey_file,
    read_xlsx_sheets,
    survey_source_kind,
)
from surveys.definition import QuestionType
from surveys.errors import DefinitionError

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
XLSFORM = ROOT / "tests" / "fixtures" / "xlsform"
THEMES = ("return", "transfer", "durable_solutions", "alternatives", "asylum_systems")

MINIMAL_YAML = """\
id: demo
version: "1"
title: {en: Demo}
default_language: en
languages: [en]
questions:
  - id: q1
    type: text
    label: {en: "Why?"}
"""


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        read_survey_file(path)
    assert caught.value.source == str(path)
    return [str(problem) for problem in caught.value.problems]


# -- dispatch ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.yaml", "yaml"), ("a.yml", "yaml"), ("A.YAML", "yaml"), ("a.xlsx", "xlsform")],
)
def test_source_kind(name: str, kind: str) -> None:
    assert survey_source_kind(Path(name)) == kind


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("form.xls", ".xlsx"),
        ("form.csv", "CSV"),
        ("form.xlsm", "macro"),
        ("form.json", "'.json'"),
        ("form", "(no suffix)"),
    ],
)
def test_other_suffixes_are_refused(tmp_path: Path, name: str, words: str) -> None:
    path = tmp_path / name
    path.write_text("whatever")

    (problem,) = problems_of(path)

    assert words in problem


def test_missing_file(tmp_path: Path) -> None:
    for name in ("absent.yaml", "absent.xlsx"):
        (problem,) = problems_of(tmp_path / name)
        assert problem.startswith("cannot read the file")


# -- YAML --------------------------------------------------------------------------------------


def test_example_survey_reads() -> None:
    survey = read_survey_file(EXAMPLE)

    assert survey.id == "route_alignment"
    assert survey.default_language == "en"
    assert survey.languages == ("en", "fr", "es", "ar", "ru", "zh")
    assert set(survey.themes) == set(THEMES)
    for theme in THEMES:
        tagged = [q.id for q in survey.questions if theme in q.tags]
        assert tagged == [
            f"alignment_{theme}",
            f"engagement_{theme}",
            f"frameworks_{theme}",
            f"frameworks_other_{theme}",
            f"comment_{theme}",
        ]
        assert survey.question(f"alignment_{theme}").required
        assert survey.question(f"frameworks_other_{theme}").relevant == (
            f"selected(${{frameworks_{theme}}}, 'other')"
        )
    assert len(survey.choice_lists["frameworks"]) <= 10
    priorities = survey.question("priorities")
    assert (priorities.min_selected, priorities.max_selected, priorities.required) == (1, 3, True)
    assert survey.question("follow_up").type is QuestionType.YES_NO
    assert survey.question("follow_up_date").relevant == "${follow_up} = 'yes'"


def test_example_survey_is_fully_translated() -> None:
    survey = read_survey_file(EXAMPLE)

    for language in survey.languages:
        assert language in survey.title
        assert language in survey.intro
        for name in survey.themes.values():
            assert language in name
        for question in survey.questions:
            assert language in question.label, question.id
            if question.hint:
                assert language in question.hint, question.id
            if question.scale:
                assert language in question.scale.min_label
                assert language in question.scale.max_label
        for options in survey.choice_lists.values():
            for option in options:
                assert language in option.label, option.value


def test_minimal_yaml(tmp_path: Path) -> None:
    path = tmp_path / "demo.yml"
    path.write_text(MINIMAL_YAML, encoding="utf-8")

    assert read_survey_file(path).question("q1").type is QuestionType.TEXT


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(MINIMAL_YAML + "  - id: [unclosed\n", encoding="utf-8")

    (problem,) = problems_of(path)

    assert problem.startswith("line 11, column ")
    assert "invalid YAML" in problem


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(MINIMAL_YAML.replace("    type: text\n", "    type: text\n    type: note\n"))

    (problem,) = problems_of(path)

    assert problem.startswith("line 9, column 5: ")
    assert "the key 'type' appears twice" in problem


def test_yaml_problems_name_the_question_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(MINIMAL_YAML + "    min: 3\n", encoding="utf-8")

    assert problems_of(path) == [
        "question 'q1' (line 7): min/max apply to integer and decimal questions only"
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- a\n- b\n", "a survey must be a mapping of fields"),
    ],
)
def test_yaml_that_is_not_a_survey(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(content, encoding="utf-8")

    assert problems_of(path) == [message]


def test_yaml_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: {fr: Démo}\n".encode("latin-1"))

    assert problems_of(path) == ["the file is not UTF-8 text"]


def test_error_message_starts_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("[]\n", encoding="utf-8")

    with pytest.raises(DefinitionError, match=r"^.*odd\.yaml: "):
        read_survey_file(path)


# -- XLSX --------------------------------------------------------------------------------------


def test_kobo_workbook_reads(tmp_path: Path) -> None:
    path = tmp_path / "Kobo Export.XLSX"
    shutil.copy(XLSFORM / "kobo_route_feedback.xlsx", path)

    survey = read_survey_file(path)

    assert survey.id == "kobo_route_feedback"
    assert len(survey.questions) == 10


def test_sheet_rows_keep_real_row_numbers() -> None:
    sheets = read_xlsx_sheets(XLSFORM / "kobo_route_feedback.xlsx")

    numbers = [number for number, _ in sheets["survey"]]
    assert numbers[0] == 2
    assert 15 not in numbers  # the blank row is left out
    assert numbers[-1] == 16
    assert sheets["settings"] == [
        (
            2,
            {
                "form_title": "Route-based approach: feedback",
                "form_id": "kobo_route_feedback",
                "version": "1 (2026-01-15 10:00:00)",
                "default_language": "English (en)",
            },
        )
    ]


def test_headers_are_stripped_and_duplicates_refused(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "survey"
    sheet.append([" type ", "name", "label ", None, "name"])
    sheet.append(["text", "q", "Q", "stray", "q2"])
    path = tmp_path / "dup.xlsx"
    workbook.save(path)

    assert problems_of(path) == ["survey sheet: column 'name' appears twice"]

    sheet.delete_cols(5)
    workbook.save(path)
    assert read_xlsx_sheets(path)["survey"] == [(2, {"type": "text", "name": "q", "label": "Q"})]


def test_refused_rows_in_a_workbook(tmp_path: Path) -> None:
    (problem,) = problems_of(XLSFORM / "unsupported_repeat.xlsx")

    assert problem == (
        "survey sheet, row 4: type 'begin_repeat' (repeat groups) is not supported; ask one "
        "question per item, or for a list in a text question"
    )


def test_corrupt_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(os.urandom(4096))

    assert problems_of(path) == ["not a readable .xlsx workbook (is the file damaged?)"]


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "archive.xlsx"
    shutil.make_archive(str(tmp_path / "archive"), "zip", root_dir=XLSFORM, base_dir=".")
    (tmp_path / "archive.zip").rename(path)

    assert problems_of(path) == ["not a readable .xlsx workbook (is the file damaged?)"]


def test_truncated_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "truncated.xlsx"
    data = (XLSFORM / "kobo_route_feedback.xlsx").read_bytes()
    path.write_bytes(data[: len(data) // 2])

    assert problems_of(path) == ["not a readable .xlsx workbook (is the file damaged?)"]


# -- the extent in use, and what validate reports ---------------------------------------------


def _sheet_xml(rows: str, *, prefix: str = "") -> io.BytesIO:
    ns = f"xmlns{':' + prefix[:-1] if prefix else ''}"
    xml = (
        f'<?xml version="1.0"?><{prefix}worksheet {ns}="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><{prefix}sheetData>{rows}</{prefix}sheetData>'
        f"</{prefix}worksheet>"
    )
    return io.BytesIO(xml.encode())


@pytest.mark.parametrize(
    ("rows", "last"),
    [
        ('<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="7"><c r="A7" s="1"/></row>', 1),
        (
            '<row r="1"><c r="A1"><v>1</v></c></row><row r="9"><c r="B9" t="inlineStr">'
            "<is><t>x</t></is></c></row>",
            9,
        ),
        (
            '<row><c><v>1</v></c></row><row><c s="2"/></row><row><c><v>3</v></c></row>'
            + '<row><c s="2"/></row>' * 50,
            3,
        ),
        ('<row r="3" spans="1:2"><c r="A3" s="1"/></row>', 0),
        ("", 0),
        ('<row r="1"><c r="A1"><v>1</v></c></row><row><c><v>2</v></c></row>', None),  # mixed
    ],
)
def test_last_value_row(rows: str, last: int | None) -> None:
    assert last_value_row(_sheet_xml(rows)) == last


def test_last_value_row_with_a_namespace_prefix_and_small_reads() -> None:
    rows = (
        '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
        + "".join(f'<x:row r="{n}"><x:c r="A{n}" s="1"/></x:row>' for n in range(2, 3000))
        + '<x:row r="3000"><x:c r="C3000"><x:v>9</x:v></x:c></x:row>'
    )
    stream = _sheet_xml(rows, prefix="x:")

    assert last_value_row(stream) == 3000


def test_a_sheet_is_read_to_its_last_value_whatever_it_declares(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    for number in range(2, 40):
        sheet.append(["text", f"q{number}", f"Q{number}"])
    path = tmp_path / "declared.xlsx"
    workbook.save(path)
    # A writer that declares a smaller sheet than it holds: openpyxl alone would stop at row 3.
    patched = tmp_path / "patched.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                part = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:C3"', part)
            target.writestr(item, part)

    assert [number for number, _ in read_xlsx_sheets(patched)["survey"]] == list(range(2, 40))


def test_a_million_declared_empty_rows_are_left_unread() -> None:
    sheets = read_xlsx_sheets(XLSFORM / "million_empty_rows.xlsx")

    assert sheets["survey"] == [
        (2, {"type": "text", "name": "office", "label": "Which office?"}),
        (3, {"type": "integer", "name": "staff", "label": "How many staff?"}),
    ]


def test_the_report_names_languages_types_and_warnings() -> None:
    checked = check_survey_file(XLSFORM / "languages_by_name.xlsx")

    report = checked.report()

    assert report[0] == ("languages: German (de, default), English (en), French (fr), Amharic (am)")
    assert report[1] == (
        "note: Itinera's own messages (buttons, reminders, errors) exist in Arabic, Chinese, "
        "English, French, Russian, Spanish; delegates reading German (de), Amharic (am) get the "
        "survey's texts in their language and those messages in English"
    )
    assert report[2] == "questions: 1 single choice, 1 text"
    assert sum(line.startswith("note: ") for line in report) == 1  # said once


def test_the_report_of_a_form_with_warnings() -> None:
    report = check_survey_file(XLSFORM / "warnings_shown.xlsx").report()

    assert report[:2] == [
        "languages: English (en, default), French (fr)",
        "questions: 2 single choice, 1 integer, 1 note",
    ]
    warnings = [line for line in report if line.startswith("warning: ")]
    assert "warning: survey: no 'fr' label for 'staff'" in warnings
    assert "warning: choice list 'spare': is not used by any question" in warnings
    assert any("appearance 'minimal' (row 2) is ignored" in line for line in warnings)
    assert any("'media::image::English (en)' (row 3) is ignored" in line for line in warnings)


def test_a_yaml_survey_is_reported_too() -> None:
    report = check_survey_file(EXAMPLE).report()

    assert report == [
        "languages: English (en, default), French (fr), Spanish (es), Arabic (ar), Russian (ru), "
        "Chinese (zh)",
        "questions: 5 single choice, 6 multiple choice, 5 scale, 1 yes/no, 10 text, 1 date, "
        "9 notes",
    ]
