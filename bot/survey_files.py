"""Reading survey definition files: hand-written YAML or an XLSForm workbook (``.xlsx``).

Whatever goes wrong (an unknown suffix, a file that cannot be read, broken YAML, a corrupt
workbook, an invalid survey) is raised as :class:`~surveys.errors.DefinitionError` whose
``source`` is the path as given, so the CLI shows one kind of error, located as well as it can:
the YAML line, the sheet and row, or the question.

Workbooks are read in openpyxl's read-only mode, and only as far as their cells hold values:
a sheet that declares a million formatted but empty rows is read to its last value, found by
scanning the sheet's XML, not row by row (``bench/xlsform_validation.py`` measures it).

Example::

    survey = read_survey_file(Path("surveys/examples/route_alignment.yaml"))
    checked = check_survey_file(Path("needs.xlsx"))   # the survey, and what validate reports
    print("\n".join(checked.report()))
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml
from openpyxl import load_workbook

from surveys import i18n
from surveys.definition import Kind, QuestionType, Survey, advisories, load_survey
from surveys.errors import DefinitionError, Problem
from surveys.language_names import language_name
from surveys.xlsform import Row, Sheets, translate_xlsform

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
    return check_survey_file(path).survey


@dataclass(frozen=True)
class CheckedSurvey:
    """A valid survey and what ``itinera survey validate`` tells about it besides."""

    survey: Survey
    warnings: tuple[Problem, ...]
    """Accepted, but worth a look: missing translations, unused lists, what chat shows
    differently from a form on a phone."""

    def report(self) -> list[str]:
        """Lines for the organiser: languages, questions per type, then the warnings."""
        survey = self.survey
        covered = message_languages()
        lines = [
            "languages: " + ", ".join(_language_entry(survey, code) for code in survey.languages)
        ]
        uncovered = [code for code in survey.languages if code.split("-")[0].lower() not in covered]
        if uncovered:
            names = ", ".join(f"{language_name(code)} ({code})" for code in uncovered)
            ours = ", ".join(sorted(language_name(code) for code in covered))
            lines.append(
                f"note: Itinera's own messages (buttons, reminders, errors) exist in {ours}; "
                f"delegates reading {names} get the survey's texts in their language and "
                "those messages in English"
            )
        counts = Counter(question.type for question in survey.questions)
        parts = [
            f"{counts[kind]} {_TYPE_WORDS[kind]}"
            for kind in QuestionType
            if counts[kind] and kind is not QuestionType.NOTE
        ]
        if counts[QuestionType.NOTE]:
            notes = counts[QuestionType.NOTE]
            parts.append(f"{notes} note" + ("" if notes == 1 else "s"))
        lines.append("questions: " + ", ".join(parts))
        lines.extend(f"warning: {warning}" for warning in self.warnings)
        return lines


_TYPE_WORDS = {
    QuestionType.SINGLE_CHOICE: "single choice",
    QuestionType.MULTIPLE_CHOICE: "multiple choice",
    QuestionType.SCALE: "scale",
    QuestionType.YES_NO: "yes/no",
    QuestionType.INTEGER: "integer",
    QuestionType.DECIMAL: "decimal",
    QuestionType.TEXT: "text",
    QuestionType.DATE: "date",
    QuestionType.NOTE: "note",
}


def _language_entry(survey: Survey, code: str) -> str:
    default = ", default" if code == survey.default_language else ""
    return f"{language_name(code)} ({code}{default})"


def message_languages() -> frozenset[str]:
    """The languages Itinera's own messages are written in (a test checks that every message
    has every one of them)."""
    return frozenset(i18n.LANGUAGES)


def check_survey_file(path: Path) -> CheckedSurvey:
    """Read, translate and validate ``path``; the survey and the warnings for ``validate``."""
    kind = survey_source_kind(path)
    if kind == "yaml":
        survey = _read_yaml(path)
        return CheckedSurvey(survey, tuple(advisories(survey)))
    translation = translate_xlsform(read_xlsx_sheets(path), source=str(path), form_name=path.stem)
    survey = translation.survey
    return CheckedSurvey(survey, (*translation.warnings, *advisories(survey)))


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
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as error:
        raise DefinitionError([_reader_problem(text, error)], source=source) from None
    except yaml.MarkedYAMLError as error:
        raise DefinitionError([_yaml_problem(error)], source=source) from None
    except yaml.YAMLError as error:
        raise DefinitionError([Problem("", f"invalid YAML: {error}")], source=source) from None
    except RecursionError:
        raise DefinitionError([Problem("", _TOO_DEEP)], source=source) from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        raise DefinitionError([Problem("", "the file is empty")], source=source)
    try:
        return load_survey(data, source=source, locations=_question_lines(node))
    except RecursionError:
        raise DefinitionError([Problem("", _TOO_DEEP)], source=source) from None


_TOO_DEEP = "invalid YAML: lists or mappings are nested too deeply to be a survey"


def _reader_problem(text: str, error: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not allow (a NUL, a control character), located by line."""
    position = max(0, min(error.position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    character = error.character
    code = ord(character) if isinstance(character, str) else int(character)
    return Problem(
        f"line {line}, column {column}",
        f"invalid YAML: the character U+{code:04X} is not allowed (remove it, or save the file "
        "again as plain UTF-8 text)",
    )


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

    Headers are stripped; fully empty rows are left out, and nothing is read past the last
    row that holds a value, whatever the sheet declares.
    """
    source = str(path)
    try:
        found = path.is_file()
        handle = path.open("rb") if found else None
    except OSError as error:  # unreadable, or a name too long for the file system
        raise _unreadable(error, source) from None
    if handle is None:
        raise _unreadable(FileNotFoundError(2, "No such file or directory"), source)
    with handle:  # ours to close, whatever openpyxl manages to read before it fails
        return _workbook_sheets(handle, source)


def _workbook_sheets(handle: IO[bytes], source: str) -> Sheets:
    damaged = DefinitionError(
        [Problem("", "not a readable .xlsx workbook (is the file damaged?)")], source=source
    )
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception:  # zipfile.BadZipFile, KeyError, XML errors...: openpyxl varies
        raise damaged from None
    problems: list[Problem] = []
    sheets: dict[str, list[Row]] = {}
    try:
        for sheet in workbook.worksheets:
            sheets[sheet.title] = _sheet_rows(sheet, problems, last=_last_used_row(workbook, sheet))
    except Exception:  # a damaged sheet part only shows up while reading it
        raise damaged from None
    finally:
        workbook.close()
    if problems:
        raise DefinitionError(problems, source=source)
    return sheets


def _sheet_rows(sheet: Any, problems: list[Problem], *, last: int | None) -> list[Row]:
    """The rows of ``sheet`` up to row ``last`` (None: as far as the sheet goes)."""
    rows: list[Row] = []
    if last == 0:
        return rows
    first = next(iter(sheet.iter_rows(min_row=1, max_row=1, values_only=True)), ())
    headers = [str(value).strip() if value is not None else "" for value in first]
    while headers and not headers[-1]:
        headers.pop()
    seen: set[str] = set()
    for header in headers:
        if header and header in seen:
            problems.append(Problem(f"{sheet.title} sheet", f"column {header!r} appears twice"))
        seen.add(header)
    if not headers or last == 1:
        return rows
    data = sheet.iter_rows(min_row=2, max_row=last, max_col=len(headers), values_only=True)
    for number, values in enumerate(data, start=2):
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in values):
            continue
        cells = {
            header: value
            for header, value in zip(headers, values, strict=False)
            if header and value is not None
        }
        rows.append((number, cells))
    return rows


_CHUNK = 1 << 20
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_ROW_NUMBER = re.compile(rb'\sr="([0-9]+)"')


def _last_used_row(workbook: Any, sheet: Any) -> int | None:
    """The last row of ``sheet`` holding a value, or None if the XML cannot be scanned."""
    archive = getattr(workbook, "_archive", None)
    part = getattr(sheet, "_worksheet_path", None)
    if archive is None or not isinstance(part, str):
        return None
    with archive.open(part) as stream:
        return last_value_row(stream)


def last_value_row(stream: IO[bytes]) -> int | None:
    """The number of the last row that holds a value, read from a worksheet's XML.

    Byte searches over the decompressed XML, a megabyte at a time, find the last ``<v>`` or
    ``<is>`` (a cell value) and the ``<row>`` it is in: a million empty rows cost milliseconds,
    where parsing them costs seconds. Rows are numbered by their ``r`` attribute, or counted
    when a sheet writes none; a sheet that mixes both, or that cannot be read this way, gives
    None (read it all). 0 means no value at all.
    """
    carry = b""
    markers: tuple[bytes, ...] = ()
    starts: tuple[bytes, ...] = ()
    explicit: bool | None = None
    rows_before = 0
    last_start: tuple[bytes, int] | None = None
    found = 0
    while True:
        data = stream.read(_CHUNK)
        chunk = carry + data
        if data:
            cut = chunk.rfind(b">") + 1
            chunk, carry = chunk[:cut], chunk[cut:]
        if not markers:
            root = _ROOT.search(chunk)
            if root is None:
                if not data:
                    return None
                carry = chunk + carry
                continue
            prefix = root.group(1) or b""
            markers = tuple(b"<" + prefix + tag for tag in (b"v>", b"v ", b"is>", b"is "))
            starts = (b"<" + prefix + b"row ", b"<" + prefix + b"row>", b"<" + prefix + b"row/>")
        if explicit is None:
            first_at = min((at for at in (chunk.find(s) for s in starts) if at >= 0), default=-1)
            if first_at >= 0:
                explicit = (
                    _ROW_NUMBER.search(chunk[first_at : chunk.find(b">", first_at)]) is not None
                )
        value_at = max(chunk.rfind(marker) for marker in markers)
        if value_at >= 0:
            row_at = max(chunk.rfind(start, 0, value_at) for start in starts)
            if row_at >= 0:
                attributes = chunk[row_at : chunk.find(b">", row_at)]
                start = (attributes, rows_before + _count(chunk, starts, row_at) + 1)
            elif last_start is not None:
                start = last_start
            else:
                return None
            number, explicit = _row_number(*start, explicit)
            if number is None:
                return None
            found = number
        row_at = max(chunk.rfind(start) for start in starts)
        if row_at >= 0:
            last_start = (
                chunk[row_at : chunk.find(b">", row_at)],
                rows_before + _count(chunk, starts, row_at) + 1,
            )
        rows_before += _count(chunk, starts, len(chunk))
        if not data:
            return found


def _count(chunk: bytes, starts: tuple[bytes, ...], end: int) -> int:
    return sum(chunk.count(start, 0, end) for start in starts)


def _row_number(attributes: bytes, ordinal: int, explicit: bool | None) -> tuple[int | None, bool]:
    """A row's number (its ``r``, else its place) and whether rows are numbered explicitly."""
    match = _ROW_NUMBER.search(attributes)
    has_number = match is not None
    if explicit is not None and explicit != has_number:
        return None, has_number
    return (int(match.group(1)) if match else ordinal), has_number


def _unreadable(error: OSError, source: str) -> DefinitionError:
    reason = error.strerror or str(error)
    return DefinitionError([Problem("", f"cannot read the file: {reason}")], source=source)
