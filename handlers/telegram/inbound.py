"""From what a delegate did in Telegram to what the core understands. Pure; no I/O.

A pressed survey button is checked against the screen the delegate is on now: a press drawn
for another question (an old message, a double press) is :class:`Stale` rather than an answer
to the wrong question. A multiple-choice toggle is :class:`Redraw`: the selection lives in the
buttons until Done.

Example::

    button = callbacks.decode(query.data)
    decision = survey_action(button, screen)
    if isinstance(decision, Stale): ...      # tell the delegate, show where they are
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from handlers.telegram import callbacks
from surveys.conversation import Action, Answer, Back, Edit, Screen, ScreenKind, Skip, Submit
from surveys.definition import Question, QuestionType, Survey
from surveys.engine import Pressed
from surveys.queues import EventTarget, NewInboundEvent
from surveys.records import Channel
from surveys.service.answering import Asking, Expectation, Reviewing

CHANNEL = Channel.TELEGRAM.value
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What Telegram lets through a ``/start`` deep link, and what our codes are made of."""


@dataclass(frozen=True)
class Redraw:
    """Show the multiple-choice buttons again with this selection; nothing is stored."""

    mask: int


@dataclass(frozen=True)
class Stale:
    """The button was drawn for another screen than the one the delegate is on."""


Decision = Action | Redraw | Stale


def question_index(survey: Survey, question: Question) -> int:
    """The question's place in the survey (notes included), which buttons carry."""
    for index, candidate in enumerate(survey.questions):
        if candidate.id == question.id:
            return index
    raise KeyError(question.id)


def survey_action(button: callbacks.SurveyButton, screen: Screen) -> Decision:
    """What a survey button means on ``screen`` (the delegate's current one, same response)."""
    if button.response_id != screen.response.id:
        return Stale()
    if isinstance(button, callbacks.SubmitAnswers):
        return Submit() if screen.kind is ScreenKind.REVIEW else Stale()
    if isinstance(button, callbacks.Change):
        return _change(button, screen)
    prompt = screen.prompt
    if screen.kind is not ScreenKind.ASKING or prompt is None:
        return Stale()
    if question_index(screen.survey, prompt.question) != button.question:
        return Stale()
    multiple = prompt.question.type is QuestionType.MULTIPLE_CHOICE
    count = len(prompt.options)
    match button:
        case callbacks.Choose(number=number):
            if multiple or not 1 <= number <= count:
                return Stale()
            return Answer(Pressed((prompt.options[number - 1].value,)))
        case callbacks.Toggle(mask=mask):
            return Redraw(mask) if multiple and mask < 1 << count else Stale()
        case callbacks.Confirm(mask=mask):
            if not multiple or mask >= 1 << count:
                return Stale()
            numbers = callbacks.numbers_in(mask)
            return Answer(Pressed(tuple(prompt.options[n - 1].value for n in numbers)))
        case callbacks.GoBack():
            return Back() if prompt.can_back else Stale()
        case callbacks.SkipQuestion():
            return Skip()
    return Stale()


def expectation(button: callbacks.SurveyButton, screen: Screen) -> Expectation:
    """The screen a button was drawn on, for the answering use case to check again as it
    writes (the delegate may have moved on meanwhile, from another device or process)."""
    if isinstance(button, callbacks.SubmitAnswers | callbacks.Change) or screen.prompt is None:
        return Reviewing()
    return Asking(screen.prompt.question.id)


def _change(button: callbacks.Change, screen: Screen) -> Decision:
    summary = screen.summary
    if screen.kind not in (ScreenKind.REVIEW, ScreenKind.SUBMITTED) or summary is None:
        return Stale()
    questions = screen.survey.questions
    if not 0 <= button.question < len(questions):
        return Stale()
    question_id = questions[button.question].id
    if all(item.question.id != question_id for item in summary.items):
        return Stale()
    return Edit(question_id)


def start_code(args: Sequence[str]) -> str | None:
    """The enrolment code of ``/start CODE``, if the arguments look like one."""
    if len(args) != 1 or not CODE_PATTERN.fullmatch(args[0]):
        return None
    return args[0]


def subject(raw: Mapping[str, Any]) -> str | None:
    """The Telegram user who sent an update (a message's or a press's ``from``)."""
    for part in ("message", "edited_message", "callback_query"):
        found = raw.get(part)
        if isinstance(found, Mapping):
            sender = found.get("from")
            if isinstance(sender, Mapping) and sender.get("id") is not None:
                return str(sender["id"])
    return None


MAX_DEPTH = 64
"""The deepest nesting an update may have (Telegram's stay under 15 levels)."""

_SURROGATE = re.compile("[\ud800-\udfff]")


class TooDeep(ValueError):
    """An update nested deeper than :data:`MAX_DEPTH`."""


def cleaned(raw: Any, *, depth: int = 1) -> Any:
    """The update with every lone surrogate (half of a character a client split, which no
    database can store as text) replaced by U+FFFD; raises :class:`TooDeep` past
    :data:`MAX_DEPTH`. Everything else is kept as sent."""
    if depth > MAX_DEPTH:
        raise TooDeep(f"an update nested deeper than {MAX_DEPTH} levels")
    if isinstance(raw, str):
        return _SURROGATE.sub("\ufffd", raw)
    if isinstance(raw, dict):
        return {cleaned(k, depth=depth + 1): cleaned(v, depth=depth + 1) for k, v in raw.items()}
    if isinstance(raw, list):
        return [cleaned(item, depth=depth + 1) for item in raw]
    return raw


def to_event(raw: Mapping[str, Any]) -> NewInboundEvent | None:
    """What to store for an update before Telegram gets its answer; None if it has no
    ``update_id`` (it cannot be acknowledged or told apart from a redelivery).

    A press records the response its button belongs to; typed text (not a command) takes the
    round and question from the sender's live screen when it is stored.
    """
    update_id = raw.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        return None
    target: EventTarget | None = None
    from_screen = False
    written_before: datetime | None = None
    query = raw.get("callback_query")
    message = raw.get("message")
    if isinstance(query, Mapping):
        button = callbacks.decode(query.get("data") if isinstance(query.get("data"), str) else None)
        response_id = getattr(button, "response_id", None)
        if isinstance(response_id, int):
            target = EventTarget(response_id=response_id)
    elif isinstance(message, Mapping):
        written = message.get("text")
        from_screen = isinstance(written, str) and not written.startswith("/")
        date = message.get("date")
        if from_screen and isinstance(date, int) and not isinstance(date, bool):
            # Telegram's dates are whole seconds: written before the next one began.
            with contextlib.suppress(ValueError, OverflowError, OSError):
                written_before = datetime.fromtimestamp(date + 1, UTC)
    return NewInboundEvent(
        channel=CHANNEL,
        key=str(update_id),
        subject=subject(raw) or "",
        payload=json.dumps(raw, separators=(",", ":"), ensure_ascii=False),
        target=target,
        from_screen=from_screen,
        written_before=written_before,
    )
