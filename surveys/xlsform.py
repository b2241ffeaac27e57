"""XLSForm sheets -> the survey mapping :func:`~surveys.definition.load_survey` validates.

Pure translation: the caller reads the workbook (see ``bot/survey_files.py``) and passes each
sheet as rows of ``(spreadsheet row number, {header: cell})``. Every problem is collected and
located by sheet and row before anything is raised, so an organiser fixes a form in one pass.

What is understood:

- sheets ``survey``, ``choices`` and ``settings`` (names compared case-insensitively), plus an
  optional Itinera-only ``themes`` sheet (``name``, ``label`` + translations) naming theme tags;
- types ``select_one LIST`` / ``select_multiple LIST`` (single/multiple choice, ``yes_no``-style
  lists included), ``range`` (a scale; ``parameters`` ``start=1 end=5 step=1``), ``integer``,
  ``decimal``, ``text``, ``date`` and ``note``;
- ``label``, ``hint``, ``required_message`` and ``constraint_message``, bare (default language)
  or translated (``label::Français (fr)``), ``required``, ``relevant``, ``constraint`` (kept as
  written: our expression language is XLSForm's), ``parameters`` and an optional ``tags`` column
  (space-separated theme tags).

Groups (``begin group`` ... ``end group``) are flattened: their questions are kept in order and
the group itself disappears, except its ``relevant``, which is and-ed into each question inside
so nothing is asked that the form would have hidden. Metadata rows that collect nothing from
the respondent (``start``, ``end``, ``today``, ``deviceid``, ``username``...) are skipped.
Anything else the chat channels cannot ask (repeats, locations, media, calculations, ranking,
``or_other``, choices from files, media cells, ``choice_filter``...) is refused by row.

Example::

    survey = xlsform_to_survey(
        {"survey": [(2, {"type": "text", "name": "q1", "label": "Why?"})],
         "settings": [(2, {"form_id": "demo", "version": "1"})]},
        source="demo.xlsx",
    )
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from surveys.definition import ID_PATTERN, LANGUAGE_PATTERN, Survey, load_survey
from surveys.errors import DefinitionError, Problem

Row = tuple[int, dict[str, object]]
"""One spreadsheet row: its 1-based row number and its cells by (stripped) header."""

Sheets = Mapping[str, Sequence[Row]]
"""Sheet name -> its data rows (the header row excluded)."""

LANGUAGE_NAMES: dict[str, str] = {
    "english": "en",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "arabic": "ar",
    "العربية": "ar",
    "chinese": "zh",
    "中文": "zh",
    "russian": "ru",
    "русский": "ru",
    "portuguese": "pt",
    "português": "pt",
}
"""Language names accepted without a ``(code)``, e.g. ``label::French`` or ``default_language``."""

TRANSLATED_COLUMNS = ("label", "hint", "required_message", "constraint_message")
COLUMN_ALIASES = {
    "jr:constraintmsg": "constraint_message",
    "jr:requiredmsg": "required_message",
    "list name": "list_name",
    "id_string": "form_id",
}

QUESTION_TYPES = {
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "text": "text",
    "string": "text",
    "date": "date",
    "note": "note",
}
METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "imei",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
    }
)
"""Rows the form fills in by itself; they ask nothing, so they are skipped."""

REFUSED_TYPES = {
    "begin_repeat": "repeat groups",
    "geopoint": "locations",
    "geotrace": "locations",
    "geoshape": "locations",
    "image": "media and files",
    "audio": "media and files",
    "background-audio": "media and files",
    "video": "media and files",
    "file": "media and files",
    "barcode": "media and files",
    "calculate": "calculations",
    "hidden": "hidden values",
    "rank": "ranking",
    "select_one_from_file": "choices from a file",
    "select_multiple_from_file": "choices from a file",
    "acknowledge": "acknowledgements; use a note or a select_one yes_no",
    "trigger": "acknowledgements; use a note or a select_one yes_no",
    "time": "times of day",
    "datetime": "dates with times",
    "xml-external": "external data",
    "csv-external": "external data",
}

REFUSED_COLUMNS = {
    "calculation": "calculations are not supported",
    "choice_filter": "choice_filter (cascading selects) is not supported",
    "repeat_count": "repeat groups are not supported",
    "trigger": "triggers are not supported",
}
MEDIA_COLUMNS = frozenset({"media", "image", "audio", "video", "big-image"})

RANGE_PARAMETERS = {"start", "end", "step"}
RANGE_DISPLAY_PARAMETERS = {"tick_interval", "placeholder", "tick_labelset"}
"""Range parameters that only change how a slider looks: accepted and ignored."""

TRUE_WORDS = frozenset({"yes", "true", "true()", "1", "y"})
FALSE_WORDS = frozenset({"no", "false", "false()", "0", "n", ""})


def xlsform_to_survey(sheets: Sheets, *, source: str | None) -> Survey:
    """Translate XLSForm sheets and validate the result with :func:`load_survey`.

    Raises :class:`DefinitionError` listing every problem, each named by sheet and row
    (``survey sheet, row 12: type 'begin_repeat' (repeat groups) is not supported``).
    """
    data, locations, problems = xlsform_to_mapping(sheets)
    if problems:
        raise DefinitionError(problems, source=source)
    return load_survey(data, source=source, locations=locations)


def xlsform_to_mapping(
    sheets: Sheets,
) -> tuple[dict[str, Any], dict[str, str], list[Problem]]:
    """The survey mapping, question id -> "survey sheet, row N", and the problems found."""
    return _Translator(sheets).run()


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


def language_code(name: str) -> str | None:
    """``French (fr)``, ``fr`` or ``French`` -> ``fr``; None if the language cannot be told."""
    text = name.strip()
    match = re.search(r"\(([^()]+)\)\s*$", text)
    candidate = match.group(1).strip() if match else text
    primary, _, rest = candidate.partition("-")
    code = primary.lower() + (f"-{rest}" if rest else "")
    if re.fullmatch(LANGUAGE_PATTERN, code):
        return code
    if not match:
        return LANGUAGE_NAMES.get(text.lower())
    return None


class _Translator:
    def __init__(self, sheets: Sheets) -> None:
        self.sheets = {name.strip().lower(): rows for name, rows in sheets.items()}
        self.problems: list[Problem] = []
        self.languages: list[str] = []
        self.default_language = "en"

    # -- helpers -----------------------------------------------------------------------------

    def problem(self, sheet: str, row: int | None, message: str) -> None:
        where = f"{sheet} sheet" + (f", row {row}" if row is not None else "")
        self.problems.append(Problem(where, message))

    def rows(self, sheet: str) -> list[tuple[int, dict[str, object]]]:
        """Non-blank rows of a sheet, headers normalised (lower-case base, aliases applied).

        A row whose only cells are Kobo bookkeeping (``$kuid``, ``$autoname``...) is blank.
        """
        result: list[tuple[int, dict[str, object]]] = []
        for number, cells in self.sheets.get(sheet, ()):
            normalised: dict[str, object] = {}
            for header, value in cells.items():
                key = _normalise_header(header)
                if key and cell_text(value) != "":
                    normalised[key] = value
            if any(not key.startswith("$") for key in normalised):
                result.append((number, normalised))
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
        settings = self.settings_row()
        self.find_languages(settings)
        data: dict[str, Any] = {
            "id": cell_text(settings.get("form_id")),
            "version": cell_text(settings.get("version")),
            "title": self.title(settings),
            "default_language": self.default_language,
            "languages": list(self.languages),
        }
        if not data["id"]:
            self.problem("settings", None, "form_id (the survey id) is missing")
        elif not re.fullmatch(ID_PATTERN, data["id"]):
            self.problem(
                "settings", None, f"form_id {data['id']!r}: use letters, digits, '_', '.', '-'"
            )
        if not data["version"]:
            self.problem("settings", None, "version is missing")
        themes = self.themes()
        if themes:
            data["themes"] = themes
        data["choice_lists"] = self.choice_lists()
        questions, rows = self.questions()
        for question in questions:
            name = question.get("choices")
            if name is not None and name not in data["choice_lists"]:
                self.problem(
                    "survey",
                    rows[question["id"]],
                    f"choice list {name!r} is not in the choices sheet",
                )
        data["questions"] = questions
        locations = {qid: f"survey sheet, row {number}" for qid, number in rows.items()}
        return data, locations, self.problems

    def settings_row(self) -> dict[str, object]:
        rows = self.rows("settings")
        return rows[0][1] if rows else {}

    def find_languages(self, settings: Mapping[str, object]) -> None:
        found: list[str] = []
        bare_used = False
        for sheet in ("survey", "choices", "settings", "themes"):
            unknown: set[str] = set()
            for _, cells in self.rows(sheet):
                for header in cells:
                    base, sep, language = header.partition("::")
                    if base not in (*TRANSLATED_COLUMNS, "form_title"):
                        continue
                    if not sep:
                        # A bare form_title says nothing: Kobo always writes it bare.
                        bare_used = bare_used or base != "form_title"
                        continue
                    code = language_code(language)
                    if code is None:
                        unknown.add(header)
                    elif code not in found:
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
        elif found and "en" not in found and not bare_used:
            # Only translated columns, none English: the first language is the default.
            self.default_language = found[0]
        self.languages = [self.default_language] + [c for c in found if c != self.default_language]

    def title(self, settings: Mapping[str, object]) -> dict[str, str]:
        """``form_title`` per language; a language without its own title reuses the default's.

        Kobo exports carry a single ``form_title``; refusing a translated form for it would be
        pedantic, and showing the default title is what the form itself would do.
        """
        title = self.translations(settings, "form_title")
        default = title.get(self.default_language) or cell_text(settings.get("form_id"))
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
        for number, cells in self.rows("choices"):
            list_name = cell_text(cells.get("list_name"))
            value = cell_text(cells.get("name"))
            if not list_name:
                self.problem("choices", number, "list_name is missing")
            if not value:
                self.problem("choices", number, "name is missing")
            self.refuse_media(cells, sheet="choices", row=number)
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
            lists.setdefault(list_name, []).append({"value": value, "label": label})
        return lists

    def refuse_media(self, cells: Mapping[str, object], *, sheet: str, row: int) -> None:
        for header in cells:
            if header.split("::")[0] in MEDIA_COLUMNS:
                self.problem(sheet, row, f"column {header!r}: media are not supported")

    def questions(self) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The questions in order, and the row each comes from."""
        questions: list[dict[str, Any]] = []
        first_row: dict[str, int] = {}
        # Open groups and repeats: (kind, row, relevant of the group or None).
        stack: list[tuple[str, int, str | None]] = []
        for number, cells in self.rows("survey"):
            raw_type = cell_text(cells.get("type"))
            kind, written, argument, extra = _split_type(raw_type)
            if not raw_type:
                self.problem("survey", number, "type is missing")
                continue
            if kind == "begin_group":
                stack.append(("group", number, cell_text(cells.get("relevant")) or None))
                continue
            if kind in ("end_group", "end_repeat"):
                expected = "group" if kind == "end_group" else "repeat"
                if stack and stack[-1][0] == expected:
                    stack.pop()
                elif expected == "group":
                    self.problem("survey", number, f"{raw_type!r} closes no open group")
                continue
            if kind == "begin_repeat":
                stack.append(("repeat", number, None))
            if kind in METADATA_TYPES:
                continue
            if kind in REFUSED_TYPES:
                self.problem(
                    "survey",
                    number,
                    f"type {written!r} ({REFUSED_TYPES[kind]}) is not supported",
                )
                continue
            question = self.question(number, cells, kind, argument, extra, raw_type)
            if question is None:
                continue
            group_conditions = [relevant for _, _, relevant in stack if relevant]
            if group_conditions:
                own = question.get("relevant")
                parts = [*group_conditions, *([own] if own else [])]
                question["relevant"] = " and ".join(f"({part})" for part in parts)
            qid = question["id"]
            if qid in first_row:
                self.problem(
                    "survey", number, f"name {qid!r} is already used (row {first_row[qid]})"
                )
                continue
            first_row[qid] = number
            questions.append(question)
        for kind, number, _ in stack:
            if kind == "group":
                self.problem("survey", number, "this group is never closed with 'end group'")
        if not questions and not any(p.location.startswith("survey") for p in self.problems):
            self.problem("survey", None, "there are no questions")
        return questions, first_row

    def question(
        self,
        number: int,
        cells: Mapping[str, object],
        kind: str,
        argument: str | None,
        extra: list[str],
        raw_type: str,
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

        if kind in ("select_one", "select_multiple"):
            question["type"] = "single_choice" if kind == "select_one" else "multiple_choice"
            if "or_other" in extra:
                self.problem(
                    "survey",
                    number,
                    "'or_other' is not supported: add an 'other' choice and a text question "
                    "relevant on it",
                )
            elif extra:
                self.problem("survey", number, f"type {raw_type!r}: unexpected {' '.join(extra)!r}")
            if not argument:
                self.problem("survey", number, f"type {raw_type!r} needs a choice list name")
            else:
                question["choices"] = argument
        elif kind == "range" or kind in QUESTION_TYPES:
            if kind == "range":
                question["type"] = "scale"
                question["scale"] = self.range_scale(number, cells)
            else:
                question["type"] = QUESTION_TYPES[kind]
            if argument or extra:
                self.problem("survey", number, f"type {raw_type!r}: unexpected words after it")
        else:
            self.problem("survey", number, f"type {raw_type!r} is not supported")

        for header in cells:
            base = header.split("::")[0]
            if base in REFUSED_COLUMNS:
                self.problem("survey", number, f"column {header!r}: {REFUSED_COLUMNS[base]}")
        self.refuse_media(cells, sheet="survey", row=number)

        for column in TRANSLATED_COLUMNS:
            texts = self.translations(cells, column)
            if texts:
                question[column] = texts
        for column in ("relevant", "constraint"):
            text = cell_text(cells.get(column))
            if text:
                question[column] = text
        required = cell_text(cells.get("required")).lower()
        if required in TRUE_WORDS:
            question["required"] = True
        elif required not in FALSE_WORDS:
            self.problem("survey", number, f"required {required!r}: write yes or no")
        tags = [tag for tag in re.split(r"[\s,]+", cell_text(cells.get("tags"))) if tag]
        if tags:
            question["tags"] = tags
        return question if len(self.problems) == before else None

    def range_scale(self, number: int, cells: Mapping[str, object]) -> dict[str, int]:
        # XLSForm's defaults for a range: start=1, end=10, step=1.
        scale = {"min": 1, "max": 10, "step": 1}
        keys = {"start": "min", "end": "max", "step": "step"}
        for key, value in _parameters(cell_text(cells.get("parameters"))):
            if key in RANGE_DISPLAY_PARAMETERS:
                continue
            if key not in RANGE_PARAMETERS:
                self.problem("survey", number, f"parameters: unknown range parameter {key!r}")
                continue
            try:
                scale[keys[key]] = int(value)
            except ValueError:
                self.problem(
                    "survey", number, f"parameters: {key}={value!r} must be a whole number"
                )
        return scale


def _normalise_header(header: str) -> str:
    text = header.strip()
    base, sep, language = text.partition("::")
    base = base.strip().lower()
    base = COLUMN_ALIASES.get(base, base)
    return f"{base}::{language.strip()}" if sep else base


def _split_type(raw: str) -> tuple[str, str, str | None, list[str]]:
    """The kind (normalised), the kind as written, the list name and any further words.

    ``select one yes_no or_other`` -> ``("select_one", "select one", "yes_no", ["or_other"])``.
    """
    words = raw.split()
    lowered = [word.lower() for word in words]
    size = 1
    kind = lowered[0] if lowered else ""
    if lowered[:4] == ["select", "all", "that", "apply"]:
        kind, size = "select_multiple", 4
    elif lowered[:1] in (["begin"], ["end"], ["select"]) and lowered[1:2] in (
        ["group"],
        ["repeat"],
        ["one"],
        ["multiple"],
    ):
        kind, size = f"{lowered[0]}_{lowered[1]}", 2
    argument = words[size] if len(words) > size else None
    return kind, " ".join(words[:size]), argument, lowered[size + 1 :]


def _parameters(text: str) -> list[tuple[str, str]]:
    """``start=1 end=5 step=1`` (spaces, commas or semicolons between) -> key/value pairs."""
    pairs: list[tuple[str, str]] = []
    for part in re.split(r"[\s,;]+", text.strip()):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((key.strip().lower(), value.strip()))
    return pairs
