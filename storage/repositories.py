"""SQLAlchemy implementations of the repositories in :mod:`surveys.ports`.

Each public method is one short transaction and returns core records (:mod:`surveys.records`),
never ORM rows. Queries that feed lists (status, export) are single joined statements ordered
by delegation code, then name, then id; names compare by code point on every backend (``COLLATE
"C"`` on PostgreSQL, SQLite's binary collation, Python's ``str`` order in the in-memory store),
so that all stores list people in the same order.
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from storage.scope import SessionScope, remembered
from storage.tables import (
    AnswerHistoryRow,
    AnswerRow,
    AuditRow,
    BallotAnswerRow,
    BallotRow,
    Base,
    DelegationRow,
    IdentityRow,
    InboundEventRow,
    OutboundMessageRow,
    ParticipantRow,
    ResponseRow,
    RoundRow,
    SurveyVersionRow,
    UTCDateTime,
)
from storage.upserts import upsert
from surveys.definition import AnswerValue, Survey
from surveys.errors import ConflictError, NotFoundError, RosterError
from surveys.lifecycle import closed_by_time, closed_round, extension_problem
from surveys.lifecycle import reminder_policy as normalised_policy
from surveys.membership import normalise_email, roster_problems, slack_taken, unknown_delegation
from surveys.ports import Clock
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
    ExportRow,
    Invited,
    Participant,
    ParticipantData,
    Response,
    ResponseMode,
    ResponseState,
    ResponseStatus,
    Role,
    RosterImportResult,
    Round,
    Sharer,
    StatusLine,
    SurveyVersion,
    answers_after,
    final_changes,
    new_ballot_id,
    response_holders,
    round_target,
    utc,
)
from surveys.reminders import WAITING

EXPORT_CHUNK = 500
"""Responses per chunk when exporting: one answers query per chunk."""

_IN_CHUNK = 500
"""Most values in one ``IN (...)`` list."""


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _sortable(column: InstrumentedAttribute[Any], dialect: str) -> ColumnElement[Any]:
    """Code-point order on every backend, whatever the database's default collation."""
    return column.collate("C") if dialect == "postgresql" else column.expression


def _participant_order(dialect: str) -> tuple[ColumnElement[Any], ...]:
    return (
        _sortable(ParticipantRow.delegation_code, dialect).nulls_last(),
        _sortable(ParticipantRow.name, dialect),
        ParticipantRow.id.expression,
    )


# -- participants as one flat row ------------------------------------------------------------

_slack = aliased(IdentityRow, name="slack_identity")
_telegram = aliased(IdentityRow, name="telegram_identity")

_PARTICIPANT_COLUMNS = (
    ParticipantRow.id.label("p_id"),
    ParticipantRow.name.label("p_name"),
    ParticipantRow.email.label("p_email"),
    ParticipantRow.role.label("p_role"),
    ParticipantRow.delegation_code.label("p_delegation"),
    ParticipantRow.language.label("p_language"),
    ParticipantRow.timezone.label("p_timezone"),
    ParticipantRow.tags.label("p_tags"),
    ParticipantRow.regions.label("p_regions"),
    _slack.external_id.label("p_slack"),
    _telegram.external_id.label("p_telegram"),
)
_DELEGATION_COLUMNS = (
    DelegationRow.code.label("d_code"),
    DelegationRow.name.label("d_name"),
    DelegationRow.region.label("d_region"),
)


def _with_identities(stmt: Select[Any]) -> Select[Any]:
    """Outer-join the Slack and Telegram identities of ``ParticipantRow`` already in ``stmt``."""
    return stmt.outerjoin(
        _slack,
        and_(_slack.participant_id == ParticipantRow.id, _slack.channel == Channel.SLACK.value),
    ).outerjoin(
        _telegram,
        and_(
            _telegram.participant_id == ParticipantRow.id,
            _telegram.channel == Channel.TELEGRAM.value,
        ),
    )


def _participants_select(*extra: Any) -> Select[Any]:
    return _with_identities(select(*_PARTICIPANT_COLUMNS, *extra).select_from(ParticipantRow))


_BY_IDENTITY = _participants_select().where(
    ParticipantRow.id.in_(
        select(IdentityRow.participant_id).where(
            IdentityRow.channel == bindparam("channel", type_=String()),
            IdentityRow.external_id == bindparam("external_id", type_=String()),
        )
    )
)
"""The participant behind one channel identity, built once: it is looked up on every event."""


def _participant(row: Any) -> Participant:
    return Participant(
        id=row.p_id,
        name=row.p_name,
        email=row.p_email,
        role=Role(row.p_role),
        delegation=row.p_delegation,
        language=row.p_language,
        timezone=row.p_timezone,
        tags=tuple(row.p_tags or ()),
        regions=tuple(row.p_regions or ()),
        slack_user_id=row.p_slack,
        telegram_user_id=row.p_telegram,
    )


def _delegation(row: Any) -> Delegation | None:
    if row.d_code is None:
        return None
    return Delegation(code=row.d_code, name=row.d_name, region=row.d_region)


def _delegation_of(row: DelegationRow) -> Delegation:
    return Delegation(code=row.code, name=row.name, region=row.region)


# -- surveys ---------------------------------------------------------------------------------


class SurveyCache:
    """Parsed survey versions by id: versions never change once stored, so every repository
    over the same database may share what one of them has read."""

    def __init__(self) -> None:
        self.definitions: dict[int, Survey] = {}
        self.versions: dict[int, SurveyVersion] = {}


class SqlAlchemySurveyRepository:
    """Survey versions, immutable once stored; parsed definitions are cached by version id."""

    def __init__(self, scope: SessionScope, *, cache: SurveyCache | None = None) -> None:
        self._scope = scope
        cache = cache or SurveyCache()
        self._definitions = cache.definitions
        self._versions = cache.versions

    async def save_version(self, survey: Survey, *, now: datetime) -> SurveyVersion:
        text = survey.canonical_json()
        digest = survey.content_hash()
        found = await self._find(survey.id, digest)
        if found is not None:
            return found
        async with self._scope.writing() as session:
            # Another process may store the same definition between our look-up and this
            # insert: then nothing is inserted and the stored one is returned.
            inserted = await session.scalar(
                insert_ignoring(
                    dialect_of(session), SurveyVersionRow, ["survey_id", "content_hash"]
                )
                .values(
                    survey_id=survey.id,
                    version=survey.version,
                    content_hash=digest,
                    definition=text,
                    created_at=now,
                )
                .returning(SurveyVersionRow.id)
            )
        if inserted is None:
            found = await self._find(survey.id, digest)
            if found is None:  # pragma: no cover - the conflicting row cannot vanish
                raise NotFoundError("survey version", (survey.id, digest))
            return found
        self._definitions[inserted] = survey
        return SurveyVersion(
            id=inserted,
            survey_id=survey.id,
            version=survey.version,
            content_hash=digest,
            definition=survey,
            created_at=now,
        )

    async def _find(self, survey_id: str, digest: str) -> SurveyVersion | None:
        async with self._scope.reading() as session:
            row = await session.scalar(
                select(SurveyVersionRow).where(
                    SurveyVersionRow.survey_id == survey_id,
                    SurveyVersionRow.content_hash == digest,
                )
            )
        return None if row is None else self._version(row, created=False)

    async def latest_version(self, survey_id: str) -> SurveyVersion:
        async with self._scope.reading() as session:
            row = await session.scalar(
                select(SurveyVersionRow)
                .where(SurveyVersionRow.survey_id == survey_id)
                .order_by(SurveyVersionRow.id.desc())
                .limit(1)
            )
        if row is None:
            raise NotFoundError("survey", survey_id)
        return self._version(row)

    async def get_version(self, version_id: int) -> SurveyVersion:
        """A stored version; versions never change, so after the first read it costs no query."""
        cached = self._versions.get(version_id)
        if cached is not None:
            return cached
        async with self._scope.reading() as session:
            row = await session.get(SurveyVersionRow, version_id)
        if row is None:
            raise NotFoundError("survey version", version_id)
        version = self._version(row)
        self._versions[version_id] = version
        return version

    async def list_versions(self, survey_id: str | None = None) -> Sequence[SurveyVersion]:
        stmt = select(SurveyVersionRow).order_by(SurveyVersionRow.id)
        if survey_id is not None:
            stmt = stmt.where(SurveyVersionRow.survey_id == survey_id)
        async with self._scope.reading() as session:
            rows = (await session.scalars(stmt)).all()
        return [self._version(row) for row in rows]

    def _version(self, row: SurveyVersionRow, *, created: bool = True) -> SurveyVersion:
        definition = self._definitions.get(row.id)
        if definition is None:
            definition = Survey.model_validate_json(row.definition)
            self._definitions[row.id] = definition
        return SurveyVersion(
            id=row.id,
            survey_id=row.survey_id,
            version=row.version,
            content_hash=row.content_hash,
            definition=definition,
            created_at=row.created_at,
            created=created,
        )


# -- roster ----------------------------------------------------------------------------------


class SqlAlchemyRosterRepository:
    """Delegations, participants and their channel identities."""

    def __init__(self, scope: SessionScope, *, clock: Clock) -> None:
        self._scope = scope
        self._clock = clock

    async def import_roster(
        self, delegations: Sequence[Delegation], participants: Sequence[ParticipantData]
    ) -> RosterImportResult:
        problems = roster_problems(delegations, participants)
        if problems:
            raise RosterError(problems)
        now = self._clock.now()
        async with self._scope.writing() as session:
            d_created, d_updated = await self._upsert_delegations(session, delegations, now)
            await self._check_delegations_exist(session, delegations, participants)
            counts = await self._upsert_participants(session, participants, now)
        return RosterImportResult(d_created, d_updated, *counts)

    async def _upsert_delegations(
        self, session: AsyncSession, delegations: Sequence[Delegation], now: datetime
    ) -> tuple[int, int]:
        codes = [delegation.code for delegation in delegations]
        existing: dict[str, DelegationRow] = {}
        for chunk in _chunks(codes):
            rows = await session.scalars(select(DelegationRow).where(DelegationRow.code.in_(chunk)))
            existing.update((row.code, row) for row in rows)
        created = updated = 0
        for delegation in delegations:
            row = existing.get(delegation.code)
            if row is None:
                session.add(
                    DelegationRow(
                        code=delegation.code,
                        name=delegation.name,
                        region=delegation.region,
                        created_at=now,
                        updated_at=now,
                    )
                )
                created += 1
            elif (row.name, row.region) != (delegation.name, delegation.region):
                row.name, row.region, row.updated_at = delegation.name, delegation.region, now
                updated += 1
        await session.flush()
        return created, updated

    async def _check_delegations_exist(
        self,
        session: AsyncSession,
        delegations: Sequence[Delegation],
        participants: Sequence[ParticipantData],
    ) -> None:
        given = {delegation.code for delegation in delegations}
        wanted = sorted({p.delegation for p in participants if p.delegation} - given)
        known: set[str] = set()
        for chunk in _chunks(wanted):
            known.update(
                await session.scalars(
                    select(DelegationRow.code).where(DelegationRow.code.in_(chunk))
                )
            )
        missing = [
            unknown_delegation(p.email, p.delegation)
            for p in participants
            if p.delegation and p.delegation not in given and p.delegation not in known
        ]
        if missing:
            raise RosterError(missing)

    async def _upsert_participants(
        self, session: AsyncSession, participants: Sequence[ParticipantData], now: datetime
    ) -> tuple[int, int, int]:
        emails = [normalise_email(p.email) for p in participants]
        existing: dict[str, ParticipantRow] = {}
        slack_of: dict[int, str] = {}
        for chunk in _chunks(emails):
            rows = await session.scalars(
                select(ParticipantRow).where(ParticipantRow.email.in_(chunk))
            )
            existing.update((row.email, row) for row in rows)
        ids = [row.id for row in existing.values()]
        for chunk in _chunks(ids):
            identities = await session.execute(
                select(IdentityRow.participant_id, IdentityRow.external_id).where(
                    IdentityRow.channel == Channel.SLACK.value,
                    IdentityRow.participant_id.in_(chunk),
                )
            )
            slack_of.update((pid, external) for pid, external in identities.tuples())

        created = updated = unchanged = 0
        pairs: list[tuple[ParticipantRow, ParticipantData]] = []
        for person, email in zip(participants, emails, strict=True):
            fields = {
                "name": person.name,
                "role": person.role.value,
                "delegation_code": person.delegation,
                "language": person.language,
                "timezone": person.timezone,
                "tags": list(person.tags),
                "regions": list(person.regions),
            }
            row = existing.get(email)
            if row is None:
                row = ParticipantRow(email=email, created_at=now, updated_at=now, **fields)
                session.add(row)
                created += 1
            else:
                slack_changed = bool(person.slack_user_id) and (
                    slack_of.get(row.id) != person.slack_user_id
                )
                if slack_changed or any(getattr(row, k) != v for k, v in fields.items()):
                    for key, value in fields.items():
                        setattr(row, key, value)
                    row.updated_at = now
                    updated += 1
                else:
                    unchanged += 1
            pairs.append((row, person))
        await session.flush()

        # Slack identities: a roster row without one keeps whatever was linked before.
        moving = {
            row.id: person.slack_user_id
            for row, person in pairs
            if person.slack_user_id and slack_of.get(row.id) != person.slack_user_id
        }
        if moving:
            await self._move_slack_identities(session, moving, now)
        return created, updated, unchanged

    async def _move_slack_identities(
        self, session: AsyncSession, moving: dict[int, str], now: datetime
    ) -> None:
        slack = Channel.SLACK.value
        wanted = list(moving.values())
        holders: dict[str, int] = {}
        for chunk in _chunks(wanted):
            held = await session.execute(
                select(IdentityRow.external_id, IdentityRow.participant_id).where(
                    IdentityRow.channel == slack, IdentityRow.external_id.in_(chunk)
                )
            )
            holders.update(held.tuples().all())
        # A holder that is itself moving to another id frees its old one in this transaction.
        conflicts = [(ext, holder) for ext, holder in holders.items() if holder not in moving]
        if conflicts:
            emails = dict(
                (
                    await session.execute(
                        select(ParticipantRow.id, ParticipantRow.email).where(
                            ParticipantRow.id.in_([holder for _, holder in conflicts])
                        )
                    )
                )
                .tuples()
                .all()
            )
            raise RosterError([slack_taken(ext, emails[holder]) for ext, holder in conflicts])
        ids = list(moving)
        for chunk in _chunks(ids):
            await session.execute(
                delete(IdentityRow).where(
                    IdentityRow.channel == slack, IdentityRow.participant_id.in_(chunk)
                )
            )
        await session.execute(
            insert(IdentityRow),
            [
                {"participant_id": pid, "channel": slack, "external_id": ext, "created_at": now}
                for pid, ext in moving.items()
            ],
        )

    async def get_participant(self, participant_id: int) -> Participant:
        async with self._scope.reading() as session:
            row = (
                await session.execute(
                    _participants_select().where(ParticipantRow.id == participant_id)
                )
            ).one_or_none()
        if row is None:
            raise NotFoundError("participant", participant_id)
        return _participant(row)

    async def find_by_identity(self, channel: str, external_id: str) -> Participant | None:
        async with self._scope.reading() as session:
            row = (
                await session.execute(
                    _BY_IDENTITY, {"channel": channel, "external_id": external_id}
                )
            ).one_or_none()
        return None if row is None else _participant(row)

    async def link_identity(self, participant_id: int, channel: str, external_id: str) -> None:
        """Link, replacing this participant's previous id on the channel; the latest link wins
        if another participant had ``external_id`` (they are unlinked from it)."""
        async with self._scope.writing() as session:
            if await session.get(ParticipantRow, participant_id) is None:
                raise NotFoundError("participant", participant_id)
            await link_identity(session, participant_id, channel, external_id, self._clock.now())

    async def list_delegations(self) -> Sequence[Delegation]:
        async with self._scope.reading() as session:
            rows = await session.scalars(select(DelegationRow).order_by(DelegationRow.code))
            return [_delegation_of(row) for row in rows]

    async def list_participants(self) -> Sequence[Participant]:
        async with self._scope.reading() as session:
            stmt = _participants_select().order_by(*_participant_order(dialect_of(session)))
            return [_participant(row) for row in await session.execute(stmt)]

    async def audience_members(self, audience: Audience) -> Sequence[Participant]:
        async with self._scope.reading() as session:
            dialect = dialect_of(session)
            stmt = _participants_select().where(ParticipantRow.role == Role.DELEGATE.value)
            match audience.kind:
                case "all":
                    pass
                case "region":
                    regions = [value.lower() for value in audience.values]
                    stmt = stmt.where(
                        ParticipantRow.delegation_code.in_(
                            select(DelegationRow.code).where(
                                func.lower(DelegationRow.region).in_(regions)
                            )
                        )
                    )
                case "tag":
                    stmt = stmt.where(
                        _has_tag(dialect, [value.lower() for value in audience.values])
                    )
                case "delegations":
                    codes = [value.upper() for value in audience.values]
                    stmt = stmt.where(func.upper(ParticipantRow.delegation_code).in_(codes))
                case _:
                    raise ValueError(f"unknown audience kind {audience.kind!r}")
            stmt = stmt.order_by(*_participant_order(dialect))
            return [_participant(row) for row in await session.execute(stmt)]


async def link_identity(
    session: AsyncSession, participant_id: int, channel: str, external_id: str, now: datetime
) -> None:
    """Make ``external_id`` on ``channel`` this participant's, inside the caller's transaction.

    The participant's previous id on the channel and another holder of ``external_id`` are
    unlinked; linking the id the participant already has changes nothing (its address stays).
    """
    await session.execute(
        delete(IdentityRow).where(
            IdentityRow.channel == channel,
            or_(
                and_(
                    IdentityRow.participant_id == participant_id,
                    IdentityRow.external_id != external_id,
                ),
                and_(
                    IdentityRow.external_id == external_id,
                    IdentityRow.participant_id != participant_id,
                ),
            ),
        )
    )
    await session.execute(
        insert_ignoring(dialect_of(session), IdentityRow, ["participant_id", "channel"]).values(
            participant_id=participant_id, channel=channel, external_id=external_id, created_at=now
        )
    )


def insert_ignoring(dialect: str, table: type[Base], keys: list[str]) -> Any:
    """``INSERT .. ON CONFLICT (keys) DO NOTHING`` in the bind's dialect."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    raise NotImplementedError(dialect)  # pragma: no cover - only SQLite and PostgreSQL


def _has_tag(dialect: str, tags: list[str]) -> ColumnElement[bool]:
    """Whether the participant's JSON ``tags`` list holds one of ``tags`` (lower-cased)."""
    if dialect == "postgresql":
        elements = func.json_array_elements_text(ParticipantRow.tags).table_valued("value")
    elif dialect == "sqlite":
        elements = func.json_each(ParticipantRow.tags).table_valued("value")
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(dialect)
    return exists().select_from(elements).where(func.lower(elements.c.value).in_(tags))


# -- rounds ----------------------------------------------------------------------------------


def round_record(row: Any) -> Round:
    """A round from its row (an ORM ``RoundRow`` or a Core row of the table)."""
    return Round(
        id=row.id,
        survey_id=row.survey_id,
        survey_version_id=row.survey_version_id,
        audience=Audience.parse(row.audience),
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        created_at=row.created_at,
        closed_at=row.closed_at,
        reminder_policy=tuple(row.reminder_policy),
        attribution=Attribution(row.attribution),
        responses=ResponseMode(row.response_mode),
    )


class SqlAlchemyRoundRepository:
    """Rounds and the responses they expect."""

    def __init__(self, scope: SessionScope) -> None:
        self._scope = scope

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
        ids = list(dict.fromkeys(participant_ids))
        policy = list(normalised_policy(reminder_policy))
        attribution = Attribution(attribution)
        responses = ResponseMode(responses)
        async with self._scope.writing() as session:
            version = await session.get(SurveyVersionRow, survey_version_id)
            if version is None:
                raise NotFoundError("survey version", survey_version_id)
            known: dict[int, str | None] = {}
            for chunk in _chunks(ids):
                known.update(
                    (
                        await session.execute(
                            select(ParticipantRow.id, ParticipantRow.delegation_code).where(
                                ParticipantRow.id.in_(chunk)
                            )
                        )
                    )
                    .tuples()
                    .all()
                )
            missing = [pid for pid in ids if pid not in known]
            if missing:
                raise NotFoundError("participant", missing[0])
            row = RoundRow(
                survey_version_id=survey_version_id,
                survey_id=version.survey_id,
                audience=str(audience),
                opens_at=opens_at,
                closes_at=closes_at,
                closed_at=None,
                created_at=now,
                reminder_policy=policy,
                attribution=attribution.value,
                response_mode=responses.value,
            )
            session.add(row)
            await session.flush()
            first, others = response_holders(ids, known, responses)

            def rows(pids: Sequence[int], holders: Mapping[int, int]) -> list[dict[str, Any]]:
                return [
                    {
                        "round_id": row.id,
                        "participant_id": pid,
                        "status": ResponseStatus.NOT_STARTED.value,
                        "editing": False,
                        "updated_at": now,
                        "invite_at": opens_at,
                        "holder_id": holders.get(pid),
                    }
                    for pid in pids
                ]

            if first:
                held = await session.execute(
                    insert(ResponseRow).returning(ResponseRow.participant_id, ResponseRow.id),
                    rows(first, {}),
                )
                response_of = dict(held.tuples().all())
                holders = {pid: response_of[holder] for pid, holder in others.items()}
                if holders:
                    await session.execute(insert(ResponseRow), rows(list(holders), holders))
        return round_record(row)

    async def close_round(self, round_id: int, *, now: datetime) -> Round:
        """Set ``closed_at`` unless set, turn ``in_progress`` responses ``partial`` and take
        the round's responses out of the delivery plan.

        Two UPDATEs in one transaction (plus a read when it was closed already); running it
        again changes nothing (the first closing time stays). ``updated_at`` of the responses
        is left alone: it tells when the delegate last changed something.
        """
        async with self._scope.writing() as session:
            row = (
                await session.execute(
                    update(RoundRow)
                    .where(RoundRow.id == round_id, RoundRow.closed_at.is_(None))
                    .values(closed_at=now)
                    .returning(RoundRow)
                    .execution_options(synchronize_session=False)
                )
            ).scalar_one_or_none()
            if row is None:
                row = await session.get(RoundRow, round_id)
                if row is None:
                    raise NotFoundError("round", round_id)
            # Answers started are kept as partial, and nothing is due in a closed round any
            # more: its rows leave the due indexes, so ticks never read past rounds again
            # (reopening plans them anew).
            in_progress = ResponseRow.status == ResponseStatus.IN_PROGRESS.value
            await session.execute(
                update(ResponseRow)
                .where(
                    ResponseRow.round_id == round_id,
                    or_(
                        in_progress,
                        ResponseRow.invite_at.is_not(None),
                        ResponseRow.remind_at.is_not(None),
                    ),
                )
                .values(
                    status=case(
                        (in_progress, ResponseStatus.PARTIAL.value), else_=ResponseRow.status
                    ),
                    invite_at=None,
                    remind_at=None,
                )
                .execution_options(synchronize_session=False)
            )
        return round_record(row)

    async def extend_round(self, round_id: int, *, closes_at: datetime, now: datetime) -> Round:
        """Move ``closes_at``; a round that closed at its closing time reopens, partial
        responses becoming in progress again. A round closed early by hand stays closed."""
        closes_at, now = utc(closes_at), utc(now)
        async with self._scope.writing() as session:
            row = await session.get(RoundRow, round_id)
            if row is None:
                raise NotFoundError("round", round_id)
            reopening = row.closed_at is not None and closed_by_time(row.closed_at, row.closes_at)
            if row.closed_at is not None and not reopening:
                raise closed_round(round_id, row.closed_at)
            problem = extension_problem(
                round_id, opens_at=row.opens_at, closes_at=closes_at, now=now
            )
            if problem is not None:
                raise problem
            # Conditional on the closed_at just read, so that a close committed meanwhile wins.
            same_close = (
                RoundRow.closed_at.is_(None)
                if row.closed_at is None
                else RoundRow.closed_at == row.closed_at
            )
            updated = (
                await session.execute(
                    update(RoundRow)
                    .where(RoundRow.id == round_id, same_close)
                    .values(closes_at=closes_at, closed_at=None)
                    .returning(RoundRow)
                    .execution_options(synchronize_session=False, populate_existing=True)
                )
            ).scalar_one_or_none()
            if updated is None:
                await session.refresh(row)
                raise closed_round(round_id, row.closed_at or now)
            if reopening:
                await session.execute(
                    update(ResponseRow)
                    .where(
                        ResponseRow.round_id == round_id,
                        ResponseRow.status == ResponseStatus.PARTIAL.value,
                    )
                    .values(status=ResponseStatus.IN_PROGRESS.value)
                    .execution_options(synchronize_session=False)
                )
                # Who was never invited is due now; reminders are planned by the use case.
                await session.execute(
                    update(ResponseRow)
                    .where(
                        ResponseRow.round_id == round_id,
                        ResponseRow.invited_at.is_(None),
                        ResponseRow.status.in_([status.value for status in WAITING]),
                    )
                    .values(invite_at=now)
                    .execution_options(synchronize_session=False)
                )
        return round_record(updated)

    async def open_rounds(self, now: datetime) -> Sequence[Round]:
        return await self._rounds(
            RoundRow.closed_at.is_(None), RoundRow.opens_at <= now, RoundRow.closes_at > now
        )

    async def rounds_to_close(self, now: datetime) -> Sequence[Round]:
        return await self._rounds(RoundRow.closed_at.is_(None), RoundRow.closes_at <= now)

    async def _rounds(self, *where: ColumnElement[bool]) -> Sequence[Round]:
        async with self._scope.reading() as session:
            rows = await session.scalars(select(RoundRow).where(*where).order_by(RoundRow.id))
            return [round_record(row) for row in rows]

    async def get_round(self, round_id: int) -> Round:
        async with self._scope.reading() as session:
            memo = remembered(session)
            known = memo.get(("round", round_id))
            if isinstance(known, Round):
                return known
            row = (await session.execute(_ROUND_BY_ID, {"round_id": round_id})).first()
        if row is None:
            raise NotFoundError("round", round_id)
        found = memo[("round", round_id)] = round_record(row)
        return found

    async def list_rounds(self) -> Sequence[Round]:
        return await self._rounds()

    async def _require_round(self, session: AsyncSession, round_id: int) -> None:
        if await session.get(RoundRow, round_id) is None:
            raise NotFoundError("round", round_id)

    async def status(self, round_id: int) -> Sequence[StatusLine]:
        answered = (
            select(AnswerRow.response_id, func.count().label("n"))
            .join(ResponseRow, ResponseRow.id == AnswerRow.response_id)
            .where(ResponseRow.round_id == round_id, AnswerRow.value.is_not(None))
            .group_by(AnswerRow.response_id)
            .subquery("answered")
        )
        async with self._scope.reading() as session:
            round_row = await session.get(RoundRow, round_id)
            if round_row is None:
                raise NotFoundError("round", round_id)
            stmt = (
                _with_identities(
                    select(
                        *_PARTICIPANT_COLUMNS,
                        *_DELEGATION_COLUMNS,
                        ResponseRow.status,
                        ResponseRow.started_at,
                        ResponseRow.submitted_at,
                        ResponseRow.updated_at,
                        func.coalesce(answered.c.n, 0).label("answered"),
                    )
                    .select_from(ResponseRow)
                    .join(ParticipantRow, ParticipantRow.id == _attributed_to(round_row))
                )
                .outerjoin(DelegationRow, DelegationRow.code == ParticipantRow.delegation_code)
                .outerjoin(answered, answered.c.response_id == ResponseRow.id)
                .where(ResponseRow.round_id == round_id, ResponseRow.holder_id.is_(None))
                .order_by(*_participant_order(dialect_of(session)))
            )
            rows = (await session.execute(stmt)).all()
        return [
            StatusLine(
                participant=_participant(row),
                delegation=_delegation(row),
                status=ResponseStatus(row.status),
                answered=row.answered,
                started_at=row.started_at,
                submitted_at=row.submitted_at,
                updated_at=row.updated_at,
            )
            for row in rows
        ]

    async def counts(self, round_id: int) -> dict[ResponseStatus, int]:
        """How many responses are in each status (every status is a key, zeros included)."""
        async with self._scope.reading() as session:
            rows = (
                (
                    await session.execute(
                        select(ResponseRow.status, func.count())
                        .where(ResponseRow.round_id == round_id, ResponseRow.holder_id.is_(None))
                        .group_by(ResponseRow.status)
                    )
                )
                .tuples()
                .all()
            )
            if not rows:
                await self._require_round(session, round_id)
        counts = dict.fromkeys(ResponseStatus, 0)
        counts.update((ResponseStatus(status), n) for status, n in rows)
        return counts

    # --- what is due ---------------------------------------------------------------------------

    def _due_select(self) -> Select[Any]:
        return _with_identities(
            select(
                ResponseRow.id.label("response_id"),
                ResponseRow.status.label("response_status"),
                ResponseRow.invited_on,
                ResponseRow.invited_at,
                ResponseRow.remind_at,
                RoundRow,
                *_PARTICIPANT_COLUMNS,
            )
            .select_from(ResponseRow)
            .join(RoundRow, RoundRow.id == ResponseRow.round_id)
            .join(ParticipantRow, ParticipantRow.id == ResponseRow.participant_id)
        ).where(ResponseRow.status.in_([status.value for status in WAITING]))

    def _open_at(self, now: datetime) -> ColumnElement[bool]:
        return and_(
            RoundRow.closed_at.is_(None), RoundRow.opens_at <= now, RoundRow.closes_at > now
        )

    @staticmethod
    def _due(row: Any) -> Due:
        return Due(
            response_id=row.response_id,
            round=round_record(row.RoundRow),
            participant=_participant(row),
            status=ResponseStatus(row.response_status),
            invited_on=row.invited_on,
            invited_at=row.invited_at,
            remind_at=row.remind_at,
        )

    async def due_invitations(self, *, now: datetime, limit: int) -> Sequence[Due]:
        stmt = (
            self._due_select()
            .where(ResponseRow.invite_at.is_not(None), ResponseRow.invite_at <= now)
            .where(self._open_at(now))
            .order_by(ResponseRow.invite_at, ResponseRow.id)
            .limit(limit)
        )
        async with self._scope.reading() as session:
            return [self._due(row) for row in await session.execute(stmt)]

    async def due_reminders(self, *, now: datetime, limit: int) -> Sequence[Due]:
        stmt = (
            self._due_select()
            .where(ResponseRow.remind_at.is_not(None), ResponseRow.remind_at <= now)
            .where(ResponseRow.invited_at.is_not(None), self._open_at(now))
            .order_by(ResponseRow.remind_at, ResponseRow.id)
            .limit(limit)
        )
        async with self._scope.reading() as session:
            return [self._due(row) for row in await session.execute(stmt)]

    async def _plan(self, where: ColumnElement[bool], **values: Any) -> int:
        async with self._scope.writing() as session:
            result = await session.execute(
                update(ResponseRow)
                .where(where)
                .values(**values)
                .returning(ResponseRow.id)
                .execution_options(synchronize_session=False)
            )
            return len(result.all())

    async def invited(
        self, response_id: int, *, channel: str, at: datetime, remind_at: datetime | None
    ) -> None:
        done = await self._plan(
            ResponseRow.id == response_id,
            invite_at=None,
            invited_at=at,
            invited_on=channel,
            remind_at=remind_at,
        )
        if not done:
            raise NotFoundError("response", response_id)

    async def invited_many(self, invited: Sequence[Invited], *, at: datetime) -> None:
        """On PostgreSQL one ``UPDATE .. FROM unnest(ids, channels, reminders)`` for them all
        (built once; its arrays are three parameters whatever the batch); on SQLite, where
        writers are serial and nothing travels, one update each."""
        if not invited:
            return
        async with self._scope.writing() as session:
            if dialect_of(session) != "postgresql":
                for one in invited:
                    await self.invited(
                        one.response_id, channel=one.channel, at=at, remind_at=one.remind_at
                    )
                return
            found = await session.scalars(
                _invited_statement(),
                {
                    "i_at": at,
                    "i_ids": [one.response_id for one in invited],
                    "i_channels": [one.channel for one in invited],
                    "i_reminders": [one.remind_at for one in invited],
                },
            )
            missing = {one.response_id for one in invited} - set(found)
        if missing:
            raise NotFoundError("response", min(missing))

    async def defer_invitation(self, response_id: int, *, until: datetime) -> None:
        await self._plan(
            and_(ResponseRow.id == response_id, ResponseRow.invite_at.is_not(None)),
            invite_at=until,
        )

    async def invite_again(self, participant_id: int, *, now: datetime) -> None:
        await self._plan(
            and_(
                ResponseRow.participant_id == participant_id,
                ResponseRow.invite_at.is_not(None),
                ResponseRow.invite_at > now,
            ),
            invite_at=now,
        )

    async def plan_reminder(self, response_id: int, *, at: datetime | None) -> None:
        await self._plan(ResponseRow.id == response_id, remind_at=at)

    async def reminder_plans(self, round_id: int) -> Sequence[Due]:
        stmt = self._due_select().where(
            ResponseRow.round_id == round_id, ResponseRow.invited_at.is_not(None)
        )
        async with self._scope.reading() as session:
            return [self._due(row) for row in await session.execute(stmt)]


@functools.cache
def _invited_statement() -> Executable:
    """``UPDATE responses .. FROM unnest(:ids, :channels, :reminders) AS v(..) RETURNING id``
    (PostgreSQL): the invitations of a batch recorded in one statement of a fixed shape."""
    table = cast(Table, ResponseRow.__table__)
    given = (
        func.unnest(
            bindparam("i_ids", type_=postgresql.ARRAY(Integer)),
            bindparam("i_channels", type_=postgresql.ARRAY(String)),
            bindparam("i_reminders", type_=postgresql.ARRAY(UTCDateTime())),
        )
        .table_valued("id", "channel", "remind_at")
        .render_derived(name="given")
    )
    return (
        update(table)
        .where(table.c.id == given.c.id)
        .values(
            invite_at=None,
            invited_at=bindparam("i_at", type_=UTCDateTime()),
            invited_on=given.c.channel,
            remind_at=given.c.remind_at,
        )
        .returning(table.c.id)
    )


# -- responses -------------------------------------------------------------------------------


def _attributed_to(round_row: RoundRow) -> ColumnElement[Any]:
    """Who a response is shown as: its delegate; in a consolidated round, the delegate who
    submitted the delegation's response, else who changed it last (else the delegate whose
    row holds it)."""
    if round_row.response_mode != ResponseMode.CONSOLIDATED.value:
        return ResponseRow.participant_id.expression
    last = (
        select(AnswerHistoryRow.participant_id)
        .where(
            AnswerHistoryRow.response_id == ResponseRow.id,
            AnswerHistoryRow.participant_id.is_not(None),
        )
        .order_by(AnswerHistoryRow.id.desc())
        .limit(1)
        .correlate(ResponseRow)
        .scalar_subquery()
    )
    return func.coalesce(ResponseRow.submitted_by, last, ResponseRow.participant_id)


_ROUNDS = cast(Table, RoundRow.__table__)
_RESPONSES = cast(Table, ResponseRow.__table__)
_ANSWERS = cast(Table, AnswerRow.__table__)
_HISTORY = cast(Table, AnswerHistoryRow.__table__)
"""The answer path reads and writes through Core tables, not ORM entities: the same SQL,
without building, tracking and snapshotting an ORM object per row (about half of what a
statement cost in Python)."""

_ROUND_BY_ID = select(*_ROUNDS.c).where(_ROUNDS.c.id == bindparam("round_id"))


def _response_with_answers(by: str) -> Any:
    """Responses (each the delegation's, for a delegate of a consolidated round) with their
    answers, one row per answer, ``by`` round and participant, own id and participant, or a
    list of own ids (``response_ids``, expanding)."""
    own = _RESPONSES.alias("own")
    which = {
        "round": and_(
            own.c.round_id == bindparam("round_id"),
            own.c.participant_id == bindparam("participant_id"),
        ),
        "id": and_(
            own.c.id == bindparam("response_id"),
            own.c.participant_id == bindparam("participant_id"),
        ),
        "ids": own.c.id.in_(bindparam("response_ids", expanding=True)),
    }[by]
    return (
        select(
            own.c.id.label("own_id"),
            own.c.participant_id.label("own_participant_id"),
            *_RESPONSES.c,
            _ANSWERS.c.question_id.label("answer_question_id"),
            _ANSWERS.c.value.label("answer_value"),
        )
        .select_from(own)
        .join(_RESPONSES, _RESPONSES.c.id == func.coalesce(own.c.holder_id, own.c.id))
        .outerjoin(_ANSWERS, _ANSWERS.c.response_id == _RESPONSES.c.id)
        .where(which)
        .order_by(own.c.id, _ANSWERS.c.question_id)
    )


_RESPONSE_WITH_ANSWERS = _response_with_answers("round")
"""A delegate's response in a round with its answers."""
_OWN_RESPONSE_WITH_ANSWERS = _response_with_answers("id")
"""The same, by the delegate's own response id."""
_RESPONSES_WITH_ANSWERS = _response_with_answers("ids")
"""Many responses by their own ids."""

_ANSWERS_OF = (
    select(_ANSWERS.c.question_id, _ANSWERS.c.value)
    .where(_ANSWERS.c.response_id == bindparam("response_id"))
    .order_by(_ANSWERS.c.question_id)
)

_UPSERT_ANSWERS = upsert(
    _ANSWERS,
    conflict=("response_id", "question_id"),
    update=("value", "answered_at"),
    columns=("response_id", "question_id", "value", "answered_at"),
)
"""``INSERT .. ON CONFLICT (response_id, question_id) DO UPDATE``, compiled once."""
_UPSERT_ANSWER_WITH_HISTORY = upsert(
    _ANSWERS,
    conflict=("response_id", "question_id"),
    update=("value", "answered_at"),
    columns=("response_id", "question_id", "value", "answered_at"),
    returning=("response_id",),
    then=(
        f"INSERT INTO {_HISTORY.name} (response_id, question_id, value, reason, changed_at,"
        " participant_id) VALUES (:response_id, :question_id, :value, :reason, :answered_at,"
        " :participant_id)"
    ),
    then_types={"reason": _HISTORY.c.reason.type, "participant_id": _HISTORY.c.participant_id.type},
)
"""PostgreSQL: one answer stored and its history written in one statement (a data-modifying
``WITH``): a delegate's answer is one change, and each statement is a round trip."""


def _remember_response(memo: dict[Hashable, Any], rows: Sequence[Any]) -> Response | None:
    """The response in ``rows`` (one per answer, see :func:`_response_with_answers`), kept for
    the unit of work by round and participant, and its answers by id and version (so that
    :meth:`SqlAlchemyResponseRepository.save_state` need not read them again)."""
    if not rows:
        return None
    answers = {
        row.answer_question_id: row.answer_value
        for row in rows
        if row.answer_question_id is not None
    }
    own_id, participant_id, held = rows[0].own_id, rows[0].own_participant_id, rows[0]
    record = response_record(held, answers)
    if own_id != held.id:
        record = replace(record, id=own_id, participant_id=participant_id, holder_id=held.id)
    memo[("response", record.round_id, participant_id)] = record
    memo[("answers", held.id, held.version)] = answers
    return record


class SqlAlchemyResponseRepository:
    """Responses, their current answers and the history of every change."""

    def __init__(self, scope: SessionScope) -> None:
        self._scope = scope

    async def get_response(self, round_id: int, participant_id: int) -> Response:
        async with self._scope.reading() as session:
            memo = remembered(session)
            known = memo.get(("response", round_id, participant_id))
            if isinstance(known, Response):
                return known
            rows = (
                await session.execute(
                    _RESPONSE_WITH_ANSWERS,
                    {"round_id": round_id, "participant_id": participant_id},
                )
            ).all()
            found = _remember_response(memo, rows)
        if found is None:
            raise NotFoundError("response", (round_id, participant_id))
        return found

    async def own_response(self, response_id: int, participant_id: int) -> Response | None:
        async with self._scope.reading() as session:
            rows = (
                await session.execute(
                    _OWN_RESPONSE_WITH_ANSWERS,
                    {"response_id": response_id, "participant_id": participant_id},
                )
            ).all()
            return _remember_response(remembered(session), rows)

    async def load_responses(self, response_ids: Collection[int]) -> None:
        """Read these responses (by their own ids) in one query, so that the unit of work's
        :meth:`get_response` calls for them cost none; outside one it does nothing."""
        if not response_ids or not self._scope.remembers:
            return
        async with self._scope.reading() as session:
            rows = (
                await session.execute(
                    _RESPONSES_WITH_ANSWERS, {"response_ids": sorted(set(response_ids))}
                )
            ).all()
            memo = remembered(session)
            for _, group in itertools.groupby(rows, key=lambda row: row.own_id):
                _remember_response(memo, list(group))

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
        """Store the new state and the changes to the answers, with their history.

        ``started_at`` is set the first time the state is started (or leaves not_started);
        ``submitted_at`` when the response becomes ``submitted`` (edits made while it stays
        submitted keep it; ``updated_at`` tells the last change). A ``cleared`` change removes
        the answer; any other change stores its value (None: skipped). Only a response still
        at ``version`` is changed (then to ``version + 1``); else :class:`ConflictError`.
        """
        at = bindparam("now", now, type_=UTCDateTime())
        values: dict[str, Any] = {
            "version": _RESPONSES.c.version + 1,
            "status": status.value,
            "current_question": state.current,
            "editing": state.editing,
            "updated_at": at,
        }
        if state.started or status is not ResponseStatus.NOT_STARTED:
            values["started_at"] = case(
                (_RESPONSES.c.started_at.is_(None), at), else_=_RESPONSES.c.started_at
            )
        if status is ResponseStatus.SUBMITTED:
            values["remind_at"] = None  # nobody reminds who has submitted
            # SET expressions see the row as it was before this UPDATE.
            values["submitted_at"] = case(
                (_RESPONSES.c.status != ResponseStatus.SUBMITTED.value, at),
                (_RESPONSES.c.submitted_at.is_(None), at),
                else_=_RESPONSES.c.submitted_at,
            )
            values["submitted_by"] = case(
                (_RESPONSES.c.status != ResponseStatus.SUBMITTED.value, by),
                else_=_RESPONSES.c.submitted_by,
            )
        async with self._scope.reading() as session:
            # The answers as this unit of work read them at ``version``: the update below
            # changes the response only while it is still at that version, and every change to
            # the answers passes here, so the new answers are those plus ``changes``.
            before = remembered(session).get(("answers", response_id, version))
        async with self._scope.writing() as session:
            updated = (
                await session.execute(
                    update(_RESPONSES)
                    .where(_RESPONSES.c.id == response_id, _RESPONSES.c.version == version)
                    .values(values)
                    .returning(*_RESPONSES.c)
                )
            ).first()
            if updated is None:
                if await session.get(ResponseRow, response_id) is None:
                    raise NotFoundError("response", response_id)
                raise ConflictError("response", response_id, expected=version)
            if shared:
                # The delegation's delegates are where it is: reminded, closed, counted alike.
                mirrored: dict[str, Any] = {
                    "status": updated.status,
                    "started_at": updated.started_at,
                    "submitted_at": updated.submitted_at,
                    "updated_at": updated.updated_at,
                }
                if status is ResponseStatus.SUBMITTED:
                    mirrored["remind_at"] = None
                await session.execute(
                    update(_RESPONSES).where(_RESPONSES.c.holder_id == response_id).values(mirrored)
                )
            await self._apply(session, response_id, changes)
            if isinstance(before, dict):
                answers = answers_after(before, changes)
            else:
                found = await session.execute(_ANSWERS_OF, {"response_id": response_id})
                answers = dict(found.tuples().all())
        return response_record(updated, answers)

    async def _apply(
        self, session: AsyncSession, response_id: int, changes: Sequence[AnswerChange]
    ) -> None:
        if not changes:
            return
        if (
            len(changes) == 1
            and changes[0].reason != "cleared"
            and dialect_of(session) == "postgresql"
        ):
            change = changes[0]
            await session.execute(
                _UPSERT_ANSWER_WITH_HISTORY,
                {
                    "response_id": response_id,
                    "question_id": change.question_id,
                    "value": change.value,
                    "answered_at": change.at,
                    "reason": change.reason,
                    "participant_id": change.by,
                },
            )
            return
        final = final_changes(changes)
        cleared = [qid for qid, change in final.items() if change.reason == "cleared"]
        kept = [change for change in final.values() if change.reason != "cleared"]
        if cleared:
            await session.execute(
                delete(AnswerRow).where(
                    AnswerRow.response_id == response_id, AnswerRow.question_id.in_(cleared)
                )
            )
        if kept:
            await session.execute(
                _UPSERT_ANSWERS,
                [
                    {
                        "response_id": response_id,
                        "question_id": change.question_id,
                        "value": change.value,
                        "answered_at": change.at,
                    }
                    for change in kept
                ],
            )
        await session.execute(
            insert(_HISTORY),
            [
                {
                    "response_id": response_id,
                    "question_id": change.question_id,
                    "value": change.value,
                    "reason": change.reason,
                    "changed_at": change.at,
                    "participant_id": change.by,
                }
                for change in changes
            ],
        )

    async def history(self, response_id: int) -> Sequence[AnswerChange]:
        async with self._scope.reading() as session:
            rows = (
                await session.scalars(
                    select(AnswerHistoryRow)
                    .where(AnswerHistoryRow.response_id == response_id)
                    .order_by(AnswerHistoryRow.id)
                )
            ).all()
            if not rows and await session.get(ResponseRow, response_id) is None:
                raise NotFoundError("response", response_id)
        return [
            AnswerChange(
                question_id=row.question_id,
                value=row.value,
                at=row.changed_at,
                reason=row.reason,
                by=row.participant_id,
            )
            for row in rows
        ]

    async def sharers(self, response_id: int) -> Sequence[Sharer]:
        async with self._scope.reading() as session:
            rows = (
                await session.execute(
                    _with_identities(
                        select(
                            ResponseRow.id.label("r_id"),
                            ResponseRow.invited_on,
                            *_PARTICIPANT_COLUMNS,
                        )
                        .select_from(ResponseRow)
                        .join(ParticipantRow, ParticipantRow.id == ResponseRow.participant_id)
                    )
                    .where(or_(ResponseRow.id == response_id, ResponseRow.holder_id == response_id))
                    .order_by(ResponseRow.id)
                )
            ).all()
        if not rows:
            raise NotFoundError("response", response_id)
        return [
            Sharer(response_id=row.r_id, participant=_participant(row), invited_on=row.invited_on)
            for row in rows
        ]

    async def cast_ballot(self, response_id: int) -> Ballot:
        """Move the response's answers into a new ballot (see the port), in one transaction."""
        async with self._scope.writing() as session:
            response = await session.get(ResponseRow, response_id)
            if response is None:
                raise NotFoundError("response", response_id)
            answers = dict(
                (
                    await session.execute(
                        select(AnswerRow.question_id, AnswerRow.value)
                        .where(AnswerRow.response_id == response_id)
                        .order_by(AnswerRow.question_id)
                    )
                )
                .tuples()
                .all()
            )
            ballot = Ballot(ballot_id=new_ballot_id(), round_id=response.round_id, answers=answers)
            await session.execute(
                insert(BallotRow), [{"id": ballot.ballot_id, "round_id": ballot.round_id}]
            )
            if answers:
                await session.execute(
                    insert(BallotAnswerRow),
                    [
                        {"ballot_id": ballot.ballot_id, "question_id": qid, "value": value}
                        for qid, value in answers.items()
                    ],
                )
            await session.execute(delete(AnswerRow).where(AnswerRow.response_id == response_id))
            await session.execute(
                delete(AnswerHistoryRow).where(AnswerHistoryRow.response_id == response_id)
            )
            await session.execute(
                update(ResponseRow)
                .where(ResponseRow.id == response_id)
                .values(current_question=None, editing=False)
            )
            # In a consolidated round every delegate of the delegation saw these answers.
            group = list(
                (
                    await session.execute(
                        select(ResponseRow.id, ResponseRow.participant_id).where(
                            or_(
                                ResponseRow.id == response_id,
                                ResponseRow.holder_id == response_id,
                            )
                        )
                    )
                )
                .tuples()
                .all()
            )
            group_ids = [rid for rid, _ in group]
            group_people = [pid for _, pid in group]
            # What the channels kept of this response: the requests it answered (handled, or
            # being handled now) and the screens already sent, which showed its answers.
            await session.execute(
                update(InboundEventRow)
                .where(
                    InboundEventRow.response_id.in_(group_ids),
                    or_(
                        InboundEventRow.processed_at.is_not(None),
                        InboundEventRow.claimed_by.is_not(None),
                    ),
                )
                .values(payload="")
            )
            await session.execute(
                update(OutboundMessageRow)
                .where(
                    or_(
                        OutboundMessageRow.screen_response_id.in_(group_ids),
                        and_(
                            OutboundMessageRow.round_id == response.round_id,
                            OutboundMessageRow.participant_id.in_(group_people),
                        ),
                    ),
                    OutboundMessageRow.status.in_(("sent", "failed")),
                )
                .values(body={})
            )
        return ballot

    async def ballots(self, round_id: int) -> AsyncIterator[Ballot]:
        async with self._scope.reading() as session:
            if await session.get(RoundRow, round_id) is None:
                raise NotFoundError("round", round_id)
            rows = (
                await session.execute(
                    select(BallotRow.id, BallotAnswerRow.question_id, BallotAnswerRow.value)
                    .outerjoin(BallotAnswerRow, BallotAnswerRow.ballot_id == BallotRow.id)
                    .where(BallotRow.round_id == round_id)
                    .order_by(BallotRow.id, BallotAnswerRow.question_id)
                )
            ).all()
        current: Ballot | None = None
        for ballot_id, question_id, value in rows:
            if current is None or current.ballot_id != ballot_id:
                if current is not None:
                    yield current
                current = Ballot(ballot_id=ballot_id, round_id=round_id, answers={})
            if question_id is not None:
                current.answers[question_id] = value
        if current is not None:
            yield current

    async def ballot_count(self, round_id: int) -> int:
        async with self._scope.reading() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(BallotRow)
                    .where(BallotRow.round_id == round_id)
                )
                or 0
            )

    async def export_rows(
        self, round_id: int, *, delegations: Collection[str] | None = None
    ) -> AsyncIterator[ExportRow]:
        """Stream a round's responses in participant order, ``EXPORT_CHUNK`` at a time (only
        those of ``delegations``, when given).

        One streamed query for responses, participants and delegations; one answers query per
        chunk. Close the iterator (``contextlib.aclosing``) if you stop before the end.
        """
        async with self._scope.reading() as session:
            dialect = dialect_of(session)
            if dialect == "postgresql":
                # One snapshot for the streamed rows and every chunk's answers.
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            round_row = await session.get(RoundRow, round_id)
            if round_row is None:
                raise NotFoundError("round", round_id)
            who = _attributed_to(round_row)
            stmt = (
                _with_identities(
                    select(
                        *_PARTICIPANT_COLUMNS,
                        *_DELEGATION_COLUMNS,
                        ResponseRow.id.label("r_id"),
                        ResponseRow.status,
                        ResponseRow.started_at,
                        ResponseRow.submitted_at,
                    )
                    .select_from(ResponseRow)
                    .join(ParticipantRow, ParticipantRow.id == who)
                )
                .outerjoin(DelegationRow, DelegationRow.code == ParticipantRow.delegation_code)
                .where(ResponseRow.round_id == round_id, ResponseRow.holder_id.is_(None))
                .order_by(*_participant_order(dialect))
                .execution_options(yield_per=EXPORT_CHUNK)
            )
            if delegations is not None:
                stmt = stmt.where(ParticipantRow.delegation_code.in_(list(delegations)))
            result = await session.stream(stmt)
            async for chunk in result.partitions():
                answers: dict[int, dict[str, AnswerValue | None]] = defaultdict(dict)
                found = await session.execute(
                    select(AnswerRow.response_id, AnswerRow.question_id, AnswerRow.value)
                    .where(AnswerRow.response_id.in_([row.r_id for row in chunk]))
                    .order_by(AnswerRow.response_id, AnswerRow.question_id)
                )
                for response_id, question_id, value in found.tuples():
                    answers[response_id][question_id] = value
                for row in chunk:
                    yield ExportRow(
                        response_id=row.r_id,
                        participant=_participant(row),
                        delegation=_delegation(row),
                        status=ResponseStatus(row.status),
                        started_at=row.started_at,
                        submitted_at=row.submitted_at,
                        answers=answers.get(row.r_id, {}),
                    )


def response_record(row: Any, answers: dict[str, AnswerValue | None]) -> Response:
    """A response from its row (an ORM ``ResponseRow`` or a Core row of the table)."""
    return Response(
        id=row.id,
        round_id=row.round_id,
        participant_id=row.participant_id,
        status=ResponseStatus(row.status),
        state=ResponseState(
            answers=answers,
            current=row.current_question,
            editing=row.editing,
            started=row.started_at is not None,
        ),
        started_at=row.started_at,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
        version=row.version,
    )


# -- audit -----------------------------------------------------------------------------------


class SqlAlchemyAuditLog:
    """Who did what to what, appended; ``entries`` lists the newest first."""

    def __init__(self, scope: SessionScope) -> None:
        self._scope = scope

    async def record(
        self, *, actor: str, action: str, target: str, details: dict[str, object], now: datetime
    ) -> None:
        async with self._scope.writing() as session:
            session.add(
                AuditRow(at=now, actor=actor, action=action, target=target, details=details)
            )

    async def entries(
        self,
        *,
        limit: int = 100,
        round_id: int | None = None,
        since: datetime | None = None,
        actor: str | None = None,
    ) -> Sequence[AuditEntry]:
        stmt = select(AuditRow)
        if round_id is not None:
            stmt = stmt.where(AuditRow.target == round_target(round_id))
        if since is not None:
            stmt = stmt.where(AuditRow.at >= utc(since))
        if actor:
            stmt = stmt.where(func.lower(AuditRow.actor).contains(actor.lower(), autoescape=True))
        async with self._scope.reading() as session:
            rows = await session.scalars(stmt.order_by(AuditRow.id.desc()).limit(limit))
            return [
                AuditEntry(
                    at=row.at,
                    actor=row.actor,
                    action=row.action,
                    target=row.target,
                    details=dict(row.details),
                )
                for row in rows
            ]


__all__ = [
    "EXPORT_CHUNK",
    "SqlAlchemyAuditLog",
    "SqlAlchemyResponseRepository",
    "SqlAlchemyRosterRepository",
    "SqlAlchemyRoundRepository",
    "SqlAlchemySurveyRepository",
]
