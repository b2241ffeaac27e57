"""Writing a round's responses as CSV, XLSX or JSON, streaming one response at a time.

Every writer takes the round's ``attribution`` (``surveys.service.organising.record_export``
gives it, with the audit entry): columns and cells follow it (:mod:`surveys.export`). A named
export streams in roster order; one that hides who answered holds the round's rendered rows
and writes them sorted by their content (:func:`surveys.export.order_key`), so their order says
nothing of the roster. An anonymous round is written from its ballots
(``surveys.service.organising.export_items`` picks the source), in ballot-id order.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Callable
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from surveys.definition import Survey
from surveys.export import (
    Cell,
    ExportItem,
    ValueStyle,
    columns,
    csv_cell,
    json_cell,
    keeps_roster_order,
    order_key,
    row_cells,
    xlsx_cell,
)
from surveys.records import Attribution


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


Progress = Callable[[], None]


async def rendered_rows(
    rows: AsyncIterator[ExportItem],
    *,
    survey: Survey,
    style: ValueStyle,
    language: str,
    attribution: Attribution,
    advance: Progress = lambda: None,
) -> AsyncIterator[list[Cell]]:
    """Each response's cells for ``attribution``, in the order that attribution allows."""
    if keeps_roster_order(attribution):
        async for row in rows:
            yield row_cells(survey, row, style=style, language=language, attribution=attribution)
            advance()
        return
    held = []
    async for row in rows:
        held.append(row_cells(survey, row, style=style, language=language, attribution=attribution))
        advance()
    held.sort(key=lambda cells: order_key(cells, attribution=attribution))
    for cells in held:
        yield cells


async def write_csv(
    rows: AsyncIterator[ExportItem],
    out: IO[str],
    *,
    survey: Survey,
    style: ValueStyle,
    language: str,
    attribution: Attribution = Attribution.NAMED,
    advance: Progress = lambda: None,
) -> int:
    writer = csv.writer(out)
    writer.writerow([csv_cell(column.key) for column in columns(survey, attribution=attribution)])
    count = 0
    async for cells in rendered_rows(
        rows,
        survey=survey,
        style=style,
        language=language,
        attribution=attribution,
        advance=advance,
    ):
        writer.writerow([csv_cell(cell) for cell in cells])
        count += 1
    return count


async def write_json(
    rows: AsyncIterator[ExportItem],
    out: IO[str],
    *,
    survey: Survey,
    style: ValueStyle,
    language: str,
    attribution: Attribution = Attribution.NAMED,
    advance: Progress = lambda: None,
) -> int:
    """A JSON array of objects, one per response, written element by element."""
    keys = [column.key for column in columns(survey, attribution=attribution)]
    out.write("[")
    count = 0
    async for cells in rendered_rows(
        rows,
        survey=survey,
        style=style,
        language=language,
        attribution=attribution,
        advance=advance,
    ):
        record: dict[str, Any] = dict(zip(keys, map(json_cell, cells), strict=True))
        out.write(("," if count else "") + "\n  " + json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


async def write_xlsx(
    rows: AsyncIterator[ExportItem],
    path: Path,
    *,
    survey: Survey,
    style: ValueStyle,
    language: str,
    attribution: Attribution = Attribution.NAMED,
    advance: Progress = lambda: None,
) -> int:
    """An .xlsx file in openpyxl's write-only mode, which keeps memory flat on large rounds."""
    from openpyxl import Workbook  # only for .xlsx: keeps the CLI's start light

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="responses")
    sheet.append([xlsx_cell(column.key) for column in columns(survey, attribution=attribution)])
    count = 0
    async for cells in rendered_rows(
        rows,
        survey=survey,
        style=style,
        language=language,
        attribution=attribution,
        advance=advance,
    ):
        sheet.append([xlsx_cell(cell) for cell in cells])
        count += 1
    labels = workbook.create_sheet(title="questions")
    labels.append(["question_id", "type", "label", "tags"])
    for column in columns(survey, attribution=attribution):
        if column.question is not None:
            question = column.question
            labels.append(
                [
                    xlsx_cell(question.id),
                    question.type.value,
                    xlsx_cell(question.label_in(language, survey.default_language)),
                    xlsx_cell(" ".join(question.tags)),
                ]
            )
    workbook.save(path)
    return count
