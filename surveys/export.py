"""How a round's responses become rows of a table: which columns, and what goes in each cell.

Pure functions; the file writers (CSV, XLSX, JSON) live in ``bot.exporting`` and stream rows
produced here one at a time (in a round whose attribution hides who answered, they are sorted
first, see :func:`order_key`).

What an export carries follows the round's :class:`~surveys.records.Attribution`:

- ``named``: the response id, the delegation, the participant's name, email and language, and
  the exact start and submission times (:data:`NAMED_COLUMNS`);
- ``delegation``: the delegation (code, name, region), the status and the days the response
  was started and submitted; nothing that tells one delegate of a delegation from another
  (:data:`DELEGATION_COLUMNS`), rows sorted by delegation then by their content;
- ``anonymous``: written from the round's ballots (:class:`~surveys.records.Ballot`), never
  from responses: the ballot's random id and the answers (:data:`ANONYMOUS_COLUMNS`), no
  status, no time, rows in ballot-id order, so their order follows neither the roster, nor
  the delegations, nor the order of submission.

Cells go through one guard per format before they are written: :func:`csv_cell`,
:func:`xlsx_cell` and :func:`json_cell` (text a spreadsheet would run as a formula is prefixed
with ``'``; characters a format cannot hold are replaced with U+FFFD; XLSX texts longer than a
cell holds are cut with a marker).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from surveys.definition import AnswerValue, Question, QuestionType, Survey, pick
from surveys.records import Attribution, Ballot, ExportRow

Cell = str | int | float | None


class ValueStyle(StrEnum):
    CODES = "codes"
    LABELS = "labels"


NAMED_COLUMNS = (
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
"""The fixed columns of a named round: who answered, exactly when."""

FIXED_COLUMNS = NAMED_COLUMNS
"""The fixed columns of a named round (the name exports had before attribution levels)."""

DELEGATION_COLUMNS = (
    "delegation",
    "delegation_name",
    "region",
    "status",
    "started_on",
    "submitted_on",
)
"""The fixed columns of a round attributed by delegation: the State, never the person."""

ANONYMOUS_COLUMNS = ("ballot",)
"""The fixed column of an anonymous round: the ballot's random id; no identity, no time."""

ExportItem = ExportRow | Ballot
"""What an export writes a row from: a response (named, delegation) or a ballot (anonymous)."""


def fixed_columns(attribution: Attribution) -> tuple[str, ...]:
    """The columns before the questions' for a round with ``attribution``."""
    if attribution is Attribution.NAMED:
        return NAMED_COLUMNS
    if attribution is Attribution.DELEGATION:
        return DELEGATION_COLUMNS
    return ANONYMOUS_COLUMNS


@dataclass(frozen=True)
class Column:
    key: str
    question: Question | None = None


def columns(survey: Survey, *, attribution: Attribution = Attribution.NAMED) -> list[Column]:
    """The fixed columns, then one per question that takes an answer, in survey order."""
    fixed = [Column(key) for key in fixed_columns(attribution)]
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


def _day(moment: datetime | None) -> str | None:
    """The UTC day alone: a time to the second would match a row to the status list."""
    return moment.date().isoformat() if moment else None


def row_cells(
    survey: Survey,
    row: ExportItem,
    *,
    style: ValueStyle,
    language: str,
    attribution: Attribution = Attribution.NAMED,
) -> list[Cell]:
    """One response's (or ballot's) cells, lined up with :func:`columns` for ``attribution``.

    An anonymous round is written from ballots only; a response of one is refused, so that no
    caller can put a response's identity or times beside its answers by mistake."""
    fixed: list[Cell]
    if isinstance(row, Ballot) or attribution is Attribution.ANONYMOUS:
        if not isinstance(row, Ballot) or attribution is not Attribution.ANONYMOUS:
            raise TypeError("an anonymous round is exported from its ballots, and only it is")
        fixed = [row.ballot_id]
        return fixed + _answer_cells(survey, row.answers, style=style, language=language)
    delegation = row.delegation
    if attribution is Attribution.NAMED:
        fixed = [
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
    elif attribution is Attribution.DELEGATION:
        fixed = [
            delegation.code if delegation else None,
            delegation.name if delegation else None,
            delegation.region if delegation else None,
            row.status.value,
            _day(row.started_at),
            _day(row.submitted_at),
        ]
    return fixed + _answer_cells(survey, row.answers, style=style, language=language)


def _answer_cells(
    survey: Survey,
    answers: dict[str, AnswerValue | None],
    *,
    style: ValueStyle,
    language: str,
) -> list[Cell]:
    return [
        cell_value(survey, question, answers.get(question.id), style=style, language=language)
        for question in survey.questions
        if question.asks
    ]


def keeps_roster_order(attribution: Attribution) -> bool:
    """Whether an export may list responses in roster order (only when it names people)."""
    return attribution is Attribution.NAMED


def order_key(cells: Sequence[Cell], *, attribution: Attribution) -> tuple[str, ...]:
    """Where a row of a delegation or anonymous export goes: a ballot by its random id; a
    response by delegation, then by the day it was submitted, then by a hash of the whole row.

    The order is a function of what the rows show, never of who wrote them: two exports of
    the same answers list them alike whatever order the roster or the store gives; rows that
    tie show exactly the same cells."""
    if attribution is Attribution.ANONYMOUS:
        return (str(cells[0]),)
    fixed = fixed_columns(attribution)
    by_key = dict(zip(fixed, cells, strict=False))
    written = json.dumps(list(cells), ensure_ascii=False, separators=(",", ":"))
    content = hashlib.sha256(written.encode("utf-8", "surrogatepass")).hexdigest()
    submitted = str(by_key.get("submitted_on") or "")
    return (str(by_key.get("delegation") or ""), submitted, content)


# -- what each format can hold --------------------------------------------------------------

REPLACEMENT = "\ufffd"
"""What a character a format cannot hold becomes: visible, and never mistaken for text."""

XLSX_CELL_LIMIT = 32_767
"""Most characters (UTF-16 code units, as Excel counts them) one XLSX cell holds."""

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Control characters but tab, line feed and carriage return (XML 1.0 forbids most, and in a
terminal they are commands), C1 controls, lone surrogates (not UTF-8) and U+FFFE/U+FFFF."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_XLSX_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
"""``_xHHHH_`` is how XLSX writes a character: Excel would show ``_x0041_`` as ``A``."""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "|", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""What a spreadsheet reads as the start of a formula (with their full-width forms)."""

_LEADING_ANYWAY = ("\t", "\r", "\n")
"""Starts OWASP counts as triggers themselves: a spreadsheet may drop them and see what follows."""

_INVISIBLE = "".join(
    chr(code)
    for code in (
        *range(0x00, 0x21),
        0x7F,
        0x85,
        0xA0,
        0xAD,
        0x180E,
        *range(0x2000, 0x2010),
        0x2028,
        0x2029,
        *range(0x202A, 0x2030),
        *range(0x205F, 0x2070),
        0x3000,
        0xFEFF,
        0xFFFD,
    )
)
"""White space, zero-width and bidi marks a spreadsheet may trim or not show before a trigger."""


def spreadsheet_safe(cell: Cell) -> Cell:
    """Defuse text a spreadsheet would run as a formula (CSV injection): prefix it with ``'``.

    Numbers stay numbers. Text is prefixed when it starts with a formula trigger, also behind
    white space, zero-width or bidi characters (``" =1+1"``, ``"\\u200b=cmd"``), or with a
    tab or a line break.
    """
    return defused(cell) if isinstance(cell, str) else cell


def defused(text: str) -> str:
    """``text``, prefixed with ``'`` if a spreadsheet would run it (:func:`spreadsheet_safe`)."""
    if text.startswith(_LEADING_ANYWAY) or text.lstrip(_INVISIBLE).startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def printable(text: str) -> str:
    """``text`` with every character :data:`_UNSAFE` describes replaced by U+FFFD."""
    return _UNSAFE.sub(REPLACEMENT, text)


def utf16_length(text: str) -> int:
    """Length as Excel counts it: characters outside the BMP count twice."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def cut_marker(total: int) -> str:
    return f" [… cut: {total:,} characters in all]"


def fit_cell(text: str, limit: int = XLSX_CELL_LIMIT) -> str:
    """``text``, or its start followed by :func:`cut_marker` when longer than ``limit``."""
    if len(text) <= limit // 2 or utf16_length(text) <= limit:
        return text
    marker = cut_marker(len(text))
    room = limit - utf16_length(marker)
    head = text.encode("utf-16-le", "surrogatepass")[: 2 * room]
    return head.decode("utf-16-le", "ignore") + marker


def csv_cell(cell: Cell) -> str | int | float:
    """A CSV cell: empty for no answer, printable text, formulas defused."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return defused(printable(cell))
    return cell


def xlsx_cell(cell: Cell) -> Cell:
    """An XLSX cell: characters XML cannot hold replaced, line breaks as Excel writes them
    (LF), ``_xHHHH_`` kept literal, formulas defused, cut to what a cell holds."""
    if not isinstance(cell, str):
        return cell
    text = printable(cell).replace("\r\n", "\n").replace("\r", "\n")  # XML reads CR as LF
    return fit_cell(defused(_XLSX_ESCAPE.sub(r"_x005F_\1", text)))


def json_cell(cell: Cell) -> Cell:
    """A JSON value: lone surrogates (which UTF-8 cannot encode) replaced, the rest as is."""
    if isinstance(cell, str):
        return _SURROGATE.sub(REPLACEMENT, cell)
    return cell
