"""Writing a round's responses as CSV, XLSX or JSON, streaming one response at a time."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Callable
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook

from surveys.definition import Survey
from surveys.export import ValueStyle, columns, row_cells, spreadsheet_safe
from surveys.records import ExportRow


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


Progress = Callable[[], None]


async def write_csv(
    rows: AsyncIterator[ExportRow],
    out: IO[str],
    *,
    survey: Survey,
    style: ValueStyle,
    language: str,
    advance: Progress = lambda: None,
) -> int:
    writer = csv.writer(out)
    writer.writerow([column.key for column in columns(survey)])
    count = 0
    async for row in rows:
        cells = row_cells(survey, row, style=style, language=language)
        writer.writerow(["" if cell is None else spreadsheet_safe(cell) for cell in cells])
        count += 1
        advance()
    return count


async def write_json(
    rows: AsyncIterator[ExportRow],
    out: IO[str],
    *,
    survey: Survey,
    style: ValueStyle,
    language: str,
    advance: Progress = lambda: None,
) -> int:
    """A JSON array of objects, one per response, written element by element."""
    keys = [column.key for column in columns(survey)]
    out.write("[")
    count = 0
    async for row in rows:
        cells = row_cells(survey, row, style=style, language=language)
        record: dict[str, Any] = dict(zip(keys, cells, strict=True))
        out.write(("," if count else "") + "\n  " + json.dumps(record, ensure_ascii=False))
        count += 1
        advance()
    out.write("\n]\n" if count else "]\n")
    return count


async def write_xlsx(
    rows: AsyncIterator[ExportRow],
    path: Path,
    *,
    survey: Survey,
    style: ValueStyle,
    language: str,
    advance: Progress = lambda: None,
) -> int:
    """An .xlsx file in openpyxl's write-only mode, which keeps memory flat on large rounds."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="responses")
    sheet.append([column.key for column in columns(survey)])
    count = 0
    async for row in rows:
        cells = row_cells(survey, row, style=style, language=language)
        sheet.append([spreadsheet_safe(cell) for cell in cells])
        count += 1
        advance()
    labels = workbook.create_sheet(title="questions")
    labels.append(["question_id", "type", "label", "tags"])
    for column in columns(survey):
        if column.question is not None:
            question = column.question
            labels.append(
                [
                    question.id,
                    question.type.value,
                    spreadsheet_safe(question.label_in(language, survey.default_language)),
                    " ".join(question.tags),
                ]
            )
    workbook.save(path)
    return count
