"""XLSForm sheets -> the survey mapping :func:`~surveys.definition.load_survey` validates.

Pure translation: the caller reads the workbook (see ``bot/survey_files.py``) and passes each
sheet as rows of ``(spreadsheet row number, {header: cell})``. Every problem is collected and
located by sheet and row before anything is raised, so an organiser fixes a form in one pass;
what is accepted but shown differently in chat is reported as a warning, by row too.

Forms are read as KoboToolbox and ODK users write them (pyxform's rules):

- sheets ``survey``, ``choices`` and ``settings`` (names compared case-insensitively), plus an
  optional Itinera-only ``themes`` sheet (``name``, ``label`` + translations) naming theme tags;
  headers in any case and spacing (``List Name``), with pyxform's aliases (``caption``,
  ``relevance``, ``jr:constraintMsg``...);
- settings are optional: ``form_id`` (or ``id_string``) defaults to the file name made safe,
  ``version`` to a hash of the content, ``default_language`` to the first label column's;
- translations as ``label::French (fr)``, ``label::fr``, ``label::Français``, ``label::Amharic``
  (any language CLDR knows, by name or code), or with one colon (``label:English``) in forms
  that use no double colon;
- types ``select_one LIST`` and its spellings (``select one from LIST``, ``select1``...),
  ``select_multiple LIST`` (``select all that apply``...), ``... or_other`` (an "Other" choice
  and a text follow-up ``NAME_other``, as ODK adds), ``range`` of any size, ``integer``,
  ``decimal``, ``text`` (``string``...), ``date`` and ``note``;
- ``label``, ``hint``, ``guidance_hint`` (shown after the hint), ``required`` (``TRUE``, ``yes``,
  ``1``...), ``required_message``, ``relevant``, ``constraint``, ``constraint_message``,
  ``choice_filter`` (cascading selects: bare names are columns of the choices sheet),
  ``parameters`` and an optional ``tags`` column (space-separated theme tags);
- groups keep their names and labels: a group's label is shown as a heading before its first
  question, its ``relevant`` is and-ed into each question inside, and a question name may repeat
  in different groups: those questions get the id ``group/name`` (every other id is the name
  as written), and ``${name}`` refers to the nearest one, as XLSForm resolves it;
- ``${name}`` in a label, hint or note is the delegate's earlier answer.

Metadata rows that ask nothing (``start``, ``end``, ``today``, ``deviceid``...) are skipped.
What the chat channels cannot ask (repeats, locations, media capture, calculations, choices from
files or external sheets, ``pulldata()``...) is refused by row, with a way round where there is
one; appearances, media cells and display parameters are ignored with a warning.

Example::

    survey = xlsform_to_survey(
        {"survey": [(2, {"type": "text", "name": "q1", "label": "Why?"})]},
        source="forms/Needs assessment.xlsx",
    )
    survey.id   # 'Needs_assessment', from the file name
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from surveys import expressions, i18n
from surveys.definition import (
    ID_PATTERN,
    PIPED,
    QUESTION_ID_PATTERN,
    Survey,
    load_survey,
)
from surveys.errors import DefinitionError, ExpressionError, Problem
from surveys.language_names import language_code

Row = tuple[int, dict[str, object]]
"""One spreadsheet row: its 1-based row number and its cells by (stripped) header."""

Sheets = Mapping[str, Sequence[Row]]
"""Sheet name -> its data rows (the header row excluded)."""

TRANSLATED_COLUMNS = ("label", "hint", "guidance_hint", "required_message", "constraint_message")
"""Columns that take a translation per language (``label::French (fr)``)."""
QUESTION_FIELDS = {
    "label": "label",
    "hint": "hint",
    "guidance_hint": "guidance",
    "required_message": "required_message",
    "constraint_message": "constraint_message",
}
"""XLSForm column -> the question field it fills."""

COLUMN_ALIASES = {
    "jr:constraintmsg": "constraint_message",
    "jr:constraint_msg": "constraint_message",
    "constraining_message": "constraint_message",
    "jr:requiredmsg": "required_message",
    "requiredmsg": "required_message",
    "caption": "label",
    "relevance": "relevant",
    "id_string": "form_id",
    "set_form_id": "form_id",
    "set_form_title": "form_title",
    "jr:count": "repeat_count",
    "count": "repeat_count",
    "calculate": "calculation",
    "big_image": "big-image",
}
"""pyxform's other spellings of a column, after lower-casing and ``snake_case``."""
CHOICE_ALIASES = {"value": "name", "list": "list_name"}

MEDIA_COLUMNS = frozenset({"media", "image", "audio", "video", "big-image"})
CHOICE_COLUMNS = frozenset({"list_name", "name", "label", *MEDIA_COLUMNS})

QUESTION_TYPES = {
    "integer": "integer",
    "int": "integer",
    "q int": "integer",
    "add integer prompt": "integer",
    "decimal": "decimal",
    "q decimal": "decimal",
    "add decimal prompt": "decimal",
    "text": "text",
    "string": "text",
    "q string": "text",
    "add text prompt": "text",
    "date": "date",
    "q date": "date",
    "add date prompt": "date",
    "note": "note",
    "q note": "note",
    "add note prompt": "note",
    "range": "scale",
}
"""Question types (lower case, single spaces) -> Itinera's types."""

SELECT_TYPES = {
    "select one": "single_choice",
    "select_one": "single_choice",
    "select1": "single_choice",
    "select one from": "single_choice",
    "select one using": "single_choice",
    "add select one prompt using": "single_choice",
    "select multiple": "multiple_choice",
    "select_multiple": "multiple_choice",
    "select multiple from": "multiple_choice",
    "select multiple using": "multiple_choice",
    "select all that apply": "multiple_choice",
    "select all that apply from": "multiple_choice",
    "add select multiple prompt using": "multiple_choice",
}
"""The ways of writing a select, each followed by the choice list name."""
OR_OTHER = (("or", "specify", "other"), ("or_other",), ("or", "other"))

METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "device id",
        "imei",
        "subscriberid",
        "subscriber id",
        "simserial",
        "sim id",
        "phonenumber",
        "phone number",
        "username",
        "email",
        "audit",
        "start-geopoint",
        "start time",
        "end time",
        "get start time",
        "get end time",
        "get today",
        "get device id",
        "get subscriber id",
        "get sim id",
        "get phone number",
        "uri:deviceid",
        "uri:subscriberid",
        "uri:simserial",
        "uri:phonenumber",
        "uri:username",
        "uri:email",
    }
)
"""Rows the form fills in by itself; they ask nothing, so they are skipped."""

_LOCATION = (
    "locations",
    "ask for the place in a text question (a town, or coordinates typed as text)",
)
_MEDIA = ("media capture", "ask for a link to the file in a text question")
_CALCULATION = ("calculations", "compute the value from the export instead")
REFUSED_TYPES: dict[str, tuple[str, str | None]] = {
    "begin repeat": (
        "repeat groups",
        "ask one question per item, or for a list in a text question",
    ),
    "begin loop": ("repeat groups", "ask one question per item, or for a list in a text question"),
    "begin looped group": ("repeat groups", "ask one question per item"),
    "geopoint": _LOCATION,
    "geotrace": _LOCATION,
    "geoshape": _LOCATION,
    "location": _LOCATION,
    "gps": _LOCATION,
    "q geopoint": _LOCATION,
    "q geotrace": _LOCATION,
    "q geoshape": _LOCATION,
    "q location": _LOCATION,
    "add location prompt": _LOCATION,
    "image": _MEDIA,
    "photo": _MEDIA,
    "q picture": _MEDIA,
    "q image": _MEDIA,
    "add image prompt": _MEDIA,
    "add photo prompt": _MEDIA,
    "audio": _MEDIA,
    "q audio": _MEDIA,
    "add audio prompt": _MEDIA,
    "background-audio": _MEDIA,
    "video": _MEDIA,
    "q video": _MEDIA,
    "add video prompt": _MEDIA,
    "file": _MEDIA,
    "add file prompt": _MEDIA,
    "barcode": ("barcodes", "ask for the code in a text question"),
    "q barcode": ("barcodes", "ask for the code in a text question"),
    "add barcode prompt": ("barcodes", "ask for the code in a text question"),
    "calculate": _CALCULATION,
    "q calculate": _CALCULATION,
    "add calculate prompt": _CALCULATION,
    "hidden": ("hidden values", None),
    "rank": ("ranking", "use select_multiple, or one select_one per rank"),
    "select one from file": ("choices from a file", "copy the file's rows into the choices sheet"),
    "select_one_from_file": ("choices from a file", "copy the file's rows into the choices sheet"),
    "select multiple from file": (
        "choices from a file",
        "copy the file's rows into the choices sheet",
    ),
    "select_multiple_from_file": (
        "choices from a file",
        "copy the file's rows into the choices sheet",
    ),
    "select one external": (
        "external choices",
        "copy the external_choices rows into the choices sheet and use choice_filter",
    ),
    "select_one_external": (
        "external choices",
        "copy the external_choices rows into the choices sheet and use choice_filter",
    ),
    "acknowledge": ("acknowledgements", "use a note or a select_one yes_no"),
    "q acknowledge": ("acknowledgements", "use a note or a select_one yes_no"),
    "trigger": ("acknowledgements", "use a note or a select_one yes_no"),
    "time": ("times of day", "use a text question"),
    "datetime": ("dates with times", "use a date question"),
    "date time": ("dates with times", "use a date question"),
    "q date time": ("dates with times", "use a date question"),
    "add date time prompt": ("dates with times", "use a date question"),
    "xml-external": ("external data", None),
    "csv-external": ("external data", None),
}
"""Types the chat channels cannot ask: (what they are, the way round if there is one)."""

REFUSED_COLUMNS = {
    "calculation": "calculations are not supported; compute the value from the export instead",
    "repeat_count": "repeat groups are not supported",
    "trigger": "triggers are not supported",
}

RANGE_PARAMETERS = {"start", "end", "step"}
DISPLAY_PARAMETERS = frozenset(
    {"tick_interval", "placeholder", "tick_labelset", "randomize", "seed", "rows", "max-pixels"}
)
"""Parameters that only change how a widget looks or orders its choices: ignored (a warning)."""

TRUE_WORDS = frozenset({"yes", "true", "true()", "1", "y"})
FALSE_WORDS = frozenset({"no", "false", "false()", "0", "n", ""})

_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")
_FUNCTION_CALL = re.compile(r"(?<![\w$-])([a-z][a-z-]*)\s*\(")
_OTHER = "other"


@dataclass(frozen=True)
class Translation:
    """A translated workbook: the survey and what was accepted but will look different."""

    survey: Survey
    warnings: tuple[Problem, ...] = ()


def xlsform_to_survey(
    sheets: Sheets, *, source: str | None, form_name: str | None = None
) -> Survey:
    """Translate XLSForm sheets and validate the result with :func:`load_survey`.

    ``form_name`` (else the file name in ``source``) gives the survey id when the settings
    have no ``form_id``. Raises :class:`DefinitionError` listing every problem, each named by
    sheet and row (``survey sheet, row 12: type 'begin repeat' (repeat groups) ...``).
    """
    return translate_xlsform(sheets, source=source, form_name=form_name).survey


def translate_xlsform(
    sheets: Sheets, *, source: str | None, form_name: str | None = None
) -> Translation:
    """:func:`xlsform_to_survey`, also returning the warnings ``validate`` shows."""
    name = form_name if form_name is not None else (PurePath(source).stem if source else None)
    translator = _Translator(sheets, form_name=name)
    data, locations, problems = translator.run()
    if problems:
        raise DefinitionError(problems, source=source)
    if not data["version"]:
        data = {**data, "version": "0"}
        survey = load_survey(data, source=source, locations=locations)
        survey = survey.model_copy(update={"version": content_version(survey)})
    else:
        survey = load_survey(data, source=source, locations=locations)
    return Translation(survey, tuple(translator.warnings))


def content_version(survey: Survey) -> str:
    """A version for a form whose settings give none: the first 12 hex digits of a hash of
    its content (the same content, the same version; any change, a new one)."""
    blank = survey.model_copy(update={"version": ""})
    return hashlib.sha256(blank.canonical_json().encode()).hexdigest()[:12]


def safe_form_id(name: str) -> str:
    """A file name made into a survey id: ``Évaluation (copie)`` -> ``Evaluation_copie``."""
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(char for char in decomposed if not unicodedata.combining(char))
    safe = _SAFE_ID.sub("_", ascii_only).strip("_.-")
    if not safe or not re.match(r"[A-Za-z_]", safe):
        safe = f"form_{safe}" if safe else "form"
    return safe[:64].rstrip("_.-")


def cell_text(value: object) -> str:
    """A cell as text: blank for empty cells, ``5`` rather than ``5.0`` for whole numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def snake_case(header: str) -> str:
    """``List Name`` -> ``list_name`` (pyxform compares column names this way)."""
    return "_".join(header.split()).lower()


@dataclass
class _Item:
    """A question (or note) row on its way to the mapping, before ids are settled."""

    row: int
    name: str
    path: str
    """The group path it is in, ``""`` at the top."""
    question: dict[str, Any]
    group_conditions: list[tuple[str, str]] = field(default_factory=list)
    """(group path, relevant) of each enclosing group that has one, outermost first."""


@dataclass
class _Group:
    kind: str
    row: int
    path: str
    relevant: str | None


class _Translator:
    def __init__(self, sheets: Sheets, *, form_name: str | None) -> None:
        self.sheets = {name.strip().lower(): rows for name, rows in sheets.items()}
        self.form_name = form_name
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.languages: list[str] = []
        self.default_language = "en"
        self._rows: dict[str, list[Row]] = {}

    # -- helpers -----------------------------------------------------------------------------

    def problem(self, sheet: str, row: int | None, message: str) -> None:
        self.problems.append(Problem(_where(sheet, row), message))

    def warn(self, sheet: str, row: int | None, message: str) -> None:
        self.warnings.append(Problem(_where(sheet, row), message))

    def rows(self, sheet: str) -> list[Row]:
        """Non-blank rows of a sheet, headers normalised as pyxform does.

        A row whose only cells are Kobo bookkeeping (``$kuid``, ``$autoname``...) is blank.
        """
        if sheet in self._rows:
            return self._rows[sheet]
        raw = self.sheets.get(sheet, ())
        double = any("::" in str(header) for _, cells in raw for header in cells)
        result: list[Row] = []
        for number, cells in raw:
            normalised: dict[str, object] = {}
            for header, value in cells.items():
                key = _normalise_header(str(header), sheet=sheet, double_colon=double)
                if key and cell_text(value) != "":
                    normalised[key] = value
            if any(not key.startswith("$") for key in normalised):
                result.append((number, normalised))
        self._rows[sheet] = result
        return result

    def translations(self, cells: Mapping[str, object], base: str) -> dict[str, str]:
        """``base`` and ``base::Language (xx)`` cells as ``{code: text}``."""
        texts: dict[str, str] = {}
        bare = cell_text(cells.get(base))
        for header, value in cells.items():
            name, sep, language = header.partition("::")
            if name != base or not sep:
                continue
            code = language_code(language)
            text = cell_text(value)
            if code is not None and text:
                texts[code] = text
        if bare and self.default_language not in texts:
            texts[self.default_language] = bare
        return texts

    # -- passes ------------------------------------------------------------------------------

    def run(self) -> tuple[dict[str, Any], dict[str, str], list[Problem]]:
        if "survey" not in self.sheets:
            self.problems.append(Problem("", "the workbook has no 'survey' sheet"))
            return {}, {}, self.problems
        if self.sheets.get("external_choices"):
            self.problem(
                "external_choices",
                None,
                "external choices are not supported; copy these rows into the choices sheet "
                "and use choice_filter",
            )
        settings = self.settings_row()
        self.find_languages(settings)
        form_id = cell_text(settings.get("form_id"))
        if not form_id and self.form_name:
            form_id = safe_form_id(self.form_name)
        data: dict[str, Any] = {
            "id": form_id,
            "version": cell_text(settings.get("version")),
            "title": self.title(settings, form_id),
            "default_language": self.default_language,
            "languages": list(self.languages),
        }
        if not form_id:
            self.problem("settings", None, "form_id (the survey id) is missing")
        elif not re.fullmatch(ID_PATTERN, form_id) or len(form_id) > 64:
            safe = safe_form_id(form_id)
            self.warn(
                "settings",
                None,
                f"form_id {form_id!r} is used as {safe!r} (letters, digits, '_', '.', '-')",
            )
            data["id"] = safe
        themes = self.themes()
        if themes:
            data["themes"] = themes
        choice_lists = self.choice_lists()
        questions, groups, rows = self.questions(choice_lists)
        data["choice_lists"] = choice_lists
        if groups:
            data["groups"] = groups
        data["questions"] = questions
        locations = {qid: f"survey sheet, row {number}" for qid, number in rows.items()}
        return data, locations, self.problems

    def settings_row(self) -> dict[str, object]:
        rows = self.rows("settings")
        return rows[0][1] if rows else {}

    def find_languages(self, settings: Mapping[str, object]) -> None:
        found: list[str] = []
        first_label: str | None = None
        for sheet in ("survey", "choices", "settings", "themes"):
            unknown: set[str] = set()
            for _, cells in self.rows(sheet):
                for header in cells:
                    base, sep, language = header.partition("::")
                    if base not in (*TRANSLATED_COLUMNS, "form_title"):
                        continue
                    if not sep:
                        if base == "label" and first_label is None and sheet == "survey":
                            first_label = ""
                        continue
                    code = language_code(language)
                    if code is None:
                        unknown.add(header)
                        continue
                    if base == "label" and first_label is None and sheet == "survey":
                        first_label = code
                    if code not in found:
                        found.append(code)
            for header in sorted(unknown):
                self.problem(
                    sheet,
                    None,
                    f"column {header!r}: cannot tell its language; "
                    "name it like 'label::French (fr)'",
                )
        wanted = cell_text(settings.get("default_language"))
        if wanted:
            code = language_code(wanted)
            if code is None:
                self.problem("settings", None, f"default_language {wanted!r}: unknown language")
            else:
                self.default_language = code
        elif first_label:
            self.default_language = first_label
        elif first_label is None and found:
            self.default_language = found[0]
        self.languages = [self.default_language] + [c for c in found if c != self.default_language]

    def title(self, settings: Mapping[str, object], form_id: str) -> dict[str, str]:
        """``form_title`` per language; a language without its own title reuses the default's.

        Kobo exports carry a single ``form_title``; refusing a translated form for it would be
        pedantic, and showing the default title is what the form itself would do. Without a
        title, the form id is the title (as pyxform does).
        """
        title = self.translations(settings, "form_title")
        default = title.get(self.default_language) or next(iter(title.values()), "") or form_id
        if not default:
            return title
        return {language: title.get(language, default) for language in self.languages}

    def themes(self) -> dict[str, dict[str, str]]:
        themes: dict[str, dict[str, str]] = {}
        for number, cells in self.rows("themes"):
            name = cell_text(cells.get("name"))
            if not name:
                self.problem("themes", number, "name is missing")
                continue
            themes[name] = self.translations(cells, "label")
        return themes

    def choice_lists(self) -> dict[str, list[dict[str, Any]]]:
        lists: dict[str, list[dict[str, Any]]] = {}
        rows_of: dict[tuple[str, str], int] = {}
        ignored: dict[str, list[int]] = {}
        for number, cells in self.rows("choices"):
            list_name = cell_text(cells.get("list_name"))
            value = cell_text(cells.get("name"))
            if not list_name:
                self.problem("choices", number, "list_name is missing")
            if not value:
                self.problem("choices", number, "name is missing")
            for header in cells:
                if header.split("::")[0] in MEDIA_COLUMNS:
                    ignored.setdefault(header, []).append(number)
            if not list_name or not value:
                continue
            label = self.translations(cells, "label")
            if not label:
                self.problem(
                    "choices", number, f"choice {value!r} of list {list_name!r} has no label"
                )
            if (list_name, value) in rows_of:
                self.problem(
                    "choices",
                    number,
                    f"choice {value!r} is already in list {list_name!r} "
                    f"(row {rows_of[list_name, value]})",
                )
                continue
            rows_of[list_name, value] = number
            columns = {
                header: cell_text(cell)
                for header, cell in cells.items()
                if header.split("::")[0] not in CHOICE_COLUMNS and not header.startswith("$")
            }
            lists.setdefault(list_name, []).append(
                {"value": value, "label": label, "columns": columns}
            )
        self.media_warnings("choices", ignored)
        return lists

    def media_warnings(self, sheet: str, ignored: Mapping[str, list[int]]) -> None:
        for header, numbers in ignored.items():
            self.warn(
                sheet,
                None,
                f"column {header!r} ({_rows_text(numbers)}) is ignored: "
                "images, audio and video are not shown in chat",
            )

    def questions(
        self, choice_lists: dict[str, list[dict[str, Any]]]
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]], dict[str, int]]:
        """The questions in order, the labelled groups, and the row each question comes from."""
        items: list[_Item] = []
        groups: dict[str, dict[str, str]] = {}
        stack: list[_Group] = []
        names_in: dict[tuple[str, str], int] = {}
        media: dict[str, list[int]] = {}
        appearances: dict[str, list[int]] = {}
        defaults: list[int] = []
        for number, cells in self.rows("survey"):
            raw_type = cell_text(cells.get("type"))
            if not raw_type:
                self.problem("survey", number, "type is missing")
                continue
            parsed = _parse_type(raw_type)
            path = stack[-1].path if stack and stack[-1].kind == "group" else ""
            for header in cells:
                if header.split("::")[0] in MEDIA_COLUMNS:
                    media.setdefault(header, []).append(number)
            appearance = cell_text(cells.get("appearance"))
            if appearance:
                if "search(" in appearance.replace(" ", ""):
                    self.problem(
                        "survey",
                        number,
                        f"appearance {appearance!r} reads choices from a file, which is not "
                        "supported; copy them into the choices sheet",
                    )
                else:
                    appearances.setdefault(appearance, []).append(number)
            if parsed.kind == "begin group":
                name = cell_text(cells.get("name"))
                if not name:
                    self.problem("survey", number, "name is missing (a group needs one)")
                    name = f"group_{number}"
                elif not re.fullmatch(ID_PATTERN, name):
                    self.problem(
                        "survey",
                        number,
                        f"name {name!r}: use letters, digits, '_', '.', '-' "
                        "(not starting with a digit)",
                    )
                group_path = f"{path}/{name}" if path else name
                stack.append(_Group("group", number, group_path, cell_text(cells.get("relevant"))))
                label = self.translations(cells, "label")
                if label:
                    groups[group_path] = label
                continue
            if parsed.kind in ("end group", "end repeat", "end loop"):
                expected = "group" if parsed.kind == "end group" else "repeat"
                if stack and stack[-1].kind == expected:
                    stack.pop()
                elif expected == "group":
                    self.problem("survey", number, f"{raw_type!r} closes no open group")
                continue
            if parsed.kind in ("begin repeat", "begin loop", "begin looped group"):
                stack.append(_Group("repeat", number, path, None))
            if parsed.kind in METADATA_TYPES:
                continue
            if parsed.kind in REFUSED_TYPES:
                what, instead = REFUSED_TYPES[parsed.kind]
                self.problem(
                    "survey",
                    number,
                    f"type {parsed.written!r} ({what}) is not supported"
                    + (f"; {instead}" if instead else ""),
                )
                continue
            if cell_text(cells.get("default")):
                defaults.append(number)
            question = self.question(number, cells, parsed, raw_type, choice_lists)
            if question is None:
                continue
            name = question["id"]
            if (path, name) in names_in:
                where = "in this group" if path else "at the top of the form"
                self.problem(
                    "survey",
                    number,
                    f"name {name!r} is already used {where} (row {names_in[path, name]})",
                )
                continue
            names_in[path, name] = number
            if path:
                question["group"] = path
            item = _Item(number, name, path, question)
            item.group_conditions = [
                (group.path, group.relevant) for group in stack if group.relevant
            ]
            items.append(item)
            other = question.pop("_or_other", None)
            if other is not None:
                other_name = f"{name}_other"
                if (path, other_name) in names_in:
                    self.problem(
                        "survey",
                        number,
                        f"'or_other' adds a question {other_name!r}, but that name is already "
                        f"used (row {names_in[path, other_name]})",
                    )
                    continue
                names_in[path, other_name] = number
                follow = _Item(number, other_name, path, other)
                follow.group_conditions = list(item.group_conditions)
                if path:
                    other["group"] = path
                items.append(follow)
        for group in stack:
            if group.kind == "group":
                self.problem("survey", group.row, "this group is never closed with 'end group'")
        self.media_warnings("survey", media)
        for appearance, numbers in appearances.items():
            self.warn(
                "survey",
                None,
                f"appearance {appearance!r} ({_rows_text(numbers)}) is ignored: chat shows "
                "its own buttons, lists and typed answers",
            )
        if defaults:
            self.warn(
                "survey",
                None,
                f"default ({_rows_text(defaults)}) is ignored: delegates start every question "
                "unanswered",
            )
        if not items and not any(p.location.startswith("survey") for p in self.problems):
            self.problem("survey", None, "there are no questions")
        questions, rows = self.settle(items, choice_lists)
        return questions, groups, rows

    def settle(
        self, items: list[_Item], choice_lists: dict[str, list[dict[str, Any]]]
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Give each question its id (qualified where its name repeats) and rewrite every
        ``${name}`` to the id of the question it means."""
        counts = Counter(item.name for item in items)
        ids: dict[int, str] = {}
        by_name: dict[str, list[tuple[str, str]]] = {}
        for index, item in enumerate(items):
            qid = f"{item.path}/{item.name}" if counts[item.name] > 1 and item.path else item.name
            ids[index] = qid
            by_name.setdefault(item.name, []).append((item.path, qid))
            if len(qid) > 64 or not re.fullmatch(QUESTION_ID_PATTERN, qid):
                self.problem(
                    "survey",
                    item.row,
                    f"the name {item.name!r} repeats in other groups, so this question is "
                    f"{qid!r}, which is longer than 64 characters: shorten the group names",
                )
        rows = {ids[index]: item.row for index, item in enumerate(items)}
        known = set(ids.values())

        def resolve(text: str, context: str, row: int, column: str) -> str:
            def one(match: re.Match[str]) -> str:
                name = match.group(1)
                target = _nearest(name, context, by_name, known)
                if isinstance(target, list):
                    choices = ", ".join("${" + qid + "}" for qid in target)
                    self.problem(
                        "survey",
                        row,
                        f"{column}: ${{{name}}} could mean {choices}; write one of those",
                    )
                    return match.group(0)
                return "${" + target + "}" if target else match.group(0)

            return PIPED.sub(one, text)

        questions: list[dict[str, Any]] = []
        used_columns: dict[str, set[str]] = {}
        for index, item in enumerate(items):
            question = dict(item.question)
            question["id"] = ids[index]
            for column in ("relevant", "constraint", "choice_filter"):
                if column in question:
                    question[column] = resolve(question[column], item.path, item.row, column)
            for column in ("label", "hint", "guidance"):
                if column in question:
                    question[column] = {
                        language: resolve(value, item.path, item.row, column)
                        for language, value in question[column].items()
                    }
            conditions = [
                resolve(relevant, _parent(path), item.row, "group relevant")
                for path, relevant in item.group_conditions
            ]
            if conditions:
                own = question.get("relevant")
                parts = [*conditions, *([own] if own else [])]
                question["relevant"] = " and ".join(f"({part})" for part in parts)
            list_name = question.get("choices")
            if list_name is not None and list_name not in choice_lists:
                self.problem(
                    "survey",
                    item.row,
                    f"choice list {list_name!r} is not in the choices sheet",
                )
            if "choice_filter" in question and list_name is not None:
                used_columns.setdefault(list_name, set()).update(
                    _filter_fields(question["choice_filter"])
                )
            questions.append(question)
        # Choices keep only the columns a choice_filter reads: the rest is bookkeeping.
        for list_name, options in choice_lists.items():
            wanted = used_columns.get(list_name, set())
            for index, option in enumerate(options):
                columns = {
                    key: value for key, value in option.get("columns", {}).items() if key in wanted
                }
                options[index] = {key: value for key, value in option.items() if key != "columns"}
                if columns:
                    options[index]["columns"] = columns
        return questions, rows

    def question(
        self,
        number: int,
        cells: Mapping[str, object],
        parsed: _Type,
        raw_type: str,
        choice_lists: dict[str, list[dict[str, Any]]],
    ) -> dict[str, Any] | None:
        before = len(self.problems)
        qid = cell_text(cells.get("name"))
        question: dict[str, Any] = {"id": qid}
        if not qid:
            self.problem("survey", number, "name is missing")
        elif not re.fullmatch(ID_PATTERN, qid) or len(qid) > 64:
            self.problem(
                "survey",
                number,
                f"name {qid!r}: use at most 64 letters, digits, '_', '.', '-' "
                "(not starting with a digit)",
            )

        if parsed.kind in SELECT_TYPES:
            question["type"] = SELECT_TYPES[parsed.kind]
            if parsed.extra:
                self.problem(
                    "survey", number, f"type {raw_type!r}: unexpected {' '.join(parsed.extra)!r}"
                )
            if not parsed.argument:
                self.problem("survey", number, f"type {raw_type!r} needs a choice list name")
            else:
                question["choices"] = parsed.argument
                if parsed.or_other:
                    other = self.or_other(number, cells, question, parsed.argument, choice_lists)
                    if other is not None:
                        question["_or_other"] = other
        elif parsed.kind in QUESTION_TYPES:
            question["type"] = QUESTION_TYPES[parsed.kind]
            if parsed.kind == "range":
                question["scale"] = self.range_scale(number, cells)
            if parsed.argument or parsed.extra:
                self.problem("survey", number, f"type {raw_type!r}: unexpected words after it")
        else:
            self.problem("survey", number, f"type {raw_type!r} is not supported")

        for header in cells:
            base = header.split("::")[0]
            if base in REFUSED_COLUMNS:
                self.problem("survey", number, f"column {header!r}: {REFUSED_COLUMNS[base]}")
        if parsed.kind != "range":
            self.other_parameters(number, cells)

        for column, field_name in QUESTION_FIELDS.items():
            texts = self.translations(cells, column)
            if texts:
                question[field_name] = texts
        for column in ("relevant", "constraint", "choice_filter"):
            text = cell_text(cells.get(column))
            if text:
                question[column] = text
                self.refuse_functions(number, column, text)
        if "choice_filter" in question and parsed.or_other:
            self.problem(
                "survey",
                number,
                "choice_filter cannot be combined with or_other: add an 'other' choice to the "
                "list and a text question relevant on it",
            )
        required = cell_text(cells.get("required"))
        if required.lower() in TRUE_WORDS:
            question["required"] = True
        elif required.lower() not in FALSE_WORDS:
            self.problem(
                "survey",
                number,
                f"required {required!r}: write yes or no (a condition here is not supported; "
                "use relevant on a required question instead)",
            )
        tags = [tag for tag in re.split(r"[\s,]+", cell_text(cells.get("tags"))) if tag]
        if tags:
            question["tags"] = tags
        return question if len(self.problems) == before else None

    def or_other(
        self,
        number: int,
        cells: Mapping[str, object],
        question: dict[str, Any],
        list_name: str,
        choice_lists: dict[str, list[dict[str, Any]]],
    ) -> dict[str, Any] | None:
        """``select_one LIST or_other``: LIST plus "Other", and a text question after it."""
        options = choice_lists.get(list_name)
        if options is None:
            return None  # reported with the other unknown lists
        derived = f"{list_name} or_other"
        if derived not in choice_lists:
            extended = [dict(option) for option in options]
            if not any(option["value"] == _OTHER for option in options):
                extended.append(
                    {"value": _OTHER, "label": self.catalogue("choice_other"), "columns": {}}
                )
            choice_lists[derived] = extended
        question["choices"] = derived
        name = cell_text(cells.get("name"))
        return {
            "id": f"{name}_other",
            "type": "text",
            "label": self.catalogue("specify_other"),
            "relevant": f"selected(${{{name}}}, '{_OTHER}')",
        }

    def refuse_functions(self, number: int, column: str, text: str) -> None:
        """Functions that need what a chat survey lacks (pulldata()...), reported by row now
        rather than after the rest of the form is fixed."""
        for match in _FUNCTION_CALL.finditer(text):
            reason = expressions.UNSUPPORTED_FUNCTIONS.get(match.group(1))
            if reason is not None:
                self.problem("survey", number, f"{column}: {reason}")

    def catalogue(self, key: str) -> dict[str, str]:
        """Itinera's text ``key`` in each survey language (English where it has none)."""
        return {language: i18n.text(key, language) for language in self.languages}

    def other_parameters(self, number: int, cells: Mapping[str, object]) -> None:
        for key, _ in _parameters(cell_text(cells.get("parameters"))):
            self.warn(
                "survey",
                number,
                f"parameter {key!r} is ignored"
                + (": choices are shown in their order" if key in ("randomize", "seed") else ""),
            )

    def range_scale(self, number: int, cells: Mapping[str, object]) -> dict[str, int]:
        # XLSForm's defaults for a range: start=1, end=10, step=1.
        values = {"start": 1, "end": 10, "step": 1}
        for key, value in _parameters(cell_text(cells.get("parameters"))):
            if key in DISPLAY_PARAMETERS:
                self.warn("survey", number, f"parameter {key!r} is ignored: chat shows no slider")
                continue
            if key not in RANGE_PARAMETERS:
                self.problem("survey", number, f"parameters: unknown range parameter {key!r}")
                continue
            try:
                values[key] = int(value)
            except ValueError:
                try:
                    float(value)
                except ValueError:
                    self.problem(
                        "survey", number, f"parameters: {key}={value!r} must be a whole number"
                    )
                else:
                    self.problem(
                        "survey",
                        number,
                        f"parameters: {key}={value!r}: ranges of decimals are not supported; "
                        "use a decimal question with a constraint",
                    )
        start, end, step = values["start"], values["end"], abs(values["step"])
        if step == 0:
            self.problem("survey", number, "parameters: step must not be 0")
            step = 1
        if start > end:  # a descending range: the same points, shown lowest first
            count = (start - end) // step
            start, end = start - count * step, start
        return {"min": start, "max": end, "step": step}


@dataclass(frozen=True)
class _Type:
    kind: str
    """Normalised: ``select one``, ``begin group``, ``integer``..."""
    written: str
    """The type words as written, for messages."""
    argument: str | None = None
    """The choice list name of a select."""
    or_other: bool = False
    extra: tuple[str, ...] = ()


_PHRASES = sorted(
    {
        *SELECT_TYPES,
        *QUESTION_TYPES,
        *METADATA_TYPES,
        *REFUSED_TYPES,
        "begin group",
        "end group",
        "end repeat",
        "end loop",
    },
    key=lambda phrase: -len(phrase.split()),
)


def _parse_type(raw: str) -> _Type:
    """``select one from yes_no or_other`` -> kind ``select one from``, list ``yes_no``, other.

    Words are compared in lower case with ``_`` read as a space (``begin_group``,
    ``select_one``), except the list name, kept as written.
    """
    words = raw.split()
    lowered = [word.lower() for word in words]
    spaced = [part for word in lowered for part in word.replace("_", " ").split()]
    for phrase in _PHRASES:
        parts = phrase.replace("_", " ").split()
        if spaced[: len(parts)] != parts:
            continue
        # Map the phrase back onto the written words (a word may hold several parts).
        taken, count = 0, 0
        while count < len(parts) and taken < len(words):
            count += len(lowered[taken].replace("_", " ").split())
            taken += 1
        if count != len(parts):
            continue
        kind = phrase
        rest = words[taken:]
        if kind in SELECT_TYPES and rest:
            tail = tuple(word.lower() for word in rest[1:])
            other = tail in OR_OTHER
            return _Type(kind, " ".join(words[:taken]), rest[0], other, () if other else tail)
        argument = rest[0] if rest else None
        return _Type(kind, " ".join(words[:taken]), argument, False, tuple(rest[1:]))
    return _Type(lowered[0] if lowered else "", words[0] if words else "", None, False, ())


def _normalise_header(header: str, *, sheet: str, double_colon: bool) -> str:
    """A header as pyxform reads it: ``Label::French (fr)`` -> ``label::French (fr)``.

    With no ``::`` anywhere in the sheet, one colon separates a translation as well
    (``label:English``), except in ``jr:`` names. Unknown columns of the choices sheet keep
    their spelling: a ``choice_filter`` names them.
    """
    text = header.strip()
    if not text:
        return ""
    if double_colon or "::" in text:
        tokens = [token.strip() for token in text.split("::")]
    else:
        tokens = [token.strip() for token in text.split(":")]
        if "jr" in [token.lower() for token in tokens]:
            at = [token.lower() for token in tokens].index("jr")
            if at + 1 < len(tokens):
                tokens = [*tokens[:at], f"jr:{tokens[at + 1]}", *tokens[at + 2 :]]
    base = snake_case(tokens[0])
    aliases = {**COLUMN_ALIASES, **(CHOICE_ALIASES if sheet == "choices" else {})}
    base = aliases.get(base, base)
    if sheet == "choices" and base not in CHOICE_COLUMNS:
        return text  # a column a choice_filter may name: as written
    return "::".join([base, *tokens[1:]])


def _nearest(
    name: str, context: str, by_name: Mapping[str, list[tuple[str, str]]], known: set[str]
) -> str | list[str] | None:
    """The id ``${name}`` means from inside group ``context``: the only question of that
    name, else the one in the innermost enclosing group; a list of ids if that is ambiguous;
    None if no question has that name (the definition check reports it)."""
    if "/" in name:
        return name if name in known else None
    candidates = by_name.get(name)
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0][1]
    scope: str | None = context
    while scope is not None:
        here = [qid for path, qid in candidates if path == scope]
        if len(here) == 1:
            return here[0]
        scope = _parent(scope) if scope else None
    return [qid for _, qid in candidates]


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def _filter_fields(text: str) -> set[str]:
    """The bare names (choice columns) a choice_filter reads; empty if it does not parse."""
    try:
        tree = expressions.parse(text, fields=True)
    except ExpressionError:
        return set()
    found: set[str] = set()
    stack: list[expressions.Expr] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, expressions.Field):
            found.add(node.name)
        elif isinstance(node, expressions.Binary):
            stack.extend((node.left, node.right))
        elif isinstance(node, expressions.Negate):
            stack.append(node.operand)
        elif isinstance(node, expressions.Call):
            stack.extend(node.args)
    return found


def _where(sheet: str, row: int | None) -> str:
    return f"{sheet} sheet" + (f", row {row}" if row is not None else "")


def _rows_text(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(number) for number in numbers[:5])
    more = f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
    return ("row " if len(numbers) == 1 else "rows ") + shown + more


def _parameters(text: str) -> list[tuple[str, str]]:
    """``start=1 end=5 step=1`` (spaces, commas or semicolons between) -> key/value pairs."""
    pairs: list[tuple[str, str]] = []
    for part in re.split(r"[\s,;]+", text.strip()):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((key.strip().lower(), value.strip()))
    return pairs
