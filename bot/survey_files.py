"""Reading survey definition files: hand-written YAML or an XLSForm workbook (``.xlsx``).

Whatever goes wrong (an unknown suffix, a file that cannot be read, broken YAML, a corrupt
workbook, an invalid survey) is raised as :class:`~surveys.errors.DefinitionError` whose
``source`` is the path as given, so the CLI shows one kind of error, located as well as it can:
the YAML line, the sheet and row, or the question.

Example::

    survey = read_survey_file(Path("surveys/examples/route_alignment.yaml"))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from openpyxl import load_workbook

from surveys.definition import Kind, Survey, load_survey
from surveys.errors import DefinitionError, Problem
from surveys.xlsform import Row, Sheets, xlsform_to_survey

SUFFIXES: dict[str, Kind] = {".yaml": "yaml", ".yml": "yaml", ".xlsx": "xlsform"}

REFUSED_SUFFIXES = {
    ".xls": "old Excel .xls workbooks cannot be read; save it as an Excel Workbook (.xlsx)",
    ".xlsm": "macro-enabled workbooks are not accepted; save it as an Excel Workbook (.xlsx)",
    ".csv": "a CSV file cannot hold a survey's sheets; use an XLSForm .xlsx or a .yaml file",
    ".ods": "OpenDocument spreadsheets cannot be read; save it as an Excel Workbook (.xlsx)",
}


def survey_source_kind(path: Path) -> Kind:
    """``"yaml"`` or ``"xlsform"`` from the file suffix; anything else is refused."""
    suffix = path.suffix.lower()
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    reason = REFUSED_SUFFIXES.get(
        suffix,
        f"unsupported file type {suffix or '(no suffix)'!r}; "
        "a survey is a .yaml/.yml file or an XLSForm .xlsx workbook",
    )
    raise DefinitionError([Problem("", reason)], source=str(path))


def read_survey_file(path: Path) -> Survey:
    """Read, translate and validate the survey definition in ``path``."""
    kind = survey_source_kind(path)
    if kind == "yaml":
        return _read_yaml(path)
    return xlsform_to_survey(read_xlsx_sheets(path), source=str(path))


# -- YAML ------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses a key written twice in one mapping.

    Plain YAML keeps the last one silently; in a survey that hides a lost label or question.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} appears twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> Survey:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DefinitionError([Problem("", "the file is not UTF-8 text")], source=source) from None
    except OSError as error:
        raise _unreadable(error, source) from None
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        raise DefinitionError([_yaml_problem(error)], source=source) from None
    except yaml.YAMLError as error:
        raise DefinitionError([Problem("", f"invalid YAML: {error}")], source=source) from None
    finally:
        loader.dispose()
    if data is None:
        raise DefinitionError([Problem("", "the file is empty")], source=source)
    return load_survey(data, source=source, locations=_question_lines(node))


def _yaml_problem(error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    what = error.problem or error.context or "cannot be parsed"
    if mark is None:
        return Problem("", f"invalid YAML: {what}")
    return Problem(f"line {mark.line + 1}, column {mark.column + 1}", f"invalid YAML: {what}")


def _question_lines(node: yaml.Node | None) -> dict[str, str]:
    """Question id -> ``"line N"`` where its mapping starts, so problems point into the file."""
    lines: dict[str, str] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        if key.value != "questions" or not isinstance(value, yaml.SequenceNode):
            continue
        for item in value.value:
            if not isinstance(item, yaml.MappingNode):
                continue
            for field, field_value in item.value:
                if field.value == "id" and isinstance(field_value, yaml.ScalarNode):
                    lines.setdefault(str(field_value.value), f"line {item.start_mark.line + 1}")
    return lines


# -- XLSX ------------------------------------------------------------------------------------


def read_xlsx_sheets(path: Path) -> Sheets:
    """Every worksheet as :data:`~surveys.xlsform.Row` s: header row 1, real row numbers.

    Headers are stripped; fully empty rows are left out.
    """
    source = str(path)
    if not path.is_file():
        raise _unreadable(FileNotFoundError(2, "No such file or directory"), source)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except OSError as error:
        raise _unreadable(error, source) from None
    except Exception:  # zipfile.BadZipFile, KeyError, XML errors...: openpyxl varies
        raise DefinitionError(
            [Problem("", "not a readable .xlsx workbook (is the file damaged?)")], source=source
        ) from None
    problems: list[Problem] = []
    sheets: dict[str, list[Row]] = {}
    try:
        for sheet in workbook.worksheets:
            sheets[sheet.title] = _sheet_rows(sheet, problems)
    except Exception:  # a damaged sheet part only shows up while reading it
        raise DefinitionError(
            [Problem("", "not a readable .xlsx workbook (is the file damaged?)")], source=source
        ) from None
    finally:
        workbook.close()
    if problems:
        raise DefinitionError(problems, source=source)
    return sheets


def _sheet_rows(sheet: Any, problems: list[Problem]) -> list[Row]:
    rows: list[Row] = []
    headers: list[str] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number == 1:
            headers = [str(value).strip() if value is not None else "" for value in values]
            seen: set[str] = set()
            for header in headers:
                if header and header in seen:
                    problems.append(
                        Problem(f"{sheet.title} sheet", f"column {header!r} appears twice")
                    )
                seen.add(header)
            continue
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in values):
            continue
        cells = {
            header: value
            for header, value in zip(headers, values, strict=False)
            if header and value is not None
        }
        rows.append((number, cells))
    return rows


def _unreadable(error: OSError, source: str) -> DefinitionError:
    reason = error.strerror or str(error)
    return DefinitionError([Problem("", f"cannot read the file: {reason}")], source=source)
