"""How long ``itinera survey validate`` takes on a workbook that declares a million empty rows.

Spreadsheets formatted down to the bottom of the sheet declare rows that hold nothing; reading
them cell by cell took tens of seconds. This times what ``validate`` does (read the workbook,
translate the XLSForm, check the survey) in-process, best of several runs:

- the committed fixture ``tests/fixtures/xlsform/million_empty_rows.xlsx``: two questions, then
  formatted empty rows to row 1,000,000 (written without row numbers, so the file is 56 KB);
- with ``--numbered``, the same made by openpyxl with every row numbered, as Excel and
  LibreOffice write them (about 5 MB; generating it takes a while);
- a Kobo export of a usual size, for comparison;
- with ``--baseline``, reading every declared row of the fixture with openpyxl, as Itinera did.

    python bench/xlsform_validation.py
    python bench/xlsform_validation.py --numbered --baseline --runs 5
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from bot.survey_files import check_survey_file

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "xlsform"
ROWS = 1_000_000


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def numbered_workbook(folder: Path) -> Path:
    """Two questions, then a bold empty cell on every row down to row 1,000,000."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    sheet.append(["text", "office", "Which office?"])
    sheet.append(["integer", "staff", "How many staff?"])
    bold = Font(bold=True)
    for row in range(4, ROWS + 1):
        sheet.cell(row=row, column=1).font = bold
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "version"])
    settings.append(["numbered_empty_rows", "1"])
    path = folder / "numbered_empty_rows.xlsx"
    workbook.save(path)
    return path


def read_every_declared_row(path: Path) -> int:
    """What reading a sheet cost before: openpyxl goes through each row it declares."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for _ in workbook["survey"].iter_rows(values_only=True))
    finally:
        workbook.close()


def report(name: str, path: Path, seconds: float) -> None:
    size = path.stat().st_size / 1024
    print(f"{name:<44} {size:>9,.0f} KB {seconds:>9.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per workbook; the best counts")
    parser.add_argument("--numbered", action="store_true", help="also a 5 MB openpyxl workbook")
    parser.add_argument("--baseline", action="store_true", help="also reading every row")
    args = parser.parse_args()

    fixture = FIXTURES / "million_empty_rows.xlsx"
    kobo = FIXTURES / "kobo_route_feedback.xlsx"
    check_survey_file(kobo)  # imports and CLDR data loaded once, as in a running process
    print(f"{'workbook (validate: read, translate, check)':<44} {'size':>12} {'best':>11}")
    report(
        "million_empty_rows.xlsx (1,000,000 rows)",
        fixture,
        best_of(args.runs, lambda: check_survey_file(fixture)),
    )
    report(
        "kobo_route_feedback.xlsx (16 rows)",
        kobo,
        best_of(args.runs, lambda: check_survey_file(kobo)),
    )
    if args.numbered:
        with tempfile.TemporaryDirectory() as folder:
            numbered = numbered_workbook(Path(folder))
            report(
                "numbered rows (1,000,000, as Excel writes)",
                numbered,
                best_of(args.runs, lambda: check_survey_file(numbered)),
            )
    if args.baseline:
        seconds = best_of(1, lambda: read_every_declared_row(fixture))
        report("before: openpyxl reading every declared row", fixture, seconds)


if __name__ == "__main__":
    main()
