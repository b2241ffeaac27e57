"""SQLAlchemy implementations of the channel-facing ports: identities, enrolment, inbox, outbox.

Like :mod:`storage.repositories`, each public method is one short transaction returning core
records. What must happen once is decided by the database in one statement, never by a read
followed by a write: an inbound event is stored by ``INSERT .. ON CONFLICT DO NOTHING``, an
outbound message is claimed by ``INSERT .. ON CONFLICT DO UPDATE .. WHERE status = 'failed'``,
an enrolment code is used by ``UPDATE .. WHERE used_at IS NULL``; each says by what it returned
whether this caller won.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories import (
    dialect_of,
    link_identity,
    response_record,
    round_record,
)
from storage.scope import SessionScope
from storage.tables import (
    AnswerRow,
    EnrolmentCodeRow,
    EnrolmentFailureRow,
    IdentityRow,
    OutboundMessageRow,
    ParticipantRow,
    ResponseRow,
    RoundRow,
)
from surveys.definition import AnswerValue
from surveys.errors import NotFoundError
from surveys.ports import Clock
from surveys.records import (
    Enrolment,
    EnrolmentOutcome,
    Identity,
    Response,
    Round,
)

CLAIMED, SENT, FAILED = "claimed", "sent", "failed"


def _upsert(
    session: AsyncSession,
    values: Mapping[str, Any],
    set_: Mapping[str, Any],
    *,
    where: Any = None,
) -> Any:
    """``INSERT .. ON CONFLICT (channel, key) DO UPDATE`` into ``outbound_messages``."""
    dialect = dialect_of(session)
    keys = ["channel", "key"]
    if dialect == "postgresql":
        return (
            postgresql.insert(OutboundMessageRow)
            .values(**values)
            .on_conflict_do_update(index_elements=keys, set_=dict(set_), where=where)
        )
    if dialect == "sqlite":
        return (
            sqlite.insert(OutboundMessageRow)
            .values(**values)
            .on_conflict_do_update(index_elements=keys, set_=dict(set_), where=where)
        )
    raise NotImplementedError(dialect)  # pragma: no cover - only SQLite and PostgreSQL


# -- identities ------------------------------------------------------------------------------

_IDENTITY_CHUNK = 500
"""Participant ids per ``IN (...)`` when reading identities in bulk."""


class SqlAlchemyIdentityRepository:
    """Channel identities, their cached addresses, and preferences set from a channel."""

    def __init__(self, scope: SessionScope, *, clock: Clock) -> None:
        self._scope = scope
        self._clock = clock

    async def identity(self, participant_id: int, channel: str) -> Identity | None:
        async with self._scope.reading() as session:
            row = await session.get(IdentityRow, (participant_id, channel))
        if row is None:
            return None
        return Identity(
            participant_id=row.participant_id,
            channel=row.channel,
            external_id=row.external_id,
            address=row.address,
        )

    async def identities(
        self, participant_ids: Sequence[int], channel: str
    ) -> Mapping[int, Identity]:
        wanted = list(dict.fromkeys(participant_ids))
        found: dict[int, Identity] = {}
        async with self._scope.reading() as session:
            for start in range(0, len(wanted), _IDENTITY_CHUNK):
                chunk = wanted[start : start + _IDENTITY_CHUNK]
                rows = await session.execute(
                    select(
                        IdentityRow.participant_id, IdentityRow.external_id, IdentityRow.address
                    ).where(IdentityRow.channel == channel, IdentityRow.participant_id.in_(chunk))
                )
                for participant_id, external_id, address in rows.tuples():
                    found[participant_id] = Identity(
                        participant_id=participant_id,
                        channel=channel,
                        external_id=external_id,
                        address=address,
                    )
        return found

    async def set_address(self, participant_id: int, channel: str, address: str) -> None:
        async with self._scope.writing() as session:
            found = await session.scalar(
                update(IdentityRow)
                .where(IdentityRow.participant_id == participant_id, IdentityRow.channel == channel)
                .values(address=address)
                .returning(IdentityRow.participant_id)
            )
        if found is None:
            raise NotFoundError("identity", (participant_id, channel))

    async def set_language(self, participant_id: int, language: str) -> None:
        await self._set(participant_id, language=language)

    async def set_timezone(self, participant_id: int, timezone: str) -> None:
        await self._set(participant_id, timezone=timezone)

    async def _set(self, participant_id: int, **values: str) -> None:
        async with self._scope.writing() as session:
            found = await session.scalar(
                update(ParticipantRow)
                .where(ParticipantRow.id == participant_id)
                .values(updated_at=self._clock.now(), **values)
                .returning(ParticipantRow.id)
            )
        if found is None:
            raise NotFoundError("participant", participant_id)

    async def unlink(self, participant_id: int, channel: str) -> Identity | None:
        async with self._scope.writing() as session:
            row = await session.get(IdentityRow, (participant_id, channel))
            if row is None:
                return None
            removed = Identity(
                participant_id=row.participant_id,
                channel=row.channel,
                external_id=row.external_id,
                address=row.address,
            )
            await session.delete(row)
        return removed

    async def participations(self, participant_id: int) -> Sequence[tuple[Round, Response]]:
        """Newest round first; two queries whatever the number of rounds."""
        theirs = select(ResponseRow.id).where(ResponseRow.participant_id == participant_id)
        async with self._scope.reading() as session:
            pairs = (
                await session.execute(
                    select(RoundRow, ResponseRow)
                    .join(ResponseRow, ResponseRow.round_id == RoundRow.id)
                    .where(ResponseRow.participant_id == participant_id)
                    .order_by(RoundRow.id.desc())
                )
            ).all()
            answers: dict[int, dict[str, AnswerValue | None]] = defaultdict(dict)
            if pairs:
                found = await session.execute(
                    select(AnswerRow.response_id, AnswerRow.question_id, AnswerRow.value)
                    .where(AnswerRow.response_id.in_(theirs))
                    .order_by(AnswerRow.response_id, AnswerRow.question_id)
                )
                for response_id, question_id, value in found.tuples():
                    answers[response_id][question_id] = value
        return [
            (
                round_record(round_row),
                response_record(response_row, answers.get(response_row.id, {})),
            )
            for round_row, response_row in pairs
        ]


# -- enrolment -------------------------------------------------------------------------------


class SqlAlchemyEnrolmentRepository:
    """One-time enrolment codes, kept as hashes."""

    def __init__(self, scope: SessionScope) -> None:
        self._scope = scope

    async def issue(
        self,
        *,
        participant_id: int,
        channel: str,
        code_hash: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        """Store the code; the participant's earlier unused codes on the channel expire now."""
        try:
            async with self._scope.writing() as session:
                if await session.get(ParticipantRow, participant_id) is None:
                    raise NotFoundError("participant", participant_id)
                await session.execute(
                    update(EnrolmentCodeRow)
                    .where(
                        EnrolmentCodeRow.participant_id == participant_id,
                        EnrolmentCodeRow.channel == channel,
                        EnrolmentCodeRow.used_at.is_(None),
                        EnrolmentCodeRow.expires_at > now,
                    )
                    .values(expires_at=now)
                    .execution_options(synchronize_session=False)
                )
                session.add(
                    EnrolmentCodeRow(
                        participant_id=participant_id,
                        channel=channel,
                        code_hash=code_hash,
                        expires_at=expires_at,
                        created_at=now,
                    )
                )
        except IntegrityError as error:
            # The only unique key besides the id: a code with this hash exists (a bug, or one
            # chance in 2**bits); nothing was changed.
            raise ValueError("an enrolment code with this hash was already issued") from error

    async def redeem(
        self, *, channel: str, code_hash: str, external_id: str, now: datetime
    ) -> Enrolment:
        """Use the code and link the identity in one transaction; only one redeemer wins.

        The conditional UPDATE comes first, so concurrent redeemers queue on the row (and, on
        SQLite, on the write lock) instead of both reading it as unused.
        """
        async with self._scope.writing() as session:
            participant_id = await session.scalar(
                update(EnrolmentCodeRow)
                .where(
                    EnrolmentCodeRow.code_hash == code_hash,
                    EnrolmentCodeRow.channel == channel,
                    EnrolmentCodeRow.used_at.is_(None),
                    EnrolmentCodeRow.expires_at > now,
                )
                .values(used_at=now, used_by_external_id=external_id)
                .returning(EnrolmentCodeRow.participant_id)
                .execution_options(synchronize_session=False)
            )
            if participant_id is not None:
                linked = await session.get(IdentityRow, (participant_id, channel))
                if linked is not None and linked.external_id != external_id:
                    # Give the code back unused: the organiser decides (IdentityRepository.unlink).
                    await session.execute(
                        update(EnrolmentCodeRow)
                        .where(EnrolmentCodeRow.code_hash == code_hash)
                        .values(used_at=None, used_by_external_id=None)
                        .execution_options(synchronize_session=False)
                    )
                    return Enrolment(EnrolmentOutcome.LINKED_ELSEWHERE, participant_id)
                await link_identity(session, participant_id, channel, external_id, now)
                return Enrolment(EnrolmentOutcome.ENROLLED, participant_id)
            row = (
                await session.execute(
                    select(EnrolmentCodeRow.used_at).where(
                        EnrolmentCodeRow.code_hash == code_hash,
                        EnrolmentCodeRow.channel == channel,
                    )
                )
            ).one_or_none()
        if row is None:
            return Enrolment(EnrolmentOutcome.UNKNOWN)
        if row.used_at is not None:
            return Enrolment(EnrolmentOutcome.USED)
        return Enrolment(EnrolmentOutcome.EXPIRED)

    async def record_failure(self, *, channel: str, external_id: str, now: datetime) -> None:
        async with self._scope.writing() as session:
            session.add(EnrolmentFailureRow(channel=channel, external_id=external_id, at=now))

    async def recent_failures(
        self, *, channel: str, external_id: str, since: datetime
    ) -> Sequence[datetime]:
        async with self._scope.reading() as session:
            found = await session.scalars(
                select(EnrolmentFailureRow.at)
                .where(
                    EnrolmentFailureRow.channel == channel,
                    EnrolmentFailureRow.external_id == external_id,
                    EnrolmentFailureRow.at >= since,
                )
                .order_by(EnrolmentFailureRow.at, EnrolmentFailureRow.id)
            )
            return list(found)


__all__ = [
    "SqlAlchemyEnrolmentRepository",
    "SqlAlchemyIdentityRepository",
]
