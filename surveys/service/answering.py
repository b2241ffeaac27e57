"""A delegate answering: one use case for every channel, one transaction per action.

A channel turns what the delegate did into an :data:`~surveys.conversation.Action` and, when
the input was made on a particular screen, an :data:`Expectation` (the question it answers, or
the summary). :meth:`Conversation.act` reads the round, the survey and the response, checks the
expectation, applies the action with the engine and writes the new state, all in one
transaction, naming the response version it read. If another process (or a double press)
changed the response meanwhile, the write is refused and the action is tried again from the
fresh state, where the expectation decides: a press for a question that has moved on is not
applied to another question; the delegate is shown where they are instead (``Screen.stale``).

Example::

    conversation = Conversation(store, clock=clock)
    screen = await conversation.act(participant, round_id, Answer(Pressed(("yes",))),
                                    expect=Asking("aligned"))
    if screen.stale: ...   # the question had moved on: nothing was stored

Typed text is one rule for every channel (:func:`answer_typed`): it answers the screen the
delegate was shown on that channel when it was stored (the question, or the summary, where
there is nothing to answer); written before that screen was shown (a late retry), it is not
applied; with no screen shown, it applies to nothing and the delegate is shown where they are
in their current round, or told that nothing is open.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from surveys import engine, i18n, messages
from surveys.conversation import (
    Action,
    Answer,
    Back,
    Edit,
    Screen,
    ScreenKind,
    Show,
    Skip,
    Submit,
)
from surveys.definition import Survey
from surveys.errors import ConflictError
from surveys.ports import Clock, Repositories
from surveys.queues import EventTarget
from surveys.records import (
    Attribution,
    Participant,
    Response,
    ResponseState,
    ResponseStatus,
    Round,
    RoundStatus,
)
from surveys.service.delegates import current_round

ATTEMPTS = 5
"""How often an action is tried again when its write met another writer's."""


@dataclass(frozen=True)
class Asking:
    """The input answers (or goes back or skips from) this question, as it was shown."""

    question_id: str


@dataclass(frozen=True)
class Reviewing:
    """The input was made on the summary (submit, change an answer)."""


Expectation = Asking | Reviewing
"""Which screen an input was made on; an input for another screen than the current one is
stale and is not applied."""


class Conversation:
    """Walks delegates through their rounds; one instance serves every delegate and channel."""

    def __init__(self, store: Repositories, *, clock: Clock, attempts: int = ATTEMPTS) -> None:
        self._store = store
        self._clock = clock
        self._attempts = max(attempts, 1)

    async def act(
        self,
        participant: Participant,
        round_id: int,
        action: Action,
        *,
        expect: Expectation | None = None,
    ) -> Screen:
        """Apply ``action`` (if ``expect`` still holds) and return what to show next."""
        for attempt in range(1, self._attempts + 1):
            try:
                async with self._store.transaction() as tx:
                    return await self._act(tx, participant, round_id, action, expect)
            except ConflictError:
                if attempt == self._attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _act(
        self,
        tx: Repositories,
        participant: Participant,
        round_id: int,
        action: Action,
        expect: Expectation | None,
    ) -> Screen:
        now = self._clock.now()
        today = local_today(now, participant.timezone)
        round_ = await tx.rounds.get_round(round_id)
        survey = (await tx.surveys.get_version(round_.survey_version_id)).definition
        response = await tx.responses.get_response(round_id, participant.id)
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

        anonymous = round_.attribution is Attribution.ANONYMOUS
        if anonymous and response.status is ResponseStatus.SUBMITTED:
            # The answers are in a ballot now: there is nothing of theirs left to show or change.
            return base.screen(ScreenKind.SEALED, notice=messages.text("sealed", language))

        starting = not response.state.started
        state = engine.start(survey, today=today) if starting else response.state
        if expect is not None and not _holds(expect, survey, state, today):
            return _shown(base, survey, state, language, today, stale=True)

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
            response = await tx.responses.save_state(
                response.id,
                version=response.version,
                state=next_state,
                changes=changes,
                status=new_status,
                now=now,
            )
            state = next_state
            if anonymous and new_status is ResponseStatus.SUBMITTED:
                # Same transaction: the answers never stay linked to a submitted response.
                await tx.responses.cast_ballot(response.id)
                response = await tx.responses.get_response(round_id, participant.id)
                sealed = _Base(participant, round_, survey, response, language)
                notice = messages.text("submitted_anonymously", language)
                return sealed.screen(ScreenKind.SEALED, notice=notice, accepted=True)
        base = _Base(participant, round_, survey, response, language)
        intro = _intro(survey, language) if starting and isinstance(action, Show) else None
        shown = _shown(base, survey, state, language, today, notice=notice, intro=intro)
        return dataclasses.replace(shown, accepted=accepted)


@dataclass(frozen=True)
class NothingOpen:
    """No round is open for the delegate: ``notice`` says so, in their language."""

    notice: str


TypedReply = Screen | NothingOpen
"""What typed text leads to: the screen to show (with a notice when it was not applied), or
nothing open."""

_ON_A_SCREEN = (ScreenKind.ASKING, ScreenKind.REVIEW, ScreenKind.SUBMITTED)


async def answer_typed(
    store: Repositories,
    participant: Participant,
    written: str,
    target: EventTarget,
    *,
    clock: Clock,
) -> TypedReply:
    """Apply a typed message to what it answers (see the module's rule), in one transaction.

    ``target`` is what the inbox recorded when the message was stored: the live screen on the
    channel and whether that screen was shown after the message was written (``moved_on``).
    Text for another screen than the current one is ``stale`` (nothing applied; the notice
    says so). A closed round says it closed, with its date, whatever the screen was."""
    language = participant.language
    conversation = Conversation(store, clock=clock)
    round_id = target.round_id
    if round_id is None:
        round_id = await current_round(store, participant, now=clock.now())
        if round_id is None:
            return NothingOpen(messages.text("no_open_round", language))
        return await conversation.act(participant, round_id, Show())
    if target.moved_on or not written.strip():
        screen = await conversation.act(participant, round_id, Show())
        if target.moved_on and screen.kind in _ON_A_SCREEN:
            notice = messages.text("moved_on", language)
            return dataclasses.replace(screen, notice=notice, stale=True)
        return screen
    expect: Expectation = (
        Asking(target.question_id) if target.question_id is not None else Reviewing()
    )
    screen = await conversation.act(
        participant, round_id, Answer(engine.Typed(written)), expect=expect
    )
    if screen.stale:
        return dataclasses.replace(screen, notice=messages.text("moved_on", language))
    return screen


def _holds(expect: Expectation, survey: Survey, state: ResponseState, today: date) -> bool:
    """Whether the delegate is still on the screen the input was made on."""
    shown = engine.step(survey, state, language=survey.default_language, today=today)
    match expect:
        case Asking(question_id=question_id):
            return isinstance(shown, engine.Prompt) and shown.question.id == question_id
        case Reviewing():
            return not isinstance(shown, engine.Prompt)
    return False  # pragma: no cover


def _shown(
    base: _Base,
    survey: Survey,
    state: ResponseState,
    language: str,
    today: date,
    *,
    notice: str | None = None,
    intro: str | None = None,
    stale: bool = False,
) -> Screen:
    shown = engine.step(survey, state, language=language, today=today)
    if isinstance(shown, engine.Prompt):
        return base.screen(ScreenKind.ASKING, prompt=shown, notice=notice, intro=intro, stale=stale)
    kind = (
        ScreenKind.SUBMITTED
        if base.response.status is ResponseStatus.SUBMITTED and not state.editing
        else ScreenKind.REVIEW
    )
    return base.screen(kind, summary=shown, notice=notice, intro=intro, stale=stale)


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


def local_today(now: datetime, timezone: str) -> date:
    """The date in the delegate's timezone (UTC if it is not a zone)."""
    try:
        return now.astimezone(ZoneInfo(timezone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


__all__ = [
    "ATTEMPTS",
    "Asking",
    "Conversation",
    "Expectation",
    "NothingOpen",
    "Reviewing",
    "TypedReply",
    "answer_typed",
    "local_today",
]
