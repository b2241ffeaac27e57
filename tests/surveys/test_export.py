"""Export cells: codes or labels, columns in survey order, spreadsheet-safe text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys.export import (
    FIXED_COLUMNS,
    ValueStyle,
    cell_value,
    columns,
    row_cells,
    spreadsheet_safe,
)
from surveys.records import Delegation, ExportRow, Participant, ResponseStatus, Role


@pytest.fixture
def survey(make_survey, make_question):
    return make_survey(
        make_question("intro", "note"),
        make_question("topic", "single_choice"),
        make_question("topics", "multiple_choice"),
        make_question("count", "integer"),
        make_question("comment", "text"),
        make_question("ok", "yes_no"),
    )


def test_columns_skip_notes_and_follow_survey_order(survey) -> None:
    keys = [column.key for column in columns(survey)]
    assert keys == [*FIXED_COLUMNS, "topic", "topics", "count", "comment", "ok"]


@pytest.mark.parametrize(
    ("question_id", "value", "style", "language", "expected"),
    [
        ("topic", "security", ValueStyle.CODES, "en", "security"),
        ("topic", "security", ValueStyle.LABELS, "fr", "Sécurité"),
        ("topics", ["trade", "peace"], ValueStyle.CODES, "en", "trade; peace"),
        ("topics", ["trade", "peace"], ValueStyle.LABELS, "es", "Comercio; Paz, justicia"),
        ("ok", "yes", ValueStyle.LABELS, "fr", "Oui"),
        ("count", 12, ValueStyle.LABELS, "fr", 12),
        ("comment", None, ValueStyle.LABELS, "fr", None),
    ],
)
def test_cell_values(survey, question_id, value, style, language, expected) -> None:
    question = survey.question(question_id)
    assert cell_value(survey, question, value, style=style, language=language) == expected


def test_row_cells_line_up_with_columns(survey) -> None:
    row = ExportRow(
        response_id=7,
        participant=Participant(
            name="Aminata Diop", email="a@x.org", role=Role.DELEGATE, delegation="SEN", id=3
        ),
        delegation=Delegation("SEN", "Senegal", "African States"),
        status=ResponseStatus.SUBMITTED,
        started_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        submitted_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        answers={"topic": "trade", "count": 3, "comment": None},
    )
    cells = row_cells(survey, row, style=ValueStyle.CODES, language="en")
    assert len(cells) == len(columns(survey))
    assert cells[:3] == [7, "SEN", "Senegal"]
    assert cells[7:10] == ["submitted", "2026-11-02T09:00:00+00:00", "2026-11-02T09:30:00+00:00"]
    assert cells[10:] == ["trade", None, 3, None, None]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 1 23", "'+33 1 23"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Plain text", "Plain text"),
        (-3, -3),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_spreadsheet_safe(cell, expected) -> None:
    assert spreadsheet_safe(cell) == expected
