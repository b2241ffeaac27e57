"""What is stored about one person, their erasure, and the retention purge, over SQLAlchemy.

The rules are the port's (:class:`surveys.ports.PersonalDataRepository`); the in-memory store
(``storage.memory.InMemoryPersonalData``) follows the same ones, and
``tests/storage/test_rights_contract.py`` runs the same cases on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, delete, false, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.queues import _EVENT, _MESSAGE, _SCREEN, QUEUED, _event, _message, _screen
from storage.repositories import (
    SqlAlchemyResponseRepository,
    SqlAlchemyRosterRepository,
)
from storage.scope import SessionScope
from storage.tables import (
    AnswerHistoryRow,
    AnswerRow,
    AuditRow,
    DelegationRow,
    EnrolmentCodeRow,
    EnrolmentFailureRow,
    IdentityRow,
    InboundEventRow,
    LiveScreenRow,
    OutboundMessageRow,
    ParticipantRow,
    ResponseRow,
)
from surveys.errors import NotFoundError
from surveys.ports import Clock
from surveys.queues import OutboundStatus
from surveys.records import AuditEntry, Delegation, Identity
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
    participant_target,
)

SENT = OutboundStatus.SENT.value
FAILED = OutboundStatus.FAILED.value
EMPTY_BODY = "{}"
"""How an emptied outbound body reads as text (JSON ``{}``), on SQLite and PostgreSQL."""


class SqlAlchemyPersonalData:
    """Everything about one participant, in one place: shown, erased, or purged by age."""

    def __init__(self, scope: SessionScope, *, clock: Clock) -> None:
        self._scope = scope
        self._roster = SqlAlchemyRosterRepository(scope, clock=clock)
        self._responses = SqlAlchemyResponseRepository(scope)

    # -- show ------------------------------------------------------------------------------

    async def about(self, participant_id: int) -> PersonalData:
        participant = await self._roster.get_participant(participant_id)
        async with self._scope.reading() as session:
            identities = await _identities(session, participant_id)
            delegation = None
            if participant.delegation:
                row = await session.get(DelegationRow, participant.delegation)
                if row is not None:
                    delegation = Delegation(row.code, row.name, row.region)
            codes = [
                EnrolmentCodeRecord(
                    channel=row.channel,
                    created_at=row.created_at,
                    expires_at=row.expires_at,
                    used_at=row.used_at,
                    used_by=row.used_by_external_id,
                )
                for row in await session.scalars(
                    select(EnrolmentCodeRow)
                    .where(EnrolmentCodeRow.participant_id == participant_id)
                    .order_by(EnrolmentCodeRow.id)
                )
            ]
            theirs = (
                await session.execute(
                    select(ResponseRow.id, ResponseRow.round_id).where(
                        ResponseRow.participant_id == participant_id
                    )
                )
            ).all()
            response_ids = [row.id for row in theirs]
            inbound = [
                _event(row)
                for row in await session.execute(
                    select(*_EVENT)
                    .where(_events_of(identities, response_ids))
                    .order_by(InboundEventRow.id)
                )
            ]
            outbound = [
                _message(row)
                for row in await session.execute(
                    select(*_MESSAGE)
                    .where(QUEUED, _messages_to(participant_id, identities))
                    .order_by(OutboundMessageRow.id)
                )
            ]
            screens = [
                _screen(row)
                for row in await session.execute(
                    select(*_SCREEN)
                    .where(LiveScreenRow.participant_id == participant_id)
                    .order_by(LiveScreenRow.channel, LiveScreenRow.response_id)
                )
            ]
            audit = [
                entry
                for entry in await _audit_candidates(session, participant_id, participant.email)
                if mentions(entry, participant_id, participant.email)
            ]
            failures = list(
                await session.scalars(
                    select(EnrolmentFailureRow.at)
                    .where(_failures_of(identities))
                    .order_by(EnrolmentFailureRow.at, EnrolmentFailureRow.id)
                )
            )
        responses = []
        for round_id in sorted(row.round_id for row in theirs):
            response = await self._responses.get_response(round_id, participant_id)
            responses.append(ResponseData(response, await self._responses.history(response.id)))
        return PersonalData(
            participant=participant,
            delegation=delegation,
            identities=identities,
            enrolment_codes=codes,
            responses=responses,
            inbound=inbound,
            outbound=outbound,
            screens=screens,
            audit=audit,
            enrolment_failures=failures,
        )

    # -- erase -----------------------------------------------------------------------------

    async def erase(self, request: ErasureRequest, *, now: datetime) -> Erasure:
        participant_id = request.participant_id
        async with self._scope.writing() as session:
            person = await session.get(ParticipantRow, participant_id)
            if person is None:
                raise NotFoundError("participant", participant_id)
            email = person.email
            identities = await _identities(session, participant_id)
            response_ids = list(
                await session.scalars(
                    select(ResponseRow.id).where(ResponseRow.participant_id == participant_id)
                )
            )
            answers = 0
            for response_id, questions in request.free_text.items():
                if response_id not in response_ids or not questions:
                    continue
                for table in (AnswerRow, AnswerHistoryRow):
                    answers += _count(
                        await session.execute(
                            update(table)
                            .where(
                                table.response_id == response_id,
                                table.question_id.in_(sorted(questions)),
                                table.value.is_not(None),
                            )
                            .values(value=None)
                            .execution_options(synchronize_session=False)
                        )
                    )
            events = _events_of(identities, response_ids)
            await session.execute(
                update(InboundEventRow)
                .where(events, InboundEventRow.processed_at.is_(None))
                .values(processed_at=now, error=ERASED, claimed_by=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            inbound = _count(
                await session.execute(
                    update(InboundEventRow)
                    .where(events)
                    .values(payload="", subject="")
                    .execution_options(synchronize_session=False)
                )
            )
            messages = _messages_to(participant_id, identities)
            await session.execute(
                update(OutboundMessageRow)
                .where(messages, OutboundMessageRow.status != SENT)
                .values(
                    status=FAILED,
                    error=ERASED,
                    round_id=None,
                    claimed_by=None,
                    lease_until=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            outbound = _count(
                await session.execute(
                    update(OutboundMessageRow)
                    .where(messages)
                    .values(body={}, address="", sent_address=None)
                    .execution_options(synchronize_session=False)
                )
            )
            screens = _count(
                await session.execute(
                    delete(LiveScreenRow).where(LiveScreenRow.participant_id == participant_id)
                )
            )
            codes = _count(
                await session.execute(
                    delete(EnrolmentCodeRow).where(
                        EnrolmentCodeRow.participant_id == participant_id
                    )
                )
            )
            if identities:
                await session.execute(delete(EnrolmentFailureRow).where(_failures_of(identities)))
            linked = _count(
                await session.execute(
                    delete(IdentityRow).where(IdentityRow.participant_id == participant_id)
                )
            )
            audit = 0
            for row in await session.scalars(
                select(AuditRow).where(_actor_named(email)).order_by(AuditRow.id)
            ):
                if actor_is(row.actor, email):
                    row.actor = actor_erased(row.actor, email, participant_id)
                    audit += 1
            await session.execute(
                update(ResponseRow)
                .where(ResponseRow.participant_id == participant_id)
                .values(invite_at=None, remind_at=None)
                .execution_options(synchronize_session=False)
            )
            person.name = erased_name(participant_id)
            person.email = erased_email(participant_id)
            person.tags = []
            person.updated_at = now
        return Erasure(
            participant_id=participant_id,
            identities=linked,
            enrolment_codes=codes,
            answers=answers,
            inbound=inbound,
            outbound=outbound,
            screens=screens,
            audit=audit,
        )

    # -- purge -----------------------------------------------------------------------------

    async def purge(self, *, before: datetime) -> Purged:
        async with self._scope.writing() as session:
            inbound = _count(
                await session.execute(
                    delete(InboundEventRow).where(
                        InboundEventRow.processed_at.is_not(None),
                        InboundEventRow.received_at < before,
                    )
                )
            )
            outbound = _count(
                await session.execute(
                    update(OutboundMessageRow)
                    .where(
                        QUEUED,
                        OutboundMessageRow.status == SENT,
                        OutboundMessageRow.updated_at < before,
                        cast(OutboundMessageRow.body, Text) != EMPTY_BODY,
                    )
                    .values(body={})
                    .execution_options(synchronize_session=False)
                )
            )
            failures = _count(
                await session.execute(
                    delete(EnrolmentFailureRow).where(EnrolmentFailureRow.at < before)
                )
            )
        return Purged(
            before=before, inbound=inbound, outbound=outbound, enrolment_failures=failures
        )


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


async def _identities(session: AsyncSession, participant_id: int) -> list[Identity]:
    rows = await session.scalars(
        select(IdentityRow)
        .where(IdentityRow.participant_id == participant_id)
        .order_by(IdentityRow.channel)
    )
    return [
        Identity(
            participant_id=row.participant_id,
            channel=row.channel,
            external_id=row.external_id,
            address=row.address,
        )
        for row in rows
    ]


def _events_of(identities: Sequence[Identity], response_ids: Sequence[int]) -> ColumnElement[bool]:
    """Events from the participant's channel accounts, or acting on their responses."""
    conditions: list[ColumnElement[bool]] = []
    if identities:
        conditions.append(
            tuple_(InboundEventRow.channel, InboundEventRow.subject).in_(
                [(i.channel, i.external_id) for i in identities]
            )
        )
    if response_ids:
        conditions.append(InboundEventRow.response_id.in_(response_ids))
    return or_(*conditions) if conditions else false()


def _messages_to(participant_id: int, identities: Sequence[Identity]) -> ColumnElement[bool]:
    """Messages for the participant, showing their screens, or to their accounts' addresses."""
    addresses = [
        (i.channel, address)
        for i in identities
        for address in {i.external_id, i.address}
        if address
    ]
    conditions: list[ColumnElement[bool]] = [
        OutboundMessageRow.participant_id == participant_id,
        OutboundMessageRow.screen_participant_id == participant_id,
    ]
    if addresses:
        conditions.append(
            tuple_(OutboundMessageRow.channel, OutboundMessageRow.address).in_(addresses)
        )
    return or_(*conditions)


def _failures_of(identities: Sequence[Identity]) -> ColumnElement[bool]:
    if not identities:
        return false()
    return or_(
        *(
            and_(
                EnrolmentFailureRow.channel == i.channel,
                EnrolmentFailureRow.external_id == i.external_id,
            )
            for i in identities
        )
    )


def _actor_named(email: str) -> ColumnElement[bool]:
    return or_(
        AuditRow.actor == email,
        AuditRow.actor.startswith(f"{email} (", autoescape=True),
    )


async def _audit_candidates(
    session: AsyncSession, participant_id: int, email: str
) -> list[AuditEntry]:
    """Entries that may name the participant (``mentions`` decides): the actor, the target,
    or their id anywhere in the details' text."""
    rows = await session.scalars(
        select(AuditRow)
        .where(
            or_(
                _actor_named(email),
                AuditRow.target == participant_target(participant_id),
                cast(AuditRow.details, Text).contains(str(participant_id)),
            )
        )
        .order_by(AuditRow.id)
    )
    return [
        AuditEntry(
            at=row.at, actor=row.actor, action=row.action, target=row.target, details=row.details
        )
        for row in rows
    ]


__all__ = ["SqlAlchemyPersonalData"]
