"""A delegate's conversation with Itinera, the same on every channel.

A channel turns what the delegate did into an :data:`Action`, calls :meth:`Conversation.act`,
and draws the :class:`Screen` it gets back (a question, the summary, a thank-you, or a polite
refusal). The state is stored before ``act`` returns, so an answer the channel acknowledges is
never lost, and the channel keeps nothing of its own.

Example::

    conversation = Conversation(store, clock=clock)
    screen = await conversation.act(participant, round_id, Answer(Typed("3")))
    if screen.notice:
        ...  # show it first: why the input was refused, in the delegate's language
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from surveys import engine, i18n, messages
from surveys.definition import Survey
from surveys.ports import Clock, ResponseRepository, RoundRepository, SurveyRepository
from surveys.records import Participant, Response, ResponseStatus, Round, RoundStatus


class ConversationRepositories(Protocol):
    @property
    def surveys(self) -> SurveyRepository: ...

    @property
    def rounds(self) -> RoundRepository: ...

    @property
    def responses(self) -> ResponseRepository: ...


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


class Conversation:
    """Walks delegates through their rounds; one instance serves every delegate and channel."""

    def __init__(self, repos: ConversationRepositories, *, clock: Clock) -> None:
        self._repos = repos
        self._clock = clock

    async def act(self, participant: Participant, round_id: int, action: Action) -> Screen:
        now = self._clock.now()
        today = _local_today(now, participant.timezone)
        round_ = await self._repos.rounds.get_round(round_id)
        survey = (await self._repos.surveys.get_version(round_.survey_version_id)).definition
        response = await self._repos.responses.get_response(round_id, participant.id)
        language = participant.language
        base = _Base(participant, round_, survey, response, language)

        status = round_.status_at(now)
        if status is RoundStatus.CLOSED:
            closes = round_.closed_at or round_.closes_at
            title = survey.title_in(language)
            when = i18n.moment(closes, language, participant.timezone)
            refusal = messages.text("round_closed", language, title=title, when=when)
            return base.screen(ScreenKind.CLOSED, notice=refusal)
        if status is RoundStatus.SCHEDULED:
            title = survey.title_in(language)
            opens = i18n.moment(round_.opens_at, language, participant.timezone)
            later = messages.text("round_not_open", language, title=title, when=opens)
            return base.screen(ScreenKind.NOT_OPEN, notice=later)

        starting = not response.state.started
        state = engine.start(survey, today=today) if starting else response.state
        submitted = response.status is ResponseStatus.SUBMITTED
        notice: str | None = None
        outcome: engine.Outcome | None = None
        new_status = ResponseStatus.SUBMITTED if submitted else ResponseStatus.IN_PROGRESS

        match action:
            case Show():
                outcome = None
            case Answer(raw=raw):
                outcome = engine.answer(survey, state, raw, language=language, today=today, now=now)
            case Back():
                outcome = engine.Accepted(engine.back(survey, state, today=today), ())
            case Skip():
                outcome = engine.skip(survey, state, language=language, now=now)
            case Edit(question_id=question_id):
                outcome = engine.edit(survey, state, question_id, language=language)
            case Submit():
                if not engine.is_complete(survey, state, today=today):
                    notice = messages.text("incomplete", language)
                else:
                    outcome = engine.Accepted(state, ())
                    new_status = ResponseStatus.SUBMITTED
                    notice = messages.text("submitted", language)

        if isinstance(outcome, engine.Rejected):
            notice = outcome.message
            outcome = None
        accepted = outcome is not None and not isinstance(action, Show)
        # Being shown the first question (an invitation, a reminder) is not starting: only
        # what the delegate does starts a response, so that one who never answers stays
        # not started (reminded as such, and not marked partial when the round closes).
        if accepted or (starting and not isinstance(action, Show)):
            assert outcome is None or isinstance(outcome, engine.Accepted)
            next_state = outcome.state if outcome is not None else state
            changes = outcome.changes if outcome is not None else ()
            response = await self._repos.responses.save_state(
                response.id, state=next_state, changes=changes, status=new_status, now=now
            )
            state = next_state
        base = _Base(participant, round_, survey, response, language)

        shown = engine.step(survey, state, language=language, today=today)
        intro = _intro(survey, language) if starting and isinstance(action, Show) else None
        if isinstance(shown, engine.Prompt):
            return base.screen(
                ScreenKind.ASKING, prompt=shown, notice=notice, intro=intro, accepted=accepted
            )
        kind = (
            ScreenKind.SUBMITTED
            if response.status is ResponseStatus.SUBMITTED and not state.editing
            else ScreenKind.REVIEW
        )
        return base.screen(kind, summary=shown, notice=notice, intro=intro, accepted=accepted)


@dataclass(frozen=True)
class _Base:
    participant: Participant
    round: Round
    survey: Survey
    response: Response
    language: str

    def screen(self, kind: ScreenKind, **fields: object) -> Screen:
        return Screen(
            kind=kind,
            participant=self.participant,
            round=self.round,
            survey=self.survey,
            response=self.response,
            language=self.language,
            **fields,  # type: ignore[arg-type]
        )


def _intro(survey: Survey, language: str) -> str:
    shown = survey.language_for(language)
    intro = survey.intro_in(shown)
    title = survey.title_in(shown)
    return f"{title}\n\n{intro}" if intro else title


def _local_today(now: datetime, timezone: str) -> date:
    try:
        return now.astimezone(ZoneInfo(timezone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()
