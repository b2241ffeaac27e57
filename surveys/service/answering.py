"""A delegate answering: one use case for every channel, one transaction per action.

A channel turns what the delegate did into an :data:`~surveys.conversation.Action` and, when
the input was made on a particular screen, an :data:`Expectation` (the question it answers, or
the summary). :meth:`Conversation.act` reads the round, the survey and the response, checks the
expectation, applies the action with the engine and writes the new state, all in one
transaction, naming the response version it read. If another process (or a double press)
changed the response meanwhile, the write is refused and the action is tried again from the
fresh state, where the expectation decides: a press for a question that has moved on is not
applied to another question; the delegate is shown where they are instead (``Screen.stale``).

In a consolidated round the delegates of a delegation share one response: each reads and
changes the delegation's state (the version is the shared response's, so two delegates
pressing at once are ordered like a double press), each change's history names who made it
(nobody, in an anonymous round), and the one who submits has the others told, by whom, on the
channel each was last shown a screen on (else invited on), in the submit's transaction.

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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
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
from surveys.queues import EventTarget, Lane, NewMessage
from surveys.records import (
    Attribution,
    Participant,
    Response,
    ResponseMode,
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


class NoteWriter(Protocol):
    """How a channel writes a plain note to one person (what :class:`ChannelOut` does)."""

    def note_message(self, text: str, *, address: str, key: str, lane: Lane) -> NewMessage: ...


def submitted_key(round_id: int, participant_id: int) -> str:
    """The outbox key of the notice telling a delegate their delegation's response was sent."""
    return f"submitted:{round_id}:{participant_id}"


class Conversation:
    """Walks delegates through their rounds; one instance serves every delegate and channel.

    ``notes``: by channel name, how to write to the other delegates of a delegation when one
    submits its consolidated response (a channel without one tells nobody there)."""

    def __init__(
        self,
        store: Repositories,
        *,
        clock: Clock,
        attempts: int = ATTEMPTS,
        notes: Mapping[str, NoteWriter] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._attempts = max(attempts, 1)
        self._notes = dict(notes or {})

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
            # An anonymous round's history names nobody: it would tell its ballots apart.
            by = None if anonymous else participant.id
            shared = round_.responses is ResponseMode.CONSOLIDATED
            saved = await tx.responses.save_state(
                response.shared_id,
                version=response.version,
                state=next_state,
                changes=[dataclasses.replace(change, by=by) for change in changes],
                status=new_status,
                now=now,
                # The delegates' rows follow the status (they already have the one read).
                shared=shared and new_status is not response.status,
                by=by,
            )
            # The delegate's own response (its screens), with the state it shares.
            response = dataclasses.replace(
                saved,
                id=response.id,
                participant_id=participant.id,
                holder_id=response.holder_id,
            )
            state = next_state
            if shared and new_status is ResponseStatus.SUBMITTED and not submitted:
                await self._tell_sharers(tx, participant, round_, survey, response, now=now)
            if anonymous and new_status is ResponseStatus.SUBMITTED:
                # Same transaction: the answers never stay linked to a submitted response.
                await tx.responses.cast_ballot(response.shared_id)
                response = await tx.responses.get_response(round_id, participant.id)
                sealed = _Base(participant, round_, survey, response, language)
                notice = messages.text("submitted_anonymously", language)
                return sealed.screen(ScreenKind.SEALED, notice=notice, accepted=True)
        base = _Base(participant, round_, survey, response, language)
        intro = _intro(survey, language) if starting and isinstance(action, Show) else None
        shown = _shown(base, survey, state, language, today, notice=notice, intro=intro)
        return dataclasses.replace(shown, accepted=accepted)

    async def _tell_sharers(
        self,
        tx: Repositories,
        participant: Participant,
        round_: Round,
        survey: Survey,
        response: Response,
        *,
        now: datetime,
    ) -> None:
        """Enqueue, for every other delegate sharing ``response``, that ``participant`` sent it."""
        others = [
            sharer
            for sharer in await tx.responses.sharers(response.shared_id)
            if sharer.participant.id != participant.id
        ]
        if not others:
            return
        delegation = participant.delegation or ""
        names = {d.code: d.name for d in await tx.roster.list_delegations()}
        sealed = round_.attribution is Attribution.ANONYMOUS
        key_text = "consolidated_submitted_sealed" if sealed else "consolidated_submitted"
        notes: list[NewMessage] = []
        for sharer in others:
            found = await _where(tx, sharer.participant.id, sharer.invited_on, self._notes)
            if found is None:
                continue
            writer, address = found
            language = sharer.participant.language
            text = messages.text(
                key_text,
                language,
                name=participant.name,
                delegation=names.get(delegation, delegation),
                title=survey.title_in(language),
            )
            note = writer.note_message(
                text,
                address=address,
                key=submitted_key(round_.id, sharer.participant.id),
                lane=Lane.BULK,
            )
            notes.append(dataclasses.replace(note, participant_id=sharer.participant.id))
        if notes:
            await tx.messages.enqueue(notes, now=now)


async def _where(
    tx: Repositories,
    participant_id: int,
    invited_on: str | None,
    notes: Mapping[str, NoteWriter],
) -> tuple[NoteWriter, str] | None:
    """The channel a delegate was last shown a screen on (else invited on, else any they are
    enrolled on) and their address there, if a note can be written on it."""
    channels: list[str] = []
    seen = await tx.screens.latest_any(participant_id)
    if seen is not None:
        channels.append(seen.channel)
    if invited_on is not None:
        channels.append(invited_on)
    channels.extend(notes)
    for channel in dict.fromkeys(channels):
        writer = notes.get(channel)
        identity = await tx.identities.identity(participant_id, channel)
        if writer is not None and identity is not None:
            return writer, identity.address or identity.external_id
    return None


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
    "NoteWriter",
    "NothingOpen",
    "Reviewing",
    "TypedReply",
    "answer_typed",
    "local_today",
    "submitted_key",
]
