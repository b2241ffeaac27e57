"""How a round's responses become rows of a table: which columns, and what goes in each cell.

Pure functions; the file writers (CSV, XLSX, JSON) live in ``bot.exporting`` and stream rows
produced here one at a time, so a large round is never held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from surveys.definition import AnswerValue, Question, QuestionType, Survey, pick
from surveys.records import ExportRow

Cell = str | int | float | None


class ValueStyle(StrEnum):
    CODES = "codes"
    LABELS = "labels"


FIXED_COLUMNS = (
    "response_id",
    "delegation",
    "delegation_name",
    "region",
    "participant",
    "email",
    "language",
    "status",
    "started_at",
    "submitted_at",
)


@dataclass(frozen=True)
class Column:
    key: str
    question: Question | None = None


def columns(survey: Survey) -> list[Column]:
    """The fixed columns, then one per question that takes an answer, in survey order."""
    fixed = [Column(key) for key in FIXED_COLUMNS]
    return fixed + [Column(question.id, question) for question in survey.questions if question.asks]


def cell_value(
    survey: Survey,
    question: Question,
    value: AnswerValue | None,
    *,
    style: ValueStyle,
    language: str,
) -> Cell:
    """One answer as a cell: codes, or labels in ``language``; several choices joined by "; "."""
    if value is None:
        return None
    if isinstance(value, list):
        if style is ValueStyle.LABELS:
            return "; ".join(_label(survey, question, code, language) for code in value)
        return "; ".join(value)
    if (
        style is ValueStyle.LABELS
        and isinstance(value, str)
        and question.type in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO)
    ):
        return _label(survey, question, value, language)
    return value


def _label(survey: Survey, question: Question, code: str, language: str) -> str:
    for option in survey.choices_of(question):
        if option.value == code:
            return pick(option.label, language, survey.default_language)
    return code


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def row_cells(
    survey: Survey,
    row: ExportRow,
    *,
    style: ValueStyle,
    language: str,
) -> list[Cell]:
    delegation = row.delegation
    fixed: list[Cell] = [
        row.response_id,
        delegation.code if delegation else None,
        delegation.name if delegation else None,
        delegation.region if delegation else None,
        row.participant.name,
        row.participant.email,
        row.participant.language,
        row.status.value,
        _iso(row.started_at),
        _iso(row.submitted_at),
    ]
    answers = [
        cell_value(survey, question, row.answers.get(question.id), style=style, language=language)
        for question in survey.questions
        if question.asks
    ]
    return fixed + answers


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "|")


def spreadsheet_safe(cell: Cell) -> Cell:
    """Defuse text a spreadsheet would run as a formula (CSV injection): prefix it with ``'``.

    Numbers stay numbers; only text starting with a formula trigger is changed.
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell
