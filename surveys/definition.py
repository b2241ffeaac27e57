"""Survey definitions: the validated, channel-agnostic form of a questionnaire.

A definition comes from a YAML file written by hand or from an XLSForm spreadsheet; both end up
as the plain mapping that :func:`load_survey` validates. Validation happens once, at load time:
an unknown question in a condition, an empty choice list or a duplicate id is reported there,
with the question it concerns, never when a delegate reaches it.

Example::

    survey = load_survey(yaml.safe_load(text), source="route_alignment.yaml")
    survey.question("alignment_return").label_in("fr")
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
)

from surveys import expressions
from surveys.errors import DefinitionError, ExpressionError, Problem

Translations = dict[str, str]
"""Text per language code (``{"en": "Yes", "fr": "Oui"}``)."""

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
QUESTION_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*(/[A-Za-z_][A-Za-z0-9_.-]*)*$"
"""A question id: a name, qualified by its group (``group/name``) where the name repeats."""
PIPED = re.compile(r"\$\{\s*([^{}]*?)\s*\}")
"""``${question}`` inside a label, hint or note: replaced with the delegate's answer."""
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    SCALE = "scale"
    YES_NO = "yes_no"
    INTEGER = "integer"
    DECIMAL = "decimal"
    TEXT = "text"
    DATE = "date"
    NOTE = "note"


CHOICE_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    omitted_when_default: ClassVar[frozenset[str]] = frozenset()
    """Fields left out of the stored JSON while they hold their default, so that adding one
    does not change the content hash (and so the stored version) of an unchanged survey."""

    @model_serializer(mode="wrap")
    def _omit_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            fields = type(self).model_fields
            for name in self.omitted_when_default:
                default = fields[name].get_default(call_default_factory=True)
                if getattr(self, name) == default:
                    data.pop(name, None)
        return data


def pick(texts: Mapping[str, str], language: str, fallback: str) -> str:
    """The text in ``language``, else in ``fallback``, else any text there is."""
    if language in texts:
        return texts[language]
    base = language.split("-")[0]
    if base in texts:
        return texts[base]
    if fallback in texts:
        return texts[fallback]
    return next(iter(texts.values()), "")


class Choice(_Model):
    """One option of a choice list: a stable code and its label per language."""

    value: str = Field(min_length=1, max_length=64)
    label: Translations
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Other columns of the choice (e.g. 'country'), which a choice_filter reads.",
    )

    omitted_when_default = frozenset({"columns"})


class Scale(_Model):
    """A numeric range such as 1-5, with optional labels for its two ends."""

    min: int = 1
    max: int = 5
    step: int = Field(default=1, ge=1)
    min_label: Translations = Field(default_factory=dict)
    max_label: Translations = Field(default_factory=dict)

    def points(self) -> list[int]:
        """Every point, lowest first; see :meth:`count` before calling it on a large range."""
        return list(range(self.min, self.max + 1, self.step))

    def count(self) -> int:
        return max(0, (self.max - self.min) // self.step + 1)

    def contains(self, number: int) -> bool:
        """Whether ``number`` is a point: within the bounds and on a step from ``min``."""
        return self.min <= number <= self.max and (number - self.min) % self.step == 0

    @property
    def top(self) -> int:
        """The highest point (``max`` itself unless the steps do not reach it)."""
        return self.min + (self.count() - 1) * self.step


class Question(_Model):
    """One question (or note) of a survey."""

    id: str = Field(pattern=QUESTION_ID_PATTERN, max_length=64)
    type: QuestionType
    label: Translations
    hint: Translations = Field(default_factory=dict)
    guidance: Translations = Field(
        default_factory=dict, description="XLSForm's guidance_hint: shown after the hint."
    )
    group: str | None = Field(
        default=None, description="Path of the groups it is in (``outer/inner``), if any."
    )
    choice_filter: str | None = Field(
        default=None, description="Which choices to offer, from earlier answers (cascading)."
    )
    required: bool = False
    required_message: Translations = Field(default_factory=dict)
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: Translations = Field(default_factory=dict)
    tags: tuple[str, ...] = ()
    choices: str | None = Field(default=None, description="Name of a shared choice list.")
    min_selected: int | None = Field(default=None, ge=0)
    max_selected: int | None = Field(default=None, ge=1)
    scale: Scale | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(default=None, ge=1)

    omitted_when_default = frozenset({"guidance", "group", "choice_filter"})

    @field_validator("relevant", "constraint", "choice_filter", "group")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None

    @property
    def groups(self) -> tuple[str, ...]:
        """The paths of the groups it is in, outermost first: ``("a", "a/b")``."""
        if self.group is None:
            return ()
        parts = self.group.split("/")
        return tuple("/".join(parts[: n + 1]) for n in range(len(parts)))

    @property
    def asks(self) -> bool:
        """Whether the question takes an answer (notes only show text)."""
        return self.type is not QuestionType.NOTE

    def label_in(self, language: str, fallback: str = "en") -> str:
        return pick(self.label, language, fallback)

    def hint_in(self, language: str, fallback: str = "en") -> str:
        """The hint, then the guidance hint (XLSForm's ``guidance_hint``), in ``language``."""
        parts = [pick(texts, language, fallback) for texts in (self.hint, self.guidance) if texts]
        return "\n".join(part for part in parts if part)


class Survey(_Model):
    """A versioned questionnaire: what it asks, in which languages, in which order."""

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    version: str = Field(min_length=1, max_length=64)
    title: Translations
    intro: Translations = Field(default_factory=dict)
    default_language: str = Field(pattern=LANGUAGE_PATTERN)
    languages: tuple[str, ...] = Field(min_length=1)
    themes: dict[str, Translations] = Field(
        default_factory=dict, description="Theme tag -> its name per language, for digests."
    )
    choice_lists: dict[str, tuple[Choice, ...]] = Field(default_factory=dict)
    groups: dict[str, Translations] = Field(
        default_factory=dict,
        description="Group path -> its label per language, shown before its first question.",
    )
    questions: tuple[Question, ...] = Field(min_length=1)

    omitted_when_default = frozenset({"groups"})

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def choices_of(self, question: Question) -> tuple[Choice, ...]:
        """The options a choice question offers, in order."""
        if question.type is QuestionType.YES_NO:
            return YES_NO_CHOICES
        if question.choices is None:
            return ()
        return self.choice_lists.get(question.choices, ())

    def title_in(self, language: str) -> str:
        return pick(self.title, language, self.default_language)

    def intro_in(self, language: str) -> str:
        return pick(self.intro, language, self.default_language) if self.intro else ""

    def language_for(self, wanted: str | None) -> str:
        """The survey language closest to ``wanted``, else its default language."""
        if wanted:
            if wanted in self.languages:
                return wanted
            base = wanted.split("-")[0]
            if base in self.languages:
                return base
        return self.default_language

    def canonical_json(self) -> str:
        """The definition as stable JSON: what is stored and hashed."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


YES_NO_CHOICES: tuple[Choice, ...] = (
    Choice(
        value="yes",
        label={"en": "Yes", "fr": "Oui", "es": "Sí", "ar": "نعم", "ru": "Да", "zh": "是"},
    ),
    Choice(
        value="no",
        label={"en": "No", "fr": "Non", "es": "No", "ar": "لا", "ru": "Нет", "zh": "否"},
    ),
)


def value_type(question: Question) -> expressions.ValueType:
    """The type a question's answer has inside conditions."""
    match question.type:
        case QuestionType.SINGLE_CHOICE | QuestionType.YES_NO | QuestionType.TEXT:
            return expressions.ValueType.STRING
        case QuestionType.MULTIPLE_CHOICE:
            return expressions.ValueType.LIST
        case QuestionType.SCALE | QuestionType.INTEGER | QuestionType.DECIMAL:
            return expressions.ValueType.NUMBER
        case QuestionType.DATE:
            return expressions.ValueType.DATE
        case QuestionType.NOTE:
            return expressions.ValueType.NONE
    raise AssertionError(question.type)  # pragma: no cover


def _loc(error: dict[str, Any], data: Mapping[str, Any]) -> str:
    """Name a pydantic error's place: ``question 'q3', field 'type'`` rather than a path."""
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
        index = loc[1]
        raw = data.get("questions")
        qid = None
        if isinstance(raw, list | tuple) and index < len(raw) and isinstance(raw[index], Mapping):
            qid = raw[index].get("id")
        where = f"question {qid!r}" if qid else f"question #{index + 1}"
        rest = ".".join(str(part) for part in loc[2:])
        return f"{where}, field {rest!r}" if rest else where
    if len(loc) >= 2 and loc[0] == "choice_lists":
        rest = ".".join(str(part) for part in loc[2:])
        return f"choice list {loc[1]!r}" + (f", {rest}" if rest else "")
    return "survey field " + repr(".".join(str(part) for part in loc)) if loc else "survey"


def load_survey(
    data: Any,
    *,
    source: str | None = None,
    locations: Mapping[str, str] | None = None,
) -> Survey:
    """Validate a survey mapping (from YAML or XLSForm) and return the definition.

    Raises :class:`DefinitionError` listing every problem found, each with its place.
    ``locations`` maps a question id to a better place name (e.g. ``"survey sheet, row 7"``).
    """
    if not isinstance(data, Mapping):
        raise DefinitionError([Problem("", "a survey must be a mapping of fields")], source=source)
    try:
        survey = Survey.model_validate(data)
    except ValidationError as error:
        problems = [Problem(_loc(dict(e), data), e["msg"]) for e in error.errors(include_url=False)]
        raise DefinitionError(problems, source=source) from None
    problems = check_survey(survey, locations=locations or {})
    if problems:
        raise DefinitionError(problems, source=source)
    return survey


def check_survey(survey: Survey, *, locations: Mapping[str, str]) -> list[Problem]:
    """Cross-field checks pydantic cannot do field by field."""
    problems: list[Problem] = []

    def where(question: Question) -> str:
        extra = locations.get(question.id)
        return f"question {question.id!r}" + (f" ({extra})" if extra else "")

    if survey.default_language not in survey.languages:
        problems.append(
            Problem(
                "survey",
                f"default_language {survey.default_language!r} is not in languages "
                f"{list(survey.languages)}",
            )
        )
    for name, options in survey.choice_lists.items():
        if not options:
            problems.append(Problem(f"choice list {name!r}", "has no choices"))
        seen: set[str] = set()
        for option in options:
            if option.value in seen:
                problems.append(
                    Problem(f"choice list {name!r}", f"choice {option.value!r} appears twice")
                )
            seen.add(option.value)

    types: dict[str, expressions.ValueType] = {}
    choice_values: dict[str, frozenset[str]] = {}
    seen_ids: set[str] = set()
    for question in survey.questions:
        if question.id in seen_ids:
            problems.append(Problem(where(question), "this id is used by another question"))
            continue
        seen_ids.add(question.id)
        problems.extend(_check_question(survey, question, where(question)))

        own_codes = frozenset(option.value for option in survey.choices_of(question)) or None
        # Conditions may only look back: a question's relevance depends on earlier answers.
        for field_name, text in (
            ("relevant", question.relevant),
            ("constraint", question.constraint),
            ("choice_filter", question.choice_filter),
        ):
            if text is None:
                continue
            filtering = field_name == "choice_filter"
            try:
                tree = expressions.parse(text, fields=filtering)
                expressions.check(
                    tree,
                    types,
                    current=value_type(question) if field_name == "constraint" else None,
                    choices=choice_values,
                    current_choices=own_codes if field_name == "constraint" else None,
                    fields=_choice_fields(survey, question) if filtering else None,
                )
            except ExpressionError as error:
                later = [
                    ref
                    for ref in _referenced(text, fields=filtering)
                    if ref not in types and ref in _all_ids(survey)
                ]
                detail = error.detail
                if later:
                    detail = f"refers to {later[0]!r}, which is not asked before this question"
                where_at = (
                    f" at character {error.position + 1}" if error.position is not None else ""
                )
                problems.append(
                    Problem(where(question), f"{field_name} {text!r}: {detail}{where_at}")
                )
            if question.type is QuestionType.NOTE and field_name == "constraint":
                problems.append(
                    Problem(where(question), "a note takes no answer, so no constraint")
                )
        if question.choice_filter is not None and question.type not in CHOICE_TYPES:
            problems.append(
                Problem(where(question), "only a choice question can have a choice_filter")
            )
        problems.extend(_check_piping(survey, question, types, where(question)))

        types[question.id] = value_type(question)
        options = survey.choices_of(question)
        if options:
            choice_values[question.id] = frozenset(option.value for option in options)

    for language in survey.languages:
        if language not in survey.title:
            problems.append(Problem("survey", f"title has no {language!r} text"))
    return problems


def _all_ids(survey: Survey) -> set[str]:
    return {question.id for question in survey.questions}


def _referenced(text: str, *, fields: bool = False) -> list[str]:
    try:
        return expressions.references(expressions.parse(text, fields=fields))
    except ExpressionError:
        return []


def _choice_fields(survey: Survey, question: Question) -> dict[str, expressions.ValueType]:
    """What a choice_filter may name: ``name`` (the code) and the choices' other columns."""
    fields = {"name": expressions.ValueType.STRING}
    for option in survey.choices_of(question):
        for column in option.columns:
            fields.setdefault(column, expressions.ValueType.STRING)
    return fields


def piped_references(text: str) -> list[str]:
    """The question ids ``${...}`` in a label, hint or note, in order."""
    return [match.group(1) for match in PIPED.finditer(text)]


def _check_piping(
    survey: Survey,
    question: Question,
    earlier: Mapping[str, expressions.ValueType],
    where: str,
) -> list[Problem]:
    """A ``${q}`` in a text must name a question answered before this one."""
    problems: list[Problem] = []
    reported: set[str] = set()
    for field_name, texts in (
        ("label", question.label),
        ("hint", question.hint),
        ("guidance_hint", question.guidance),
    ):
        for value in texts.values():
            for ref in piped_references(value):
                if ref in reported:
                    continue
                if ref not in earlier:
                    reported.add(ref)
                    if ref in _all_ids(survey):
                        detail = f"${{{ref}}} is not asked before this question"
                    else:
                        detail = f"${{{ref}}} is not a question of this survey"
                    problems.append(Problem(where, f"{field_name}: {detail}"))
                elif earlier[ref] is expressions.ValueType.NONE:
                    reported.add(ref)
                    problems.append(
                        Problem(where, f"{field_name}: ${{{ref}}} is a note and has no answer")
                    )
    return problems


def _check_question(survey: Survey, question: Question, where: str) -> list[Problem]:
    problems: list[Problem] = []
    if not question.label:
        problems.append(Problem(where, "has no label"))
    if survey.default_language not in question.label and question.label:
        problems.append(
            Problem(where, f"has no label in the default language {survey.default_language!r}")
        )
    kind = question.type
    if kind in CHOICE_TYPES:
        if question.choices is None:
            problems.append(Problem(where, f"a {kind.value} question needs a choice list"))
        elif question.choices not in survey.choice_lists:
            problems.append(Problem(where, f"choice list {question.choices!r} does not exist"))
    elif question.choices is not None:
        problems.append(Problem(where, f"a {kind.value} question takes no choice list"))
    if kind is QuestionType.MULTIPLE_CHOICE:
        low, high = question.min_selected, question.max_selected
        if low is not None and high is not None and low > high:
            problems.append(Problem(where, f"min_selected {low} is above max_selected {high}"))
        if question.choices in survey.choice_lists and low is not None:
            count = len(survey.choice_lists[question.choices])
            if low > count:
                problems.append(
                    Problem(where, f"min_selected {low} is above the {count} choices offered")
                )
    elif question.min_selected is not None or question.max_selected is not None:
        problems.append(Problem(where, "min_selected/max_selected apply to multiple_choice only"))
    if kind is QuestionType.SCALE:
        scale = question.scale or Scale()
        if scale.min >= scale.max:
            problems.append(Problem(where, f"scale min {scale.min} must be below max {scale.max}"))
        elif scale.step > scale.max - scale.min:
            problems.append(
                Problem(
                    where, f"scale step {scale.step} is more than max - min {scale.max - scale.min}"
                )
            )
    elif question.scale is not None:
        problems.append(Problem(where, "only a scale question takes 'scale'"))
    if kind in (QuestionType.INTEGER, QuestionType.DECIMAL):
        if question.min is not None and question.max is not None and question.min > question.max:
            problems.append(Problem(where, f"min {question.min} is above max {question.max}"))
    elif question.min is not None or question.max is not None:
        problems.append(Problem(where, "min/max apply to integer and decimal questions only"))
    if kind is not QuestionType.TEXT and question.max_length is not None:
        problems.append(Problem(where, "max_length applies to text questions only"))
    if kind is QuestionType.NOTE and question.required:
        problems.append(Problem(where, "a note takes no answer, so it cannot be required"))
    return problems


AnswerValue = str | int | float | list[str]
"""A stored answer: a choice code or text or ISO date (str), a number, or choice codes (list)."""

Kind = Literal["yaml", "xlsform"]


def advisories(survey: Survey) -> list[Problem]:
    """What a valid survey may still want fixed: texts missing in one of its languages, and
    choice lists no question uses. ``itinera survey validate`` shows these as warnings."""
    warnings: list[Problem] = []
    for language in survey.languages:
        missing = [
            question.id
            for question in survey.questions
            if question.label and language not in question.label
        ]
        if missing:
            warnings.append(Problem("survey", f"no {language!r} label for {_listed(missing)}"))
        hints = [
            question.id
            for question in survey.questions
            if question.hint and language not in question.hint
        ]
        if hints:
            warnings.append(Problem("survey", f"no {language!r} hint for {_listed(hints)}"))
        for name, options in survey.choice_lists.items():
            bare = [option.value for option in options if language not in option.label]
            if bare:
                warnings.append(
                    Problem(f"choice list {name!r}", f"no {language!r} label for {_listed(bare)}")
                )
    used = {question.choices for question in survey.questions if question.choices}
    derived = {name.removesuffix(" or_other") for name in used}
    for name in survey.choice_lists:
        if name not in used and name not in derived:
            warnings.append(Problem(f"choice list {name!r}", "is not used by any question"))
    return warnings


def _listed(ids: list[str]) -> str:
    shown = ", ".join(repr(qid) for qid in ids[:8])
    return shown + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
