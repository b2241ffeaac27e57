"""An in-memory store: the five repositories of :mod:`surveys.ports` over plain dicts.

It behaves like the SQL store (the contract tests in ``tests/storage/test_contract.py`` run the
same cases on both), keeps nothing after the process ends, and needs only the standard library
and :mod:`surveys`. Uses: ``itinera survey preview``, demos, and fast tests of the layers above.

Example::

    store = InMemoryStore()
    version = await store.surveys.save_version(survey, now=clock.now())
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from storage.rules import (
    final_changes,
    in_audience,
    normalise_email,
    participant_order,
    roster_problems,
    slack_taken,
    unknown_delegation,
    utc,
)
from surveys.definition import AnswerValue, Survey
from surveys.errors import NotFoundError, RosterError
from surveys.ports import (
    AuditLog,
    ResponseRepository,
    RosterRepository,
    RoundRepository,
    SurveyRepository,
)
from surveys.records import (
    AnswerChange,
    Audience,
    AuditEntry,
    Channel,
    Delegation,
    ExportRow,
    Participant,
    ParticipantData,
    Response,
    ResponseState,
    ResponseStatus,
    RosterImportResult,
    Round,
    StatusLine,
    SurveyVersion,
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
        holder = self.identities.get((channel, external_id))
        if holder is not None and holder != participant_id:
            self.participants[holder] = _with_identity(self.participants[holder], channel, None)
        old = _identity(participant, channel)
        if old is not None:
            self.identities.pop((channel, old), None)
        self.identities[(channel, external_id)] = participant_id
        self.participants[participant_id] = _with_identity(participant, channel, external_id)

    async def list_delegations(self) -> Sequence[Delegation]:
        return [self.delegations[code] for code in sorted(self.delegations)]

    async def list_participants(self) -> Sequence[Participant]:
        return sorted(self.participants.values(), key=participant_order)

    async def audience_members(self, audience: Audience) -> Sequence[Participant]:
        members = [
            p for p in self.participants.values() if in_audience(p, audience, self.delegations)
        ]
        return sorted(members, key=participant_order)


def _identity(participant: Participant, channel: str) -> str | None:
    if channel == Channel.SLACK.value:
        return participant.slack_user_id
    if channel == Channel.TELEGRAM.value:
        return participant.telegram_user_id
    return None


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
    ) -> Round:
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
        )
        self.rounds[round_.id] = round_
        for participant_id in ids:
            response = Response(
                id=next(self._response_ids),
                round_id=round_.id,
                participant_id=participant_id,
                status=ResponseStatus.NOT_STARTED,
                state=ResponseState(),
                updated_at=utc(now),
            )
            self.responses[response.id] = _StoredResponse(response)
        return round_

    async def get_round(self, round_id: int) -> Round:
        try:
            return self.rounds[round_id]
        except KeyError:
            raise NotFoundError("round", round_id) from None

    async def list_rounds(self) -> Sequence[Round]:
        return [self.rounds[key] for key in sorted(self.rounds)]

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
            for participant, stored in self.of_round(round_id)
        ]

    async def counts(self, round_id: int) -> dict[ResponseStatus, int]:
        counts = dict.fromkeys(ResponseStatus, 0)
        for _, stored in self.of_round(round_id):
            counts[stored.response.status] += 1
        return counts


class InMemoryResponseRepository:
    def __init__(self, rounds: InMemoryRoundRepository) -> None:
        self._rounds = rounds

    def _stored(self, response_id: int) -> _StoredResponse:
        try:
            return self._rounds.responses[response_id]
        except KeyError:
            raise NotFoundError("response", response_id) from None

    async def get_response(self, round_id: int, participant_id: int) -> Response:
        for stored in self._rounds.responses.values():
            response = stored.response
            if response.round_id == round_id and response.participant_id == participant_id:
                return stored.current()
        raise NotFoundError("response", (round_id, participant_id))

    async def save_state(
        self,
        response_id: int,
        *,
        state: ResponseState,
        changes: Sequence[AnswerChange],
        status: ResponseStatus,
        now: datetime,
    ) -> Response:
        stored = self._stored(response_id)
        now = utc(now)
        old = stored.response
        started_at = old.started_at
        if started_at is None and (state.started or status is not ResponseStatus.NOT_STARTED):
            started_at = now
        submitted_at = old.submitted_at
        if status is ResponseStatus.SUBMITTED and (
            old.status is not ResponseStatus.SUBMITTED or submitted_at is None
        ):
            submitted_at = now
        history = [replace(c, value=_copy(c.value), at=utc(c.at)) for c in changes]
        for question_id, change in final_changes(history).items():
            if change.reason == "cleared":
                stored.answers.pop(question_id, None)
            else:
                stored.answers[question_id] = _copy(change.value)
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
        )
        return stored.current()

    async def history(self, response_id: int) -> Sequence[AnswerChange]:
        return list(self._stored(response_id).history)

    async def export_rows(self, round_id: int) -> AsyncIterator[ExportRow]:
        for participant, stored in self._rounds.of_round(round_id):
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

    async def entries(self, *, limit: int = 100) -> Sequence[AuditEntry]:
        return [replace(e, details=dict(e.details)) for e in reversed(self._entries[-limit:])]


class InMemoryStore:
    """The same five repositories as :class:`storage.database.Store`, kept in dicts."""

    def __init__(self) -> None:
        self.surveys = InMemorySurveyRepository()
        self.roster = InMemoryRosterRepository()
        self.rounds = InMemoryRoundRepository(self.surveys, self.roster)
        self.responses = InMemoryResponseRepository(self.rounds)
        self.audit = InMemoryAuditLog()

    async def close(self) -> None:
        """Nothing to release; here so code can close any store."""


if TYPE_CHECKING:  # mypy proves the fakes implement the ports

    def _ports(
        store: InMemoryStore,
    ) -> tuple[SurveyRepository, RosterRepository, RoundRepository, ResponseRepository, AuditLog]:
        return store.surveys, store.roster, store.rounds, store.responses, store.audit


__all__ = [
    "InMemoryAuditLog",
    "InMemoryResponseRepository",
    "InMemoryRosterRepository",
    "InMemoryRoundRepository",
    "InMemoryStore",
    "InMemorySurveyRepository",
]
