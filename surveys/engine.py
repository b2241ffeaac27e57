"""The survey engine: walks one delegate through a survey, one question at a time.

Pure functions over a :class:`~surveys.definition.Survey` and a
:class:`~surveys.records.ResponseState`; no I/O, no clock but the ``today`` passed in.
Channels call :func:`step` to know what to show, then :func:`answer`, :func:`back`,
:func:`skip` or :func:`edit` with what the delegate did, and store the returned state.

Example::

    state = start(survey)
    shown = step(survey, state, language="fr")          # a Prompt
    outcome = answer(survey, state, Typed("2"), language="fr", today=date.today())
    if isinstance(outcome, Rejected):
        print(outcome.message)                          # in French
    else:
        state = outcome.state
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from surveys.definition import AnswerValue, Question, Survey
from surveys.records import AnswerChange, ResponseState


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
class Prompt:
    """A question to ask now, in the delegate's language, with what the channel needs to draw it."""

    question: Question
    language: str
    label: str
    hint: str
    notes: tuple[str, ...]
    """Texts of note questions shown just before this one (already in the language)."""
    options: tuple[Option, ...]
    """Choices (single/multiple/yes-no) or scale points; empty for typed answers."""
    current: AnswerValue | None
    """The answer already given, if the delegate came back to this question."""
    can_back: bool
    can_skip: bool
    position: int
    """1-based number of this question among those that take an answer and are relevant now."""
    total: int
    """How many questions take an answer and are relevant with the answers given so far."""


@dataclass(frozen=True)
class SummaryItem:
    question: Question
    label: str
    value: AnswerValue | None
    display: str
    """The answer as the delegate reads it: option labels, formatted numbers, "(skipped)"."""


@dataclass(frozen=True)
class Summary:
    """Everything relevant is answered: the delegate reviews, changes or submits."""

    language: str
    items: tuple[SummaryItem, ...]
    notes: tuple[str, ...]
    """Texts of trailing notes (after the last question)."""


@dataclass(frozen=True)
class Accepted:
    state: ResponseState
    changes: tuple[AnswerChange, ...]
    """What changed in the answers (the answer itself, and anything cleared as irrelevant)."""


@dataclass(frozen=True)
class Rejected:
    message: str
    """Why, in the delegate's language, ready to show before asking again."""


Outcome = Accepted | Rejected
