"""Export cells: codes or labels, columns in survey order, spreadsheet-safe text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys.export import (
    FIXED_COLUMNS,
    NAMED_COLUMNS,
    XLSX_CELL_LIMIT,
    ValueStyle,
    cell_value,
    columns,
    csv_cell,
    cut_marker,
    json_cell,
    order_key,
    printable,
    row_cells,
    spreadsheet_safe,
    utf16_length,
    xlsx_cell,
)
from surveys.records import (
    Attribution,
    Ballot,
    Delegation,
    ExportRow,
    Participant,
    ResponseStatus,
    Role,
)


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


@pytest.mark.parametrize(
    "cell",
    [
        " =1+1",
        '\u00a0=HYPERLINK("x")',
        "\u200b=cmd|' /C calc'!A0",
        "\u202e=1+1",
        "\ufeff@SUM(A1)",
        "\n=1",
        "\r+1",
        "\uff1d1+1",  # full-width equals sign
        "  \t-2",
        "|cmd",
    ],
)
def test_spreadsheet_safe_sees_through_white_space_and_invisible_marks(cell: str) -> None:
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Plain text", "Déjà engagé", "a=b", "3 + 4", "مرحبا =", "_x"])
def test_spreadsheet_safe_leaves_text_that_does_not_start_a_formula(cell: str) -> None:
    assert spreadsheet_safe(cell) == cell


def row_of(name: str, email: str, *, response_id: int = 7, code: str = "SEN") -> ExportRow:
    return ExportRow(
        response_id=response_id,
        participant=Participant(
            name=name, email=email, role=Role.DELEGATE, delegation=code, id=3, language="fr"
        ),
        delegation=Delegation(code, {"SEN": "Senegal", "FRA": "France"}[code], "Region"),
        status=ResponseStatus.SUBMITTED,
        started_at=datetime(2026, 11, 2, 9, 0, 17, tzinfo=UTC),
        submitted_at=datetime(2026, 11, 2, 9, 30, 41, tzinfo=UTC),
        answers={"topic": "trade", "count": 3, "comment": "Fine"},
    )


def test_each_attribution_has_its_columns_and_cells(survey) -> None:
    row = row_of("Aminata Diop", "a@x.org")
    ballot = Ballot(ballot_id="3f" * 16, round_id=1, answers=dict(row.answers))
    questions = ["topic", "topics", "count", "comment", "ok"]
    expected = {
        Attribution.NAMED: (NAMED_COLUMNS, row),
        Attribution.DELEGATION: (
            (
                "delegation",
                "delegation_name",
                "region",
                "status",
                "started_on",
                "submitted_on",
            ),
            row,
        ),
        Attribution.ANONYMOUS: (("ballot",), ballot),
    }
    for attribution, (fixed, item) in expected.items():
        keys = [column.key for column in columns(survey, attribution=attribution)]
        assert keys == [*fixed, *questions]
        cells = row_cells(
            survey, item, style=ValueStyle.CODES, language="en", attribution=attribution
        )
        assert len(cells) == len(keys)
        assert cells[len(fixed) :] == ["trade", None, 3, "Fine", None]
    delegation = row_cells(
        survey, row, style=ValueStyle.CODES, language="en", attribution=Attribution.DELEGATION
    )
    assert delegation[:6] == ["SEN", "Senegal", "Region", "submitted", "2026-11-02", "2026-11-02"]
    anonymous = row_cells(
        survey, ballot, style=ValueStyle.CODES, language="en", attribution=Attribution.ANONYMOUS
    )
    assert anonymous[:1] == ["3f" * 16]


@pytest.mark.parametrize("attribution", list(Attribution))
def test_responses_and_ballots_never_cross(survey, attribution) -> None:
    """An anonymous round is written from ballots only, and a ballot only as one: a response
    (with its identity and times) never becomes a row of an anonymous export."""
    row = row_of("Aminata Diop", "a@x.org")
    ballot = Ballot(ballot_id="0" * 32, round_id=1, answers={})
    wrong = ballot if attribution is not Attribution.ANONYMOUS else row
    with pytest.raises(TypeError, match="anonymous round is exported from its ballots"):
        row_cells(survey, wrong, style=ValueStyle.CODES, language="en", attribution=attribution)


def test_without_names_no_cell_tells_one_delegate_from_another(survey) -> None:
    """Two delegates of one delegation with the same answers: their rows are the same, so
    nothing in them (id, name, email, language, time) says which is whose."""
    attribution = Attribution.DELEGATION
    first = row_of("Aminata Diop", "aminata@x.org", response_id=7)
    second = row_of("Ibrahima Sarr", "ibrahima@x.org", response_id=8)
    second = ExportRow(
        **{
            **second.__dict__,
            "started_at": datetime(2026, 11, 2, 14, 5, tzinfo=UTC),
            "submitted_at": datetime(2026, 11, 2, 16, 45, tzinfo=UTC),
        }
    )
    cells = [
        row_cells(survey, row, style=ValueStyle.CODES, language="en", attribution=attribution)
        for row in (first, second)
    ]
    assert cells[0] == cells[1]
    written = repr(cells)
    for identity in ("Aminata", "aminata@x.org", "Ibrahima", "7", "8", "09:00", "fr"):
        assert identity not in written


def test_the_order_key_depends_only_on_what_a_row_shows() -> None:
    rows = [
        ["SEN", "Senegal", "R", "submitted", "2026-11-02", "2026-11-03", "b"],
        ["FRA", "France", "R", "submitted", "2026-11-02", "2026-11-04", "a"],
        ["FRA", "France", "R", "submitted", "2026-11-02", "2026-11-02", "z"],
    ]
    by_delegation = sorted(rows, key=lambda r: order_key(r, attribution=Attribution.DELEGATION))
    assert [row[0] for row in by_delegation] == ["FRA", "FRA", "SEN"]
    assert [row[5] for row in by_delegation] == ["2026-11-02", "2026-11-04", "2026-11-03"]
    ballots = [["c" * 32, 1], ["a" * 32, 2], ["b" * 32, 3]]
    ordered = sorted(ballots, key=lambda r: order_key(r, attribution=Attribution.ANONYMOUS))
    assert [row[1] for row in ordered] == [2, 3, 1]
    assert order_key(rows[0], attribution=Attribution.DELEGATION) == order_key(
        list(rows[0]), attribution=Attribution.DELEGATION
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x00b\x0bc\x1bd", "a\ufffdb\ufffdc\ufffdd"),
        ("tab\tline\nreturn\r", "tab\tline\nreturn\r"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("c1 \x85\x9b", "c1 \ufffd\ufffd"),
        ("\ufffe\uffff", "\ufffd\ufffd"),
        ("bidi \u202eok\u202c, zero\u200bwidth", "bidi \u202eok\u202c, zero\u200bwidth"),
    ],
)
def test_printable_replaces_what_no_format_should_hold(text: str, expected: str) -> None:
    assert printable(text) == expected


def test_a_long_text_is_cut_to_a_cell_with_a_marker() -> None:
    text = "é" * 100_000
    cut = xlsx_cell(text)
    assert isinstance(cut, str)
    assert utf16_length(cut) <= XLSX_CELL_LIMIT
    assert cut.endswith(cut_marker(100_000)) and "100,000 characters" in cut
    assert cut.startswith("é" * 30_000)
    emoji = "\U0001f600" * 20_000  # each counts twice, as Excel counts
    cut = xlsx_cell(emoji)
    assert isinstance(cut, str) and utf16_length(cut) <= XLSX_CELL_LIMIT
    marker = cut_marker(20_000)
    assert cut.endswith(marker) and set(cut[: -len(marker)]) == {"\U0001f600"}
    exactly = "x" * XLSX_CELL_LIMIT
    assert xlsx_cell(exactly) == exactly


def test_xlsx_keeps_an_escape_looking_text_literal() -> None:
    assert xlsx_cell("_x0041_ stays") == "_x005F_x0041_ stays"


def test_cells_per_format() -> None:
    assert csv_cell(None) == "" and csv_cell(3) == 3 and csv_cell(-2.5) == -2.5
    assert csv_cell("=1\x00") == "'=1\ufffd"
    assert xlsx_cell(None) is None and xlsx_cell("\x1b[31m") == "\ufffd[31m"
    assert json_cell("a\ud800\x00") == "a\ufffd\x00"  # JSON escapes controls itself
    assert json_cell(None) is None and json_cell(4) == 4
