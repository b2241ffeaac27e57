"""What an export costs in each attribution: time and peak memory for CSV, JSON and XLSX.

A named export streams rows in roster order; a delegation or anonymous export holds the
round's rendered rows to sort them by their content (so their order says nothing of the
roster). This measures that price on synthetic responses to the example survey, with every
text answer a long hostile comment (control characters, formula starts, bidi marks), written
to files in a temporary folder.

    python bench/export_attribution.py                    # 1,000 and 10,000 responses
    python bench/export_attribution.py --responses 50000
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.exporting import write_csv, write_json, write_xlsx
from bot.survey_files import read_survey_file
from surveys.definition import AnswerValue, QuestionType, Survey
from surveys.export import ValueStyle
from surveys.records import (
    Attribution,
    Delegation,
    ExportRow,
    Participant,
    ResponseStatus,
    Role,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "surveys" / "examples" / "route_alignment.yaml"
COMMENT = "=cmd|' /C calc'!A0 \x00\x1b[2J \u202eevil\u202c \u200b" + "Our national plan. " * 20


def answers_for(survey: Survey, n: int) -> dict[str, AnswerValue | None]:
    found: dict[str, AnswerValue | None] = {}
    for question in survey.questions:
        if not question.asks:
            continue
        if question.type is QuestionType.SCALE:
            found[question.id] = 1 + n % 5
        elif question.type in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO):
            options = survey.choices_of(question)
            found[question.id] = options[n % len(options)].value if options else "yes"
        elif question.type is QuestionType.MULTIPLE_CHOICE:
            found[question.id] = [option.value for option in survey.choices_of(question)[:2]]
        elif question.type is QuestionType.TEXT:
            found[question.id] = f"{COMMENT} #{n}"
    return found


def rows(survey: Survey, count: int) -> list[ExportRow]:
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    return [
        ExportRow(
            response_id=n + 1,
            participant=Participant(
                name=f"Delegate {n}",
                email=f"delegate{n}@example.org",
                role=Role.DELEGATE,
                delegation=f"S{n % 193:02d}",
                id=n + 1,
            ),
            delegation=Delegation(f"S{n % 193:02d}", f"State {n % 193}", "Region"),
            status=ResponseStatus.SUBMITTED,
            started_at=start + timedelta(minutes=n),
            submitted_at=start + timedelta(minutes=n + 30),
            answers=answers_for(survey, n),
        )
        for n in range(count)
    ]


async def stream(items: list[ExportRow]) -> AsyncIterator[ExportRow]:
    for item in items:
        yield item


async def write(name: str, items: list[ExportRow], path: Path, **options: object) -> None:
    if name == "xlsx":
        await write_xlsx(stream(items), path, **options)  # type: ignore[arg-type]
        return
    writer = write_csv if name == "csv" else write_json
    with path.open("w", encoding="utf-8", newline="") as handle:
        await writer(stream(items), handle, **options)  # type: ignore[arg-type]


async def measure(survey: Survey, items: list[ExportRow], folder: Path) -> None:
    """Time in one pass, peak memory (tracemalloc, which slows everything) in another."""
    print(f"\n{len(items):,} responses, {len(survey.questions)} questions")
    print(f"{'format':<6} {'attribution':<12} {'seconds':>8} {'peak MiB':>9} {'file MiB':>9}")
    for name in ("csv", "json", "xlsx"):
        for attribution in Attribution:
            path = folder / f"export-{attribution}.{name}"
            options = {
                "survey": survey,
                "style": ValueStyle.CODES,
                "language": "en",
                "attribution": attribution,
            }
            began = time.perf_counter()
            await write(name, items, path, **options)
            seconds = time.perf_counter() - began
            tracemalloc.start()
            await write(name, items, path, **options)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            size = path.stat().st_size / 2**20
            print(f"{name:<6} {attribution:<12} {seconds:>8.2f} {peak / 2**20:>9.1f} {size:>9.1f}")


async def main(counts: list[int]) -> None:
    survey = read_survey_file(EXAMPLE)
    with tempfile.TemporaryDirectory() as folder:
        for count in counts:
            # The rows themselves are the store's, streamed; only what the writer holds counts.
            items = rows(survey, count)
            await measure(survey, items, Path(folder))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, action="append")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.responses or [1_000, 10_000]))
