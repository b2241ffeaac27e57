"""A delegate's conversation with Itinera, the same on every channel: actions and screens.

A channel turns what the delegate did into an :data:`Action`, hands it to the answering use
case (:class:`surveys.service.answering.Conversation`) and draws the :class:`Screen` it gets
back (a question, the summary, a thank-you, or a polite refusal). The channel keeps nothing of
its own: where the delegate stands is stored before the screen is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from surveys import engine
from surveys.definition import Survey
from surveys.records import Participant, Response, Round


@dataclass(frozen=True)
class Show:
    """Show where the delegate stands (on ``/survey``, on opening the DM, after an invitation)."""


@dataclass(frozen=True)
class Answer:
    raw: engine.RawInput


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Skip:
    pass


@dataclass(frozen=True)
class Edit:
    """Change the answer to one question (from the summary)."""

    question_id: str


@dataclass(frozen=True)
class Submit:
    pass


Action = Show | Answer | Back | Skip | Edit | Submit


class ScreenKind(StrEnum):
    ASKING = "asking"
    """A question awaits an answer: ``prompt`` is set."""
    REVIEW = "review"
    """Everything relevant is answered: ``summary`` is set, with change and submit."""
    SUBMITTED = "submitted"
    """Submitted; ``summary`` is set, and answers may still be changed until the round closes."""
    SEALED = "sealed"
    """Submitted in an anonymous round: the answers went into a ballot that nothing links to
    the delegate, so they can no longer be shown or changed; ``notice`` says so."""
    CLOSED = "closed"
    """The round has closed; ``notice`` says so politely."""
    NOT_OPEN = "not_open"
    """The round has not opened yet."""


@dataclass(frozen=True)
class Screen:
    kind: ScreenKind
    participant: Participant
    round: Round
    survey: Survey
    response: Response
    language: str
    """The delegate's language, for catalogue texts (labels come in ``prompt.language``)."""
    prompt: engine.Prompt | None = None
    summary: engine.Summary | None = None
    notice: str | None = None
    """A message to show first: why an input was refused, or a confirmation."""
    intro: str | None = None
    """The survey's title and introduction, when the delegate is just starting."""
    accepted: bool = False
    """True when the action changed something that was stored."""
    stale: bool = False
    """The input was made on another screen (an older message, a second press): nothing was
    applied, and this is where the delegate is now."""
