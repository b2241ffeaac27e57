"""An in-memory store: the repositories of :mod:`surveys.ports` over plain dicts.

It behaves like the SQL store (the contract tests in ``tests/storage/test_contract.py``,
``test_channel_contract.py`` and ``test_queue_contract.py`` run the same cases on both), keeps
nothing after the process ends, and needs only the standard library and :mod:`surveys`. Uses:
``itinera survey preview``, demos, and fast tests of the layers above.

Example::

    store = InMemoryStore()
    version = await store.surveys.save_version(survey, now=clock.now())
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from storage.keys import stored_key
from surveys.definition import AnswerValue, Survey
from surveys.errors import ConflictError, NotFoundError, RosterError
from surveys.lifecycle import closed_by_time, closed_round, extension_problem
from surveys.lifecycle import reminder_policy as normalised_policy
from surveys.membership import (
    in_audience,
    normalise_email,
    participant_order,
    roster_problems,
    slack_taken,
    unknown_delegation,
)
from surveys.ports import (
    AuditLog,
    EnrolmentRepository,
    EventInbox,
    IdentityRepository,
    LeaseRepository,
    MessageOutbox,
    PersonalDataRepository,
    ResponseRepository,
    RosterRepository,
    RoundRepository,
    ScreenRepository,
    SurveyRepository,
)
from surveys.queues import (
    Delivery,
    EventTarget,
    InboxBacklog,
    Lane,
    Lease,
    LiveScreen,
    NewInboundEvent,
    NewMessage,
    OutboundStatus,
    OutboxBacklog,
)
from surveys.queues import InboundEvent as QueuedEvent
from surveys.queues import OutboundMessage as QueuedMessage
from surveys.records import (
    DEFAULT_REMINDER_POLICY,
    AnswerChange,
    Attribution,
    Audience,
    AuditEntry,
    Ballot,
    Channel,
    Delegation,
    Due,
    Enrolment,
    EnrolmentOutcome,
    ExportRow,
    Identity,
    Invited,
    Participant,
    ParticipantData,
    Response,
    ResponseMode,
    ResponseState,
    ResponseStatus,
    RosterImportResult,
    Round,
    RoundStatus,
    Sharer,
    StatusLine,
    SurveyVersion,
    answers_after,
    new_ballot_id,
    response_holders,
    round_target,
    utc,
)
from surveys.reminders import WAITING
from surveys.rights import (
    ERASED,
    EnrolmentCodeRecord,
    Erasure,
    ErasureRequest,
    PersonalData,
    Purged,
    ResponseData,
    actor_erased,
    actor_is,
    erased_email,
    erased_name,
    mentions,
)

# -- the repositories ------------------------------------------------------------------------


class InMemorySurveyRepository:
    def __init__(self) -> None:
        self._versions: dict[int, SurveyVersion] = {}
        self._ids = itertools.count(1)

    async def save_version(self, survey: Survey, *, now: datetime) -> SurveyVersion:
        digest = survey.content_hash()
        for version in self._versions.values():
            if version.survey_id == survey.id and version.content_hash == digest:
                return replace(version, created=False)
        version = SurveyVersion(
            id=next(self._ids),
            survey_id=survey.id,
            version=survey.version,
            content_hash=digest,
            definition=survey,
            created_at=utc(now),
        )
        self._versions[version.id] = version
        return version

    async def latest_version(self, survey_id: str) -> SurveyVersion:
        found = [v for v in self._versions.values() if v.survey_id == survey_id]
        if not found:
            raise NotFoundError("survey", survey_id)
        return max(found, key=lambda version: version.id)

    async def get_version(self, version_id: int) -> SurveyVersion:
        try:
            return self._versions[version_id]
        except KeyError:
            raise NotFoundError("survey version", version_id) from None

    async def list_versions(self, survey_id: str | None = None) -> Sequence[SurveyVersion]:
        return [
            version
            for _, version in sorted(self._versions.items())
            if survey_id is None or version.survey_id == survey_id
        ]


class InMemoryRosterRepository:
    def __init__(self) -> None:
        self.delegations: dict[str, Delegation] = {}
        self.participants: dict[int, Participant] = {}
        self.identities: dict[tuple[str, str], int] = {}
        """(channel, external id) -> participant id."""
        self.addresses: dict[tuple[int, str], str] = {}
        """(participant id, channel) -> where to write to them; dropped when the id changes."""
        self._ids = itertools.count(1)

    async def import_roster(
        self, delegations: Sequence[Delegation], participants: Sequence[ParticipantData]
    ) -> RosterImportResult:
        problems = roster_problems(delegations, participants)
        if problems:
            raise RosterError(problems)
        known = set(self.delegations) | {d.code for d in delegations}
        missing = [
            unknown_delegation(p.email, p.delegation)
            for p in participants
            if p.delegation and p.delegation not in known
        ]
        if missing:
            raise RosterError(missing)
        by_email = {p.email: p for p in self.participants.values()}
        wanted: dict[str, str] = {}  # slack id -> email
        for person in participants:
            email = normalise_email(person.email)
            current = by_email.get(email)
            if person.slack_user_id and (
                current is None or current.slack_user_id != person.slack_user_id
            ):
                wanted[person.slack_user_id] = email
        moving = set(wanted.values())
        conflicts = []
        for external in wanted:
            holder = self.identities.get((Channel.SLACK.value, external))
            if holder is not None and self.participants[holder].email not in moving:
                conflicts.append(slack_taken(external, self.participants[holder].email))
        if conflicts:
            raise RosterError(conflicts)

        slack_before = {p.id: p.slack_user_id for p in self.participants.values()}
        d_created = d_updated = 0
        for delegation in delegations:
            old = self.delegations.get(delegation.code)
            if old is None:
                d_created += 1
            elif old != delegation:
                d_updated += 1
            self.delegations[delegation.code] = delegation

        created = updated = unchanged = 0
        for person in participants:
            email = normalise_email(person.email)
            current = by_email.get(email)
            new = Participant(
                id=current.id if current else next(self._ids),
                name=person.name,
                email=email,
                role=person.role,
                delegation=person.delegation,
                language=person.language,
                timezone=person.timezone,
                tags=tuple(person.tags),
                regions=tuple(person.regions),
                slack_user_id=person.slack_user_id or (current.slack_user_id if current else None),
                telegram_user_id=current.telegram_user_id if current else None,
            )
            if current is None:
                created += 1
            elif new == current:
                unchanged += 1
            else:
                updated += 1
            self.participants[new.id] = new
        # Identities follow the participants (a moving holder released its old id above).
        for participant in self.participants.values():
            if participant.slack_user_id != slack_before.get(participant.id):
                self.addresses.pop((participant.id, Channel.SLACK.value), None)
        for key in [k for k in self.identities if k[0] == Channel.SLACK.value]:
            del self.identities[key]
        for participant in self.participants.values():
            if participant.slack_user_id:
                self.identities[(Channel.SLACK.value, participant.slack_user_id)] = participant.id
        return RosterImportResult(d_created, d_updated, created, updated, unchanged)

    async def get_participant(self, participant_id: int) -> Participant:
        try:
            return self.participants[participant_id]
        except KeyError:
            raise NotFoundError("participant", participant_id) from None

    async def find_by_identity(self, channel: str, external_id: str) -> Participant | None:
        participant_id = self.identities.get((channel, external_id))
        return None if participant_id is None else self.participants[participant_id]

    async def link_identity(self, participant_id: int, channel: str, external_id: str) -> None:
        participant = await self.get_participant(participant_id)
        self.link(participant, channel, external_id)

    def link(self, participant: Participant, channel: str, external_id: str) -> None:
        """Link as ``link_identity`` does (the latest link wins), without awaiting."""
        old = self.external_id(participant.id, channel)
        if old == external_id:
            return
        holder = self.identities.pop((channel, external_id), None)
        if holder is not None:
            self.participants[holder] = _with_identity(self.participants[holder], channel, None)
            self.addresses.pop((holder, channel), None)
        if old is not None:
            self.identities.pop((channel, old), None)
            self.addresses.pop((participant.id, channel), None)
        self.identities[(channel, external_id)] = participant.id
        self.participants[participant.id] = _with_identity(participant, channel, external_id)

    def external_id(self, participant_id: int, channel: str) -> str | None:
        """The participant's id on ``channel``, if linked."""
        for (linked_channel, external), holder in self.identities.items():
            if holder == participant_id and linked_channel == channel:
                return external
        return None

    async def list_delegations(self) -> Sequence[Delegation]:
        return [self.delegations[code] for code in sorted(self.delegations)]

    async def list_participants(self) -> Sequence[Participant]:
        return sorted(self.participants.values(), key=participant_order)

    async def audience_members(self, audience: Audience) -> Sequence[Participant]:
        members = [
            p for p in self.participants.values() if in_audience(p, audience, self.delegations)
        ]
        return sorted(members, key=participant_order)


def _with_identity(participant: Participant, channel: str, external_id: str | None) -> Participant:
    if channel == Channel.SLACK.value:
        return replace(participant, slack_user_id=external_id)
    if channel == Channel.TELEGRAM.value:
        return replace(participant, telegram_user_id=external_id)
    return participant


@dataclass
class _StoredResponse:
    response: Response
    answers: dict[str, AnswerValue | None] = field(default_factory=dict)
    history: list[AnswerChange] = field(default_factory=list)
    invite_at: datetime | None = None
    invited_at: datetime | None = None
    invited_on: str | None = None
    remind_at: datetime | None = None
    submitted_by: int | None = None

    def current(self) -> Response:
        state = replace(self.response.state, answers=dict(self.answers))
        return replace(self.response, state=state)


class InMemoryRoundRepository:
    def __init__(self, surveys: InMemorySurveyRepository, roster: InMemoryRosterRepository) -> None:
        self._surveys = surveys
        self.roster = roster
        self.rounds: dict[int, Round] = {}
        self.responses: dict[int, _StoredResponse] = {}
        self._round_ids = itertools.count(1)
        self._response_ids = itertools.count(1)

    async def create_round(
        self,
        *,
        survey_version_id: int,
        audience: Audience,
        opens_at: datetime,
        closes_at: datetime,
        participant_ids: Sequence[int],
        now: datetime,
        reminder_policy: Sequence[int] = DEFAULT_REMINDER_POLICY,
        attribution: Attribution = Attribution.DELEGATION,
        responses: ResponseMode = ResponseMode.INDIVIDUAL,
    ) -> Round:
        policy = normalised_policy(reminder_policy)
        attribution = Attribution(attribution)
        responses = ResponseMode(responses)
        version = await self._surveys.get_version(survey_version_id)
        ids = list(dict.fromkeys(participant_ids))
        for participant_id in ids:
            await self.roster.get_participant(participant_id)
        round_ = Round(
            id=next(self._round_ids),
            survey_id=version.survey_id,
            survey_version_id=survey_version_id,
            audience=Audience.parse(str(audience)),
            opens_at=utc(opens_at),
            closes_at=utc(closes_at),
            created_at=utc(now),
            reminder_policy=policy,
            attribution=attribution,
            responses=responses,
        )
        self.rounds[round_.id] = round_
        delegation_of = {pid: self.roster.participants[pid].delegation for pid in ids}
        first, others = response_holders(ids, delegation_of, responses)
        response_of: dict[int, int] = {}
        for participant_id in [*first, *others]:
            holder = others.get(participant_id)
            response = Response(
                id=next(self._response_ids),
                round_id=round_.id,
                participant_id=participant_id,
                status=ResponseStatus.NOT_STARTED,
                state=ResponseState(),
                updated_at=utc(now),
                holder_id=response_of[holder] if holder is not None else None,
            )
            response_of[participant_id] = response.id
            self.responses[response.id] = _StoredResponse(response, invite_at=round_.opens_at)
        return round_

    async def get_round(self, round_id: int) -> Round:
        try:
            return self.rounds[round_id]
        except KeyError:
            raise NotFoundError("round", round_id) from None

    async def list_rounds(self) -> Sequence[Round]:
        return [self.rounds[key] for key in sorted(self.rounds)]

    async def close_round(self, round_id: int, *, now: datetime) -> Round:
        round_ = await self.get_round(round_id)
        if round_.closed_at is None:
            round_ = replace(round_, closed_at=utc(now))
            self.rounds[round_id] = round_
        for stored in self.responses.values():
            response = stored.response
            if response.round_id != round_id:
                continue
            if response.status is ResponseStatus.IN_PROGRESS:
                stored.response = replace(response, status=ResponseStatus.PARTIAL)
            stored.invite_at = stored.remind_at = None
        return round_

    async def extend_round(self, round_id: int, *, closes_at: datetime, now: datetime) -> Round:
        round_ = await self.get_round(round_id)
        closes_at = utc(closes_at)
        closed = round_.closed_at
        reopening = closed is not None and closed_by_time(closed, round_.closes_at)
        if closed is not None and not reopening:
            raise closed_round(round_id, closed)
        problem = extension_problem(
            round_id, opens_at=round_.opens_at, closes_at=closes_at, now=utc(now)
        )
        if problem is not None:
            raise problem
        round_ = replace(round_, closes_at=closes_at, closed_at=None)
        self.rounds[round_id] = round_
        if reopening:
            for _, stored in self.of_round(round_id):
                if stored.response.status is ResponseStatus.PARTIAL:
                    stored.response = replace(stored.response, status=ResponseStatus.IN_PROGRESS)
                if stored.invited_at is None and stored.response.status in WAITING:
                    stored.invite_at = utc(now)
        return round_

    async def open_rounds(self, now: datetime) -> Sequence[Round]:
        now = utc(now)
        return [
            r
            for r in await self.list_rounds()
            if r.closed_at is None and r.opens_at <= now < r.closes_at
        ]

    async def rounds_to_close(self, now: datetime) -> Sequence[Round]:
        now = utc(now)
        return [r for r in await self.list_rounds() if r.closed_at is None and r.closes_at <= now]

    def of_round(self, round_id: int) -> list[tuple[Participant, _StoredResponse]]:
        """The round's responses with their participants, in participant order."""
        if round_id not in self.rounds:
            raise NotFoundError("round", round_id)
        pairs = [
            (self.roster.participants[stored.response.participant_id], stored)
            for stored in self.responses.values()
            if stored.response.round_id == round_id
        ]
        return sorted(pairs, key=lambda pair: participant_order(pair[0]))

    def holders_of(self, round_id: int) -> list[tuple[Participant, _StoredResponse]]:
        """:meth:`of_round` without the delegates who share another's response."""
        return [pair for pair in self.of_round(round_id) if pair[1].response.holder_id is None]

    async def status(self, round_id: int) -> Sequence[StatusLine]:
        return [
            StatusLine(
                participant=participant,
                delegation=self.roster.delegations.get(participant.delegation or ""),
                status=stored.response.status,
                answered=sum(value is not None for value in stored.answers.values()),
                started_at=stored.response.started_at,
                submitted_at=stored.response.submitted_at,
                updated_at=stored.response.updated_at,
            )
            for participant, stored in self.attributed(round_id)
        ]

    def attributed(self, round_id: int) -> list[tuple[Participant, _StoredResponse]]:
        """:meth:`holders_of`, each response with whom it is shown as: in a consolidated
        round, who submitted it, else who changed it last, else the delegate whose row holds
        it; in participant order."""
        held = self.holders_of(round_id)
        if self.rounds[round_id].responses is not ResponseMode.CONSOLIDATED:
            return held
        pairs = []
        for participant, stored in held:
            who = stored.submitted_by or _last_by(stored)
            pairs.append((self.roster.participants[who] if who else participant, stored))
        return sorted(pairs, key=lambda pair: participant_order(pair[0]))

    async def counts(self, round_id: int) -> dict[ResponseStatus, int]:
        counts = dict.fromkeys(ResponseStatus, 0)
        for _, stored in self.holders_of(round_id):
            counts[stored.response.status] += 1
        return counts

    # --- what is due ------------------------------------------------------------------------

    def _due(self, stored: _StoredResponse) -> Due:
        response = stored.response
        return Due(
            response_id=response.id,
            round=self.rounds[response.round_id],
            participant=self.roster.participants[response.participant_id],
            status=response.status,
            invited_on=stored.invited_on,
            invited_at=stored.invited_at,
            remind_at=stored.remind_at,
        )

    def _waiting_in_open(self, stored: _StoredResponse, now: datetime) -> bool:
        round_ = self.rounds[stored.response.round_id]
        return stored.response.status in WAITING and round_.status_at(now) is RoundStatus.OPEN

    async def due_invitations(self, *, now: datetime, limit: int) -> Sequence[Due]:
        now = utc(now)
        found = [
            stored
            for stored in self.responses.values()
            if stored.invite_at is not None
            and stored.invite_at <= now
            and self._waiting_in_open(stored, now)
        ]
        found.sort(key=lambda stored: (stored.invite_at, stored.response.id))
        return [self._due(stored) for stored in found[:limit]]

    async def due_reminders(self, *, now: datetime, limit: int) -> Sequence[Due]:
        now = utc(now)
        found = [
            stored
            for stored in self.responses.values()
            if stored.invited_at is not None
            and stored.remind_at is not None
            and stored.remind_at <= now
            and self._waiting_in_open(stored, now)
        ]
        found.sort(key=lambda stored: (stored.remind_at, stored.response.id))
        return [self._due(stored) for stored in found[:limit]]

    def _stored(self, response_id: int) -> _StoredResponse:
        try:
            return self.responses[response_id]
        except KeyError:
            raise NotFoundError("response", response_id) from None

    async def invited(
        self, response_id: int, *, channel: str, at: datetime, remind_at: datetime | None
    ) -> None:
        stored = self._stored(response_id)
        stored.invite_at = None
        stored.invited_at = utc(at)
        stored.invited_on = channel
        stored.remind_at = utc(remind_at) if remind_at is not None else None

    async def invited_many(self, invited: Sequence[Invited], *, at: datetime) -> None:
        for one in invited:
            self._stored(one.response_id)  # all or none
        for one in invited:
            await self.invited(one.response_id, channel=one.channel, at=at, remind_at=one.remind_at)

    async def defer_invitation(self, response_id: int, *, until: datetime) -> None:
        stored = self._stored(response_id)
        if stored.invite_at is not None:
            stored.invite_at = utc(until)

    async def invite_again(self, participant_id: int, *, now: datetime) -> None:
        for stored in self.responses.values():
            if stored.response.participant_id == participant_id and stored.invite_at is not None:
                stored.invite_at = min(stored.invite_at, utc(now))

    async def plan_reminder(self, response_id: int, *, at: datetime | None) -> None:
        self._stored(response_id).remind_at = utc(at) if at is not None else None

    async def reminder_plans(self, round_id: int) -> Sequence[Due]:
        return [
            self._due(stored)
            for _, stored in self.of_round(round_id)
            if stored.invited_at is not None and stored.response.status in WAITING
        ]


class InMemoryResponseRepository:
    def __init__(
        self,
        rounds: InMemoryRoundRepository,
        events: InMemoryEventInbox,
        messages: InMemoryMessageOutbox,
    ) -> None:
        self._rounds = rounds
        self._events = events
        self._messages = messages
        self.ballot_box: dict[str, Ballot] = {}
        """Ballots by id; only their ids order them (a dict keeps insertion order, which
        :meth:`ballots` never shows)."""

    def _stored(self, response_id: int) -> _StoredResponse:
        try:
            return self._rounds.responses[response_id]
        except KeyError:
            raise NotFoundError("response", response_id) from None

    async def get_response(self, round_id: int, participant_id: int) -> Response:
        for stored in self._rounds.responses.values():
            response = stored.response
            if response.round_id == round_id and response.participant_id == participant_id:
                if response.holder_id is None:
                    return stored.current()
                held = self._stored(response.holder_id).current()
                return replace(
                    held, id=response.id, participant_id=participant_id, holder_id=held.id
                )
        raise NotFoundError("response", (round_id, participant_id))

    async def load_responses(self, response_ids: Collection[int]) -> None:
        return None  # every read is already in memory

    async def own_response(self, response_id: int, participant_id: int) -> Response | None:
        stored = self._rounds.responses.get(response_id)
        if stored is None or stored.response.participant_id != participant_id:
            return None
        return await self.get_response(stored.response.round_id, participant_id)

    async def save_state(
        self,
        response_id: int,
        *,
        version: int,
        state: ResponseState,
        changes: Sequence[AnswerChange],
        status: ResponseStatus,
        now: datetime,
        shared: bool = False,
        by: int | None = None,
    ) -> Response:
        stored = self._stored(response_id)
        now = utc(now)
        old = stored.response
        if old.version != version:
            raise ConflictError("response", response_id, expected=version)
        started_at = old.started_at
        if started_at is None and (state.started or status is not ResponseStatus.NOT_STARTED):
            started_at = now
        submitted_at = old.submitted_at
        if status is ResponseStatus.SUBMITTED and (
            old.status is not ResponseStatus.SUBMITTED or submitted_at is None
        ):
            submitted_at = now
        if status is ResponseStatus.SUBMITTED:
            stored.remind_at = None
            if old.status is not ResponseStatus.SUBMITTED:
                stored.submitted_by = by
        history = [replace(c, value=_copy(c.value), at=utc(c.at)) for c in changes]
        stored.answers = answers_after(
            stored.answers, [replace(c, value=_copy(c.value)) for c in history]
        )
        stored.history.extend(history)
        stored.response = replace(
            old,
            status=status,
            state=ResponseState(
                current=state.current, editing=state.editing, started=started_at is not None
            ),
            started_at=started_at,
            submitted_at=submitted_at,
            updated_at=now,
            version=old.version + 1,
        )
        if shared:
            for member in self._members(response_id):
                member.response = replace(
                    member.response,
                    status=status,
                    started_at=started_at,
                    submitted_at=submitted_at,
                    updated_at=now,
                )
                if status is ResponseStatus.SUBMITTED:
                    member.remind_at = None
        return stored.current()

    def _members(self, response_id: int) -> list[_StoredResponse]:
        return [
            stored
            for stored in self._rounds.responses.values()
            if stored.response.holder_id == response_id
        ]

    async def sharers(self, response_id: int) -> Sequence[Sharer]:
        group = [self._stored(response_id), *self._members(response_id)]
        return sorted(
            (
                Sharer(
                    response_id=stored.response.id,
                    participant=self._rounds.roster.participants[stored.response.participant_id],
                    invited_on=stored.invited_on,
                )
                for stored in group
            ),
            key=lambda sharer: sharer.response_id,
        )

    async def history(self, response_id: int) -> Sequence[AnswerChange]:
        return list(self._stored(response_id).history)

    async def cast_ballot(self, response_id: int) -> Ballot:
        stored = self._stored(response_id)
        response = stored.response
        ballot = Ballot(
            ballot_id=new_ballot_id(),
            round_id=response.round_id,
            answers={qid: _copy(value) for qid, value in sorted(stored.answers.items())},
        )
        self.ballot_box[ballot.ballot_id] = ballot
        stored.answers.clear()
        stored.history.clear()
        stored.response = replace(
            response, state=replace(response.state, current=None, editing=False)
        )
        group = [stored, *self._members(response_id)]
        group_ids = {member.response.id for member in group}
        group_people = {member.response.participant_id for member in group}
        for queued in self._events.events.values():
            event = queued.event
            handled = event.processed_at is not None or queued.claimed_by is not None
            if event.target.response_id in group_ids and handled:
                queued.event = replace(event, payload="")
        for held in self._messages.messages.values():
            message = held.message
            ours = (message.screen is not None and message.screen.response_id in group_ids) or (
                message.round_id == response.round_id and message.participant_id in group_people
            )
            if ours and not held.unsent:
                held.message = replace(message, body={})
        return replace(ballot, answers=dict(ballot.answers))

    async def ballots(self, round_id: int) -> AsyncIterator[Ballot]:
        await self._rounds.get_round(round_id)  # raises NotFoundError
        for ballot_id in sorted(self.ballot_box):
            ballot = self.ballot_box[ballot_id]
            if ballot.round_id == round_id:
                yield replace(ballot, answers={k: _copy(v) for k, v in ballot.answers.items()})

    async def ballot_count(self, round_id: int) -> int:
        return sum(ballot.round_id == round_id for ballot in self.ballot_box.values())

    async def export_rows(
        self, round_id: int, *, delegations: Collection[str] | None = None
    ) -> AsyncIterator[ExportRow]:
        for participant, stored in self._rounds.attributed(round_id):
            if delegations is not None and participant.delegation not in delegations:
                continue
            response = stored.response
            yield ExportRow(
                response_id=response.id,
                participant=participant,
                delegation=self._rounds.roster.delegations.get(participant.delegation or ""),
                status=response.status,
                started_at=response.started_at,
                submitted_at=response.submitted_at,
                answers=dict(stored.answers),
            )


def _last_by(stored: _StoredResponse) -> int | None:
    return next((c.by for c in reversed(stored.history) if c.by is not None), None)


def _copy(value: AnswerValue | None) -> AnswerValue | None:
    """A stored value the caller cannot change afterwards (lists come back as new lists)."""
    return list(value) if isinstance(value, list | tuple) else value


class InMemoryAuditLog:
    def __init__(self) -> None:
        self._entries: list[AuditEntry] = []

    async def record(
        self, *, actor: str, action: str, target: str, details: dict[str, object], now: datetime
    ) -> None:
        entry = AuditEntry(
            at=utc(now), actor=actor, action=action, target=target, details=dict(details)
        )
        self._entries.append(entry)

    async def entries(
        self,
        *,
        limit: int = 100,
        round_id: int | None = None,
        since: datetime | None = None,
        actor: str | None = None,
    ) -> Sequence[AuditEntry]:
        target = round_target(round_id) if round_id is not None else None
        start = utc(since) if since is not None else None
        wanted = actor.lower() if actor else None
        found = [
            replace(e, details=dict(e.details))
            for e in reversed(self._entries)
            if (target is None or e.target == target)
            and (start is None or e.at >= start)
            and (wanted is None or wanted in e.actor.lower())
        ]
        return found[:limit]


# -- channels --------------------------------------------------------------------------------


class InMemoryIdentityRepository:
    def __init__(self, rounds: InMemoryRoundRepository) -> None:
        self._rounds = rounds
        self._roster = rounds.roster

    async def identities(
        self, participant_ids: Sequence[int], channel: str
    ) -> Mapping[int, Identity]:
        found = {pid: await self.identity(pid, channel) for pid in participant_ids}
        return {pid: identity for pid, identity in found.items() if identity is not None}

    async def identity(self, participant_id: int, channel: str) -> Identity | None:
        external = self._roster.external_id(participant_id, channel)
        if external is None:
            return None
        return Identity(
            participant_id=participant_id,
            channel=channel,
            external_id=external,
            address=self._roster.addresses.get((participant_id, channel)),
        )

    async def set_address(self, participant_id: int, channel: str, address: str) -> None:
        if self._roster.external_id(participant_id, channel) is None:
            raise NotFoundError("identity", (participant_id, channel))
        self._roster.addresses[(participant_id, channel)] = address

    async def set_language(self, participant_id: int, language: str) -> None:
        participant = await self._roster.get_participant(participant_id)
        self._roster.participants[participant_id] = replace(participant, language=language)

    async def set_timezone(self, participant_id: int, timezone: str) -> None:
        participant = await self._roster.get_participant(participant_id)
        self._roster.participants[participant_id] = replace(participant, timezone=timezone)

    async def unlink(self, participant_id: int, channel: str) -> Identity | None:
        removed = await self.identity(participant_id, channel)
        if removed is None:
            return None
        participant = self._roster.participants[participant_id]
        self._roster.identities.pop((channel, removed.external_id), None)
        self._roster.addresses.pop((participant_id, channel), None)
        self._roster.participants[participant_id] = _with_identity(participant, channel, None)
        return removed

    async def participations(self, participant_id: int) -> Sequence[tuple[Round, Response]]:
        found = [
            (self._rounds.rounds[stored.response.round_id], stored.current())
            for stored in self._rounds.responses.values()
            if stored.response.participant_id == participant_id
        ]
        return sorted(found, key=lambda pair: pair[0].id, reverse=True)


@dataclass
class _Code:
    participant_id: int
    channel: str
    expires_at: datetime
    used_at: datetime | None = None
    used_by_external_id: str | None = None
    created_at: datetime | None = None


class InMemoryEnrolmentRepository:
    def __init__(self, roster: InMemoryRosterRepository) -> None:
        self._roster = roster
        self.codes: dict[str, _Code] = {}
        """code hash -> the code."""
        self.failures: list[tuple[str, str, datetime]] = []
        """(channel, external id, when) of each wrong code, in the order they came."""

    async def issue(
        self,
        *,
        participant_id: int,
        channel: str,
        code_hash: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        await self._roster.get_participant(participant_id)
        now, expires_at = utc(now), utc(expires_at)
        if code_hash in self.codes:
            raise ValueError("an enrolment code with this hash was already issued")
        for code in self.codes.values():
            if (
                (code.participant_id, code.channel) == (participant_id, channel)
                and code.used_at is None
                and code.expires_at > now
            ):
                code.expires_at = now
        self.codes[code_hash] = _Code(participant_id, channel, expires_at, created_at=now)

    async def redeem(
        self, *, channel: str, code_hash: str, external_id: str, now: datetime
    ) -> Enrolment:
        now = utc(now)
        code = self.codes.get(code_hash)
        if code is None or code.channel != channel:
            return Enrolment(EnrolmentOutcome.UNKNOWN)
        if code.used_at is not None:
            return Enrolment(EnrolmentOutcome.USED)
        if now >= code.expires_at:
            return Enrolment(EnrolmentOutcome.EXPIRED)
        linked = self._roster.external_id(code.participant_id, channel)
        if linked is not None and linked != external_id:
            return Enrolment(EnrolmentOutcome.LINKED_ELSEWHERE, code.participant_id)
        code.used_at, code.used_by_external_id = now, external_id
        participant = self._roster.participants[code.participant_id]
        self._roster.link(participant, channel, external_id)
        return Enrolment(EnrolmentOutcome.ENROLLED, code.participant_id)

    async def record_failure(self, *, channel: str, external_id: str, now: datetime) -> None:
        self.failures.append((channel, external_id, utc(now)))

    async def recent_failures(
        self, *, channel: str, external_id: str, since: datetime
    ) -> Sequence[datetime]:
        since = utc(since)
        return sorted(
            at
            for failed_on, who, at in self.failures
            if (failed_on, who) == (channel, external_id) and at >= since
        )


# -- queues ----------------------------------------------------------------------------------
# The same rules as storage.queues, decided in plain Python: a claim reads every row as it was
# before it changes any (as one SQL statement does), and needs no lock, since nothing awaits
# between its read and its write.


class InMemoryScreenRepository:
    def __init__(self) -> None:
        self.screens: dict[tuple[str, int], LiveScreen] = {}
        """(channel, response id) -> its live screen."""

    async def show(self, screen: LiveScreen) -> None:
        self.screens[(screen.channel, screen.response_id)] = replace(
            screen, shown_at=utc(screen.shown_at)
        )

    async def show_many(self, screens: Sequence[LiveScreen]) -> None:
        for screen in screens:
            await self.show(screen)

    async def get(self, *, channel: str, response_id: int) -> LiveScreen | None:
        return self.screens.get((channel, response_id))

    async def latest(self, *, channel: str, participant_id: int) -> LiveScreen | None:
        return self.latest_of(participant_id, channel=channel)

    async def latest_any(self, participant_id: int) -> LiveScreen | None:
        return self.latest_of(participant_id)

    def latest_of(self, participant_id: int, *, channel: str | None = None) -> LiveScreen | None:
        """Most recently shown first; ties go to the newer response, then by channel name."""
        found = sorted(
            (
                screen
                for screen in self.screens.values()
                if screen.participant_id == participant_id
                and (channel is None or screen.channel == channel)
            ),
            key=lambda screen: screen.channel,
        )
        found.sort(key=lambda screen: (screen.shown_at, screen.response_id), reverse=True)
        return found[0] if found else None


def _live(lease_until: datetime | None, now: datetime) -> bool:
    return lease_until is not None and lease_until > now


@dataclass
class _QueuedEvent:
    event: QueuedEvent
    available_at: datetime
    claimed_by: str | None = None
    lease_until: datetime | None = None


class InMemoryEventInbox:
    def __init__(self, roster: InMemoryRosterRepository, screens: InMemoryScreenRepository) -> None:
        self._roster = roster
        self._screens = screens
        self.events: dict[int, _QueuedEvent] = {}
        self._keys: dict[tuple[str, str], int] = {}
        self._ids = itertools.count(1)

    async def accept(self, event: NewInboundEvent, *, now: datetime) -> int | None:
        now = utc(now)
        key = stored_key(event.key)
        if (event.channel, key) in self._keys:
            return None
        target = event.target or EventTarget()
        if event.from_screen:
            target = EventTarget()
            participant_id = self._roster.identities.get((event.channel, event.subject))
            if participant_id is not None:
                screen = self._screens.latest_of(participant_id, channel=event.channel)
                if screen is not None:
                    written = event.written_before
                    target = EventTarget(
                        round_id=screen.round_id,
                        response_id=screen.response_id,
                        question_id=screen.question_id,
                        version=screen.version,
                        moved_on=written is not None and screen.shown_at > written,
                    )
        stored = QueuedEvent(
            id=next(self._ids),
            channel=event.channel,
            key=key,
            subject=event.subject,
            payload=event.payload,
            received_at=now,
            target=target,
        )
        self._keys[(event.channel, key)] = stored.id
        self.events[stored.id] = _QueuedEvent(stored, available_at=now)
        return stored.id

    async def claim(
        self,
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        event_id: int | None = None,
    ) -> Sequence[QueuedEvent]:
        now = utc(now)
        waiting = [q for _, q in sorted(self.events.items()) if q.event.processed_at is None]
        subjects: dict[tuple[str, str], list[_QueuedEvent]] = {}
        for queued in waiting:
            subjects.setdefault((queued.event.channel, queued.event.subject), []).append(queued)

        def blocked(queued: _QueuedEvent) -> bool:
            return any(
                other.event.id != queued.event.id
                and (other.event.id < queued.event.id or _live(other.lease_until, now))
                for other in subjects[(queued.event.channel, queued.event.subject)]
            )

        taken = [
            queued
            for queued in waiting
            if (event_id is None or queued.event.id == event_id)
            and queued.available_at <= now
            and not _live(queued.lease_until, now)
            and not blocked(queued)
        ][: max(limit, 0)]
        for queued in taken:
            queued.claimed_by, queued.lease_until = worker, now + lease
            queued.event = replace(queued.event, attempts=queued.event.attempts + 1)
        return [queued.event for queued in taken]

    async def complete(
        self, event_id: int, *, worker: str, now: datetime, error: str | None = None
    ) -> None:
        queued = self.events.get(event_id)
        if queued is None:
            raise NotFoundError("inbound event", event_id)
        if queued.claimed_by != worker or queued.event.processed_at is not None:
            raise ConflictError("inbound event", event_id)
        queued.event = replace(queued.event, processed_at=utc(now), error=error)
        queued.lease_until = None

    async def release(
        self, event_id: int, *, worker: str, available_at: datetime, error: str | None = None
    ) -> None:
        queued = self.events.get(event_id)
        if queued is None or queued.claimed_by != worker or queued.event.processed_at is not None:
            return
        queued.claimed_by, queued.lease_until = None, None
        queued.available_at = utc(available_at)
        if error is not None:
            queued.event = replace(queued.event, error=error)

    async def get(self, *, channel: str, key: str) -> QueuedEvent | None:
        event_id = self._keys.get((channel, stored_key(key)))
        return None if event_id is None else self.events[event_id].event

    async def backlog(self) -> InboxBacklog:
        waiting = [q.event for q in self.events.values() if q.event.processed_at is None]
        oldest = min((event.received_at for event in waiting), default=None)
        return InboxBacklog(pending=len(waiting), oldest=oldest)


PENDING, CLAIMED = OutboundStatus.PENDING, OutboundStatus.CLAIMED
SENT, FAILED = OutboundStatus.SENT, OutboundStatus.FAILED


@dataclass
class _QueuedMessage:
    message: QueuedMessage
    available_at: datetime
    claimed_by: str | None = None
    lease_until: datetime | None = None

    @property
    def unsent(self) -> bool:
        return self.message.status in (PENDING, CLAIMED)

    def held_by(self, worker: str) -> bool:
        return self.message.status is CLAIMED and self.claimed_by == worker

    def record(self) -> QueuedMessage:
        """The stored message, with a body the caller may change freely."""
        return replace(self.message, body=copy.deepcopy(self.message.body))


class InMemoryMessageOutbox:
    def __init__(self, screens: InMemoryScreenRepository) -> None:
        self._screens = screens
        self.messages: dict[int, _QueuedMessage] = {}
        self._keys: dict[tuple[str, str], int] = {}
        self._ids = itertools.count(1)

    async def enqueue(
        self, messages: Sequence[NewMessage], *, now: datetime
    ) -> Sequence[int | None]:
        now = utc(now)
        ids: list[int | None] = []
        for new in messages:
            key = stored_key(new.key)
            if (new.channel, key) in self._keys:
                ids.append(None)
                continue
            message = QueuedMessage(
                id=next(self._ids),
                channel=new.channel,
                key=key,
                address=new.address,
                method=new.method,
                body=copy.deepcopy(new.body),
                lane=Lane(new.lane),
                status=PENDING,
                created_at=now,
                updated_at=now,
                participant_id=new.participant_id,
                round_id=new.round_id,
                screen=new.screen,
            )
            available_at = utc(new.available_at) if new.available_at is not None else now
            self._keys[(new.channel, key)] = message.id
            self.messages[message.id] = _QueuedMessage(message, available_at=available_at)
            ids.append(message.id)
            if message.lane is Lane.INTERACTIVE:
                self._hurry(message)
        return ids

    def _hurry(self, urgent: QueuedMessage) -> None:
        """Move the unsent bulk messages ahead of ``urgent`` to its address into its lane."""
        for queued in self.messages.values():
            message = queued.message
            if (
                (message.channel, message.address) == (urgent.channel, urgent.address)
                and queued.unsent
                and message.id < urgent.id
                and message.lane > urgent.lane
            ):
                queued.message = replace(message, lane=urgent.lane)

    async def claim(
        self, *, channel: str, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[QueuedMessage]:
        now = utc(now)
        unsent = [
            q for _, q in sorted(self.messages.items()) if q.message.channel == channel and q.unsent
        ]
        addresses: dict[str, list[_QueuedMessage]] = {}
        for queued in unsent:
            addresses.setdefault(queued.message.address, []).append(queued)

        def ready(queued: _QueuedMessage) -> bool:
            if queued.message.status is PENDING:
                return queued.available_at <= now
            return not _live(queued.lease_until, now)

        def blocked(queued: _QueuedMessage) -> bool:
            return any(
                other.message.id != queued.message.id
                and (
                    other.message.id < queued.message.id
                    or (other.message.status is CLAIMED and _live(other.lease_until, now))
                )
                for other in addresses[queued.message.address]
            )

        heads = [queued for queued in unsent if ready(queued) and not blocked(queued)]
        order = sorted(heads, key=lambda queued: (queued.message.lane, queued.message.id))
        taken = order[: max(limit, 0)]
        for queued in taken:
            queued.claimed_by, queued.lease_until = worker, now + lease
            queued.message = replace(
                queued.message,
                status=CLAIMED,
                attempts=queued.message.attempts + 1,
                updated_at=now,
            )
        claimed = [queued.record() for queued in taken]
        return sorted(claimed, key=lambda message: (message.lane, message.id))

    def _stored(self, message_id: int) -> _QueuedMessage:
        try:
            return self.messages[message_id]
        except KeyError:
            raise NotFoundError("outbound message", message_id) from None

    async def delivered(
        self,
        message_id: int,
        *,
        worker: str,
        now: datetime,
        platform_id: str | None,
        address: str | None = None,
    ) -> bool:
        queued = self._stored(message_id)
        held = queued.held_by(worker)
        message = replace(
            queued.message,
            status=SENT,
            message_id=platform_id,
            sent_address=address,
            error=None,
            updated_at=utc(now),
        )
        queued.message, queued.lease_until = message, None
        if message.screen is not None:
            where = (message.channel, message.screen.response_id)
            screen = self._screens.screens.get(where)
            if screen is not None and screen.outbox_id == message_id:
                self._screens.screens[where] = replace(
                    screen, message_id=platform_id, address=address or message.address
                )
        return held

    async def delivered_many(
        self, deliveries: Sequence[Delivery], *, worker: str, now: datetime
    ) -> Mapping[int, bool]:
        held: dict[int, bool] = {}
        for delivery in deliveries:
            if delivery.message_id not in self.messages:
                continue
            held[delivery.message_id] = await self.delivered(
                delivery.message_id,
                worker=worker,
                now=now,
                platform_id=delivery.platform_id,
                address=delivery.address,
            )
        return held

    async def postpone(
        self,
        message_id: int,
        *,
        worker: str,
        available_at: datetime,
        error: str | None = None,
        count_attempt: bool = True,
    ) -> None:
        queued = self.messages.get(message_id)
        if queued is None or not queued.held_by(worker):
            return
        message = queued.message
        attempts = message.attempts if count_attempt else max(message.attempts - 1, 0)
        queued.message = replace(
            message,
            status=PENDING,
            attempts=attempts,
            error=message.error if error is None else error,
        )
        queued.claimed_by, queued.lease_until = None, None
        queued.available_at = utc(available_at)

    async def fail(self, message_id: int, *, worker: str, now: datetime, error: str) -> None:
        queued = self.messages.get(message_id)
        if queued is None or not queued.held_by(worker):
            return
        queued.message = replace(queued.message, status=FAILED, error=error, updated_at=utc(now))
        queued.lease_until = None

    async def get(self, *, channel: str, key: str) -> QueuedMessage | None:
        message_id = self._keys.get((channel, stored_key(key)))
        return None if message_id is None else self.messages[message_id].record()

    async def find(
        self, *, channel: str | None = None, keys: Sequence[str]
    ) -> Sequence[QueuedMessage]:
        wanted = {stored_key(key) for key in keys}
        return [
            queued.record()
            for _, queued in sorted(self.messages.items())
            if queued.message.key in wanted and channel in (None, queued.message.channel)
        ]

    async def resend(self, *, round_id: int, now: datetime) -> int:
        now = utc(now)
        count = 0
        for queued in self.messages.values():
            message = queued.message
            if message.round_id == round_id and message.status is FAILED:
                queued.message = replace(
                    message, status=PENDING, attempts=0, error=None, updated_at=now
                )
                queued.available_at, queued.claimed_by, queued.lease_until = now, None, None
                count += 1
        return count

    async def backlog(self) -> Sequence[OutboxBacklog]:
        channels: dict[str, list[QueuedMessage]] = {}
        for queued in self.messages.values():
            channels.setdefault(queued.message.channel, []).append(queued.message)
        found = []
        for channel in sorted(channels):
            unsent = [m for m in channels[channel] if m.status in (PENDING, CLAIMED)]
            failed = sum(m.status is FAILED for m in channels[channel])
            if unsent or failed:
                oldest = min((m.created_at for m in unsent), default=None)
                found.append(OutboxBacklog(channel, len(unsent), oldest, failed))
        return found


class InMemoryLeaseRepository:
    def __init__(self) -> None:
        self.leases: dict[str, Lease] = {}

    async def acquire(self, name: str, *, holder: str, now: datetime, ttl: timedelta) -> bool:
        now = utc(now)
        current = self.leases.get(name)
        if current is not None and current.holder != holder and current.expires_at > now:
            return False
        self.leases[name] = Lease(name=name, holder=holder, expires_at=now + ttl)
        return True

    async def release(self, name: str, *, holder: str) -> None:
        current = self.leases.get(name)
        if current is not None and current.holder == holder:
            del self.leases[name]

    async def holders(self, prefix: str, *, now: datetime) -> Sequence[Lease]:
        now = utc(now)
        return [
            lease
            for name, lease in sorted(self.leases.items())
            if name.startswith(prefix) and lease.expires_at > now
        ]


# -- personal data ---------------------------------------------------------------------------


class InMemoryPersonalData:
    """:class:`~surveys.ports.PersonalDataRepository` over the other in-memory repositories."""

    def __init__(
        self,
        *,
        rounds: InMemoryRoundRepository,
        identities: InMemoryIdentityRepository,
        enrolments: InMemoryEnrolmentRepository,
        audit: InMemoryAuditLog,
        events: InMemoryEventInbox,
        messages: InMemoryMessageOutbox,
        screens: InMemoryScreenRepository,
    ) -> None:
        self._rounds = rounds
        self._roster = rounds.roster
        self._identities = identities
        self._enrolments = enrolments
        self._audit = audit
        self._events = events
        self._messages = messages
        self._screens = screens

    async def _linked(self, participant_id: int) -> list[Identity]:
        found = [
            await self._identities.identity(participant_id, channel)
            for channel in sorted(
                {c for (c, _), p in self._roster.identities.items() if p == participant_id}
            )
        ]
        return [identity for identity in found if identity is not None]

    def _theirs(self, participant_id: int) -> list[_StoredResponse]:
        return sorted(
            (
                stored
                for stored in self._rounds.responses.values()
                if stored.response.participant_id == participant_id
            ),
            key=lambda stored: stored.response.round_id,
        )

    def _events_of(
        self, identities: Sequence[Identity], response_ids: set[int]
    ) -> list[_QueuedEvent]:
        accounts = {(i.channel, i.external_id) for i in identities}
        return [
            queued
            for _, queued in sorted(self._events.events.items())
            if (queued.event.channel, queued.event.subject) in accounts
            or queued.event.target.response_id in response_ids
        ]

    def _messages_to(
        self, participant_id: int, identities: Sequence[Identity]
    ) -> list[_QueuedMessage]:
        addresses = {
            (i.channel, address)
            for i in identities
            for address in (i.external_id, i.address)
            if address
        }
        return [
            queued
            for _, queued in sorted(self._messages.messages.items())
            if queued.message.participant_id == participant_id
            or (
                queued.message.screen is not None
                and queued.message.screen.participant_id == participant_id
            )
            or (queued.message.channel, queued.message.address) in addresses
        ]

    def _failures_of(self, identities: Sequence[Identity]) -> list[tuple[str, str, datetime]]:
        accounts = {(i.channel, i.external_id) for i in identities}
        return [f for f in self._enrolments.failures if (f[0], f[1]) in accounts]

    async def about(self, participant_id: int) -> PersonalData:
        participant = await self._roster.get_participant(participant_id)
        identities = await self._linked(participant_id)
        theirs = self._theirs(participant_id)
        response_ids = {stored.response.id for stored in theirs}
        codes = [
            EnrolmentCodeRecord(
                channel=code.channel,
                created_at=code.created_at or code.expires_at,
                expires_at=code.expires_at,
                used_at=code.used_at,
                used_by=code.used_by_external_id,
            )
            for code in self._enrolments.codes.values()
            if code.participant_id == participant_id
        ]
        screens = sorted(
            (s for s in self._screens.screens.values() if s.participant_id == participant_id),
            key=lambda screen: (screen.channel, screen.response_id),
        )
        return PersonalData(
            participant=participant,
            delegation=self._roster.delegations.get(participant.delegation or ""),
            identities=identities,
            enrolment_codes=codes,
            responses=[ResponseData(stored.current(), list(stored.history)) for stored in theirs],
            inbound=[queued.event for queued in self._events_of(identities, response_ids)],
            outbound=[queued.record() for queued in self._messages_to(participant_id, identities)],
            screens=screens,
            audit=[
                replace(entry, details=dict(entry.details))
                for entry in self._audit._entries
                if mentions(entry, participant_id, participant.email)
            ],
            enrolment_failures=sorted(at for _, _, at in self._failures_of(identities)),
        )

    async def erase(self, request: ErasureRequest, *, now: datetime) -> Erasure:
        participant_id, now = request.participant_id, utc(now)
        participant = await self._roster.get_participant(participant_id)
        email = participant.email
        identities = await self._linked(participant_id)
        theirs = self._theirs(participant_id)
        answers = 0
        for stored in theirs:
            questions = request.free_text.get(stored.response.id, frozenset())
            for question_id in questions:
                if stored.answers.get(question_id) is not None:
                    stored.answers[question_id] = None
                    answers += 1
            for index, change in enumerate(stored.history):
                if change.question_id in questions and change.value is not None:
                    stored.history[index] = replace(change, value=None)
                    answers += 1
            stored.invite_at = stored.remind_at = None
        events = self._events_of(identities, {stored.response.id for stored in theirs})
        for queued in events:
            event = queued.event
            if event.processed_at is None:
                event = replace(event, processed_at=now, error=ERASED)
                queued.claimed_by = queued.lease_until = None
            queued.event = replace(event, payload="", subject="")
        messages = self._messages_to(participant_id, identities)
        for sending in messages:
            message = sending.message
            if message.status is not SENT:
                message = replace(
                    message, status=FAILED, error=ERASED, round_id=None, updated_at=now
                )
                sending.claimed_by = sending.lease_until = None
            sending.message = replace(message, body={}, address="", sent_address=None)
        screens = [
            key
            for key, screen in self._screens.screens.items()
            if screen.participant_id == participant_id
        ]
        for key in screens:
            del self._screens.screens[key]
        codes = [
            h for h, code in self._enrolments.codes.items() if code.participant_id == participant_id
        ]
        for code_hash in codes:
            del self._enrolments.codes[code_hash]
        failed = self._failures_of(identities)
        self._enrolments.failures = [f for f in self._enrolments.failures if f not in failed]
        for identity in identities:
            await self._identities.unlink(participant_id, identity.channel)
        audit = 0
        for index, entry in enumerate(self._audit._entries):
            if actor_is(entry.actor, email):
                self._audit._entries[index] = replace(
                    entry, actor=actor_erased(entry.actor, email, participant_id)
                )
                audit += 1
        self._roster.participants[participant_id] = replace(
            self._roster.participants[participant_id],
            name=erased_name(participant_id),
            email=erased_email(participant_id),
            tags=(),
        )
        return Erasure(
            participant_id=participant_id,
            identities=len(identities),
            enrolment_codes=len(codes),
            answers=answers,
            inbound=len(events),
            outbound=len(messages),
            screens=len(screens),
            audit=audit,
        )

    async def purge(self, *, before: datetime) -> Purged:
        before = utc(before)
        old = [
            event_id
            for event_id, queued in self._events.events.items()
            if queued.event.processed_at is not None and queued.event.received_at < before
        ]
        for event_id in old:
            event = self._events.events.pop(event_id).event
            self._events._keys.pop((event.channel, event.key), None)
        emptied = 0
        for queued in self._messages.messages.values():
            message = queued.message
            if message.status is SENT and message.updated_at < before and message.body:
                queued.message = replace(message, body={})
                emptied += 1
        kept = [f for f in self._enrolments.failures if f[2] >= before]
        dropped = len(self._enrolments.failures) - len(kept)
        self._enrolments.failures = kept
        return Purged(before=before, inbound=len(old), outbound=emptied, enrolment_failures=dropped)


class InMemoryStore:
    """The same repositories as :class:`storage.database.Store`, kept in dicts."""

    def __init__(self) -> None:
        self.surveys = InMemorySurveyRepository()
        self.roster = InMemoryRosterRepository()
        self.rounds = InMemoryRoundRepository(self.surveys, self.roster)
        self.audit = InMemoryAuditLog()
        self.identities = InMemoryIdentityRepository(self.rounds)
        self.enrolments = InMemoryEnrolmentRepository(self.roster)
        self.screens = InMemoryScreenRepository()
        self.events = InMemoryEventInbox(self.roster, self.screens)
        self.messages = InMemoryMessageOutbox(self.screens)
        self.responses = InMemoryResponseRepository(self.rounds, self.events, self.messages)
        self.leases = InMemoryLeaseRepository()
        self.personal = InMemoryPersonalData(
            rounds=self.rounds,
            identities=self.identities,
            enrolments=self.enrolments,
            audit=self.audit,
            events=self.events,
            messages=self.messages,
            screens=self.screens,
        )
        self._writer = asyncio.Lock()
        self._joined = False

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[InMemoryStore]:
        """The store itself, as one transaction: one at a time (as a database serialises
        writers), and everything it changed is undone if the block raises."""
        if self._joined:
            yield self
            return
        async with self._writer:
            saved = self._snapshot()
            joined = copy.copy(self)
            joined._joined = True
            try:
                yield joined
            except BaseException:
                self._restore(saved)
                raise

    def _repositories(self) -> tuple[object, ...]:
        return (
            self.surveys,
            self.roster,
            self.rounds,
            self.responses,
            self.audit,
            self.identities,
            self.enrolments,
            self.screens,
            self.events,
            self.messages,
            self.leases,
        )

    def _snapshot(self) -> list[dict[str, object]]:
        repositories = self._repositories()
        # The repositories refer to each other: keep those references, copy their data.
        memo: dict[int, object] = {id(repo): repo for repo in repositories}
        return [copy.deepcopy(vars(repo), memo) for repo in repositories]

    def _restore(self, saved: list[dict[str, object]]) -> None:
        for repo, state in zip(self._repositories(), saved, strict=True):
            vars(repo).clear()
            vars(repo).update(state)

    async def close(self) -> None:
        """Nothing to release; here so code can close any store."""


if TYPE_CHECKING:  # mypy proves the fakes implement the ports

    def _ports(
        store: InMemoryStore,
    ) -> tuple[
        SurveyRepository,
        RosterRepository,
        RoundRepository,
        ResponseRepository,
        AuditLog,
        IdentityRepository,
        EnrolmentRepository,
        EventInbox,
        MessageOutbox,
        ScreenRepository,
        LeaseRepository,
        PersonalDataRepository,
    ]:
        return (
            store.surveys,
            store.roster,
            store.rounds,
            store.responses,
            store.audit,
            store.identities,
            store.enrolments,
            store.events,
            store.messages,
            store.screens,
            store.leases,
            store.personal,
        )


__all__ = [
    "InMemoryAuditLog",
    "InMemoryEnrolmentRepository",
    "InMemoryEventInbox",
    "InMemoryIdentityRepository",
    "InMemoryLeaseRepository",
    "InMemoryMessageOutbox",
    "InMemoryPersonalData",
    "InMemoryResponseRepository",
    "InMemoryRosterRepository",
    "InMemoryRoundRepository",
    "InMemoryScreenRepository",
    "InMemoryStore",
    "InMemorySurveyRepository",
]
