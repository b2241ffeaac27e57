"""What a delegate gives and what a question offers: the types the engine and the input parser
share, and the rules both apply to a question's choices.

:mod:`surveys.engine` walks the survey and :mod:`surveys.inputs` reads one answer; both import
this module and neither imports the other, so there is no import cycle. The engine re-exports the
names here (``engine.Pressed``, ``engine.Rejected``...) for the channels that use them.

Example::

    offered = offered_choices(survey, question, answers, today=today)   # after choice_filter
    if not numbered(offered, language=...):  # labels are numbers: show them without positions
        ...
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from surveys import expressions
from surveys.definition import AnswerValue, Choice, Question, Survey, pick
from surveys.messages import text


@dataclass(frozen=True)
class Pressed:
    """Options chosen with buttons/checkboxes/selects: their codes (one for single choice)."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class Typed:
    """Text the delegate typed."""

    text: str


RawInput = Pressed | Typed


@dataclass(frozen=True)
class Option:
    """One choice as a channel shows it: its 1-based number, code and label."""

    number: int
    value: str
    label: str


@dataclass(frozen=True)
class Rejected:
    message: str
    """Why, in the delegate's language, ready to show before asking again."""


Answers = Mapping[str, AnswerValue | None]


@functools.lru_cache(maxsize=4096)
def parsed_expression(source: str) -> expressions.Expr:
    """The parsed form of a condition or constraint, parsed once per distinct text."""
    return expressions.parse(source)


@functools.lru_cache(maxsize=1024)
def parsed_filter(source: str) -> expressions.Expr:
    """The parsed form of a ``choice_filter`` (bare names are choice columns), parsed once."""
    return expressions.parse(source, fields=True)


def required_message(survey: Survey, question: Question, *, language: str) -> str:
    """The question's own ``required_message`` in the language, else the catalogue's."""
    if question.required_message:
        return pick(
            question.required_message, survey.language_for(language), survey.default_language
        )
    return text("required", language)


def offered_choices(
    survey: Survey, question: Question, answers: Answers, *, today: date | None
) -> tuple[Choice, ...]:
    """The choices the question offers now: all of them, or those its ``choice_filter`` keeps.

    A filter that uses ``today()`` without a ``today`` keeps the choice: better to offer one
    too many than to hide the right one.
    """
    options = survey.choices_of(question)
    if question.choice_filter is None:
        return options
    tree = parsed_filter(question.choice_filter)
    kept = []
    for option in options:
        fields: dict[str, object] = {**option.columns, "name": option.value}
        try:
            keep = expressions.evaluate(tree, answers, today=today, fields=fields)
        except ValueError:
            keep = True
        if keep:
            kept.append(option)
    return tuple(kept)


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)")


def reads_as_number(label: str) -> bool:
    """Whether a label, as a delegate would type it, is a number (``7``, ``-1``, ``2.5``)."""
    written = "".join(
        str(digit) if (digit := unicodedata.decimal(char, None)) is not None else char
        for char in unicodedata.normalize("NFKC", label)
    )
    return _NUMBER.fullmatch(written.strip()) is not None


def numbered(options: Sequence[Choice], *, survey: Survey, language: str) -> bool:
    """Whether a channel may show (and a delegate type) the options' positions 1, 2, 3...

    Not when a label is a number (an NPS list 0-10: "7" must mean the choice labelled 7), nor
    when a code is a number other than its position (codes 5..1 of a reversed scale): a typed
    number then always means a label or a code, never a position the delegate was not shown.
    """
    for position, option in enumerate(options, start=1):
        label = pick(option.label, language, survey.default_language)
        if reads_as_number(label):
            return False
        if reads_as_number(option.value) and option.value.strip().lstrip("0") != str(position):
            return False
    return True
