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
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from surveys import expressions
from surveys.errors import DefinitionError, ExpressionError, Problem

Translations = dict[str, str]
"""Text per language code (``{"en": "Yes", "fr": "Oui"}``)."""

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
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


class Scale(_Model):
    """A numeric range such as 1-5, with optional labels for its two ends."""

    min: int = 1
    max: int = 5
    step: int = Field(default=1, ge=1)
    min_label: Translations = Field(default_factory=dict)
    max_label: Translations = Field(default_factory=dict)

    def points(self) -> list[int]:
        return list(range(self.min, self.max + 1, self.step))


class Question(_Model):
    """One question (or note) of a survey."""

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    type: QuestionType
    label: Translations
    hint: Translations = Field(default_factory=dict)
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

    @field_validator("relevant", "constraint")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None

    @property
    def asks(self) -> bool:
        """Whether the question takes an answer (notes only show text)."""
        return self.type is not QuestionType.NOTE

    def label_in(self, language: str, fallback: str = "en") -> str:
        return pick(self.label, language, fallback)

    def hint_in(self, language: str, fallback: str = "en") -> str:
        return pick(self.hint, language, fallback) if self.hint else ""


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
    questions: tuple[Question, ...] = Field(min_length=1)

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
        ):
            if text is None:
                continue
            try:
                tree = expressions.parse(text)
                expressions.check(
                    tree,
                    types,
                    current=value_type(question) if field_name == "constraint" else None,
                    choices=choice_values,
                    current_choices=own_codes if field_name == "constraint" else None,
                )
            except ExpressionError as error:
                later = [
                    ref for ref in _referenced(text) if ref not in types and ref in _all_ids(survey)
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


def _referenced(text: str) -> list[str]:
    try:
        return expressions.references(expressions.parse(text))
    except ExpressionError:
        return []


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
        elif len(scale.points()) > 11:
            problems.append(Problem(where, "a scale offers at most 11 points"))
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
