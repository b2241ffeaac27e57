"""SQLAlchemy implementations of the queue ports: the inbox, the outbox, screens and leases.

Each public method is one short transaction (or a part of the caller's unit of work) and
returns the records of :mod:`surveys.queues`, never ORM rows.

A claim is one statement, the idiom of PostgreSQL job queues::

    UPDATE inbound_events SET claimed_by = :worker, lease_until = :until, attempts = attempts + 1
    WHERE id IN (SELECT candidate.id FROM inbound_events AS candidate
                 WHERE <claimable> AND NOT EXISTS (<an earlier or leased event of its subject>)
                 ORDER BY candidate.id LIMIT :n FOR UPDATE SKIP LOCKED)
    RETURNING ...

On PostgreSQL a row that another claimer has locked is skipped, and a row that changed since
the statement began is checked again before it is taken, so two claimers never take the same
row. SQLite has no row locks and needs none: its writers are serialised (``BEGIN IMMEDIATE``
in a unit of work; the database lock, taken before the statement reads, in a standalone
call), so the same statement without ``FOR UPDATE`` is safe there.

Only the head of a subject (an event) or of an address (a message) is claimable: the oldest
of its unprocessed or unsent rows, by id. For that order to be the order in which rows become
visible, ids of one subject must be committed in order; on PostgreSQL, ``accept`` therefore
takes a transaction-scoped advisory lock on its (channel, subject) before inserting.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.keys import stored_key
from storage.notices import INBOX_NOTICE
from storage.repositories import dialect_of
from storage.scope import SessionScope
from storage.tables import (
    Base,
    InboundEventRow,
    LeaseRow,
    LiveScreenRow,
    OutboundMessageRow,
    UTCDateTime,
)
from storage.upserts import numbered, upsert
from surveys.errors import ConflictError, NotFoundError
from surveys.queues import (
    Delivery,
    EventTarget,
    InboundEvent,
    InboxBacklog,
    Lane,
    Lease,
    LiveScreen,
    NewInboundEvent,
    NewMessage,
    OutboundMessage,
    OutboundStatus,
    OutboxBacklog,
    ScreenRef,
)

PENDING = OutboundStatus.PENDING.value
CLAIMED = OutboundStatus.CLAIMED.value
SENT = OutboundStatus.SENT.value
FAILED = OutboundStatus.FAILED.value
UNSENT = (PENDING, CLAIMED)


def _unsent(status: Any) -> ColumnElement[bool]:
    """``status IN ('pending', 'claimed')``, the values written inline as the partial indexes
    say it: SQLite uses a partial index only for a query that repeats the index's terms."""
    return cast(
        ColumnElement[bool],
        status.in_([literal_column(f"'{value}'") for value in UNSENT]),
    )


_FIND_CHUNK = 500
"""Keys per ``IN (...)`` list."""


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _upsert(
    dialect: str,
    table: type[Base],
    keys: list[str],
    values: dict[str, Any],
    *,
    set_: dict[str, Any],
    where: ColumnElement[bool] | None = None,
) -> Any:
    """``INSERT .. ON CONFLICT (keys) DO UPDATE SET .. [WHERE ..]`` in the bind's dialect."""
    if dialect == "postgresql":
        return (
            postgresql.insert(table)
            .values(**values)
            .on_conflict_do_update(index_elements=keys, set_=set_, where=where)
        )
    if dialect == "sqlite":
        return (
            sqlite.insert(table)
            .values(**values)
            .on_conflict_do_update(index_elements=keys, set_=set_, where=where)
        )
    raise NotImplementedError(dialect)  # pragma: no cover - only SQLite and PostgreSQL


def _insert_ignoring(dialect: str, table: Table, keys: list[str]) -> Any:
    """``INSERT .. ON CONFLICT (keys) DO NOTHING`` into a Core table: executed with a list of
    rows, it runs as a few multi-row statements ("insertmanyvalues"), not as an ORM flush."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    raise NotImplementedError(dialect)  # pragma: no cover - only SQLite and PostgreSQL


def _skip_locked(stmt: Select[Any], dialect: str) -> Select[Any]:
    """``FOR UPDATE SKIP LOCKED`` on PostgreSQL; nothing on SQLite, whose writers are serial."""
    return stmt.with_for_update(skip_locked=True) if dialect == "postgresql" else stmt


def _by_code_point(column: Any, dialect: str) -> Any:
    """Code-point order on every backend (as Python sorts ``str``), whatever the collation."""
    return column.collate("C") if dialect == "postgresql" else column


def subject_lock(channel: str, subject: str) -> int:
    """The PostgreSQL advisory lock key (a signed 64-bit integer) of one inbox subject."""
    digest = hashlib.sha256(f"itinera-inbox\x00{channel}\x00{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# -- inbox -----------------------------------------------------------------------------------

_INBOX = cast(Table, InboundEventRow.__table__)
"""The hot statements (claims, completion) go through Core tables: the same SQL without the
ORM's bulk-update machinery, which cost more in Python than the statement did in PostgreSQL."""

_EVENT = (
    InboundEventRow.id,
    InboundEventRow.channel,
    InboundEventRow.key,
    InboundEventRow.subject,
    InboundEventRow.payload,
    InboundEventRow.received_at,
    InboundEventRow.round_id,
    InboundEventRow.response_id,
    InboundEventRow.question_id,
    InboundEventRow.target_version,
    InboundEventRow.moved_on,
    InboundEventRow.attempts,
    InboundEventRow.processed_at,
    InboundEventRow.error,
)


def _event(row: Any) -> InboundEvent:
    return InboundEvent(
        id=row.id,
        channel=row.channel,
        key=row.key,
        subject=row.subject,
        payload=row.payload,
        received_at=row.received_at,
        target=EventTarget(
            round_id=row.round_id,
            response_id=row.response_id,
            question_id=row.question_id,
            version=row.target_version,
            moved_on=bool(row.moved_on),
        ),
        attempts=row.attempts,
        processed_at=row.processed_at,
        error=row.error,
    )


_ACCEPT_COLUMNS = (
    "channel, key, subject, payload, received_at, available_at, attempts,"
    " round_id, response_id, question_id, target_version, moved_on"
)


def _screen_column(column: str) -> str:
    """``column`` of the latest live screen on ``:channel`` of whoever ``:subject`` is there
    (most recently shown first, then the newer response), as a scalar subquery."""
    return (
        f"(SELECT live_screens.{column} FROM live_screens"
        " JOIN participant_identities"
        " ON participant_identities.participant_id = live_screens.participant_id"
        " AND participant_identities.channel = live_screens.channel"
        " WHERE participant_identities.channel = :channel"
        " AND participant_identities.external_id = :subject"
        " ORDER BY live_screens.shown_at DESC, live_screens.response_id DESC LIMIT 1)"
    )


def _accept_statement(targets: str, *, locked: bool) -> Any:
    """The inbox's insert, in SQL text: a dialect's ``ON CONFLICT`` insert is compiled anew on
    every execution (SQLAlchemy has no cache key for it), which costs more than running it; a
    ``text()`` is compiled once.

    ``locked`` (PostgreSQL): the row is selected from the subject's advisory lock, so the lock
    is taken in the same statement, before the row's id is drawn, and held until the
    transaction ends, and from a notice to the inbox workers of every process (sent when the
    transaction commits, see :mod:`storage.notices`); without it (SQLite, whose writers are
    serialised, in one process) it is plain VALUES."""
    values = f":channel, :key, :subject, :payload, :now, :now, 0, {targets}"
    source = (
        f" SELECT {values} FROM (SELECT pg_advisory_xact_lock(:lock), {INBOX_NOTICE})"
        " AS subject_lock WHERE true"
        if locked
        else f" VALUES ({values})"
    )
    statement = text(
        f"INSERT INTO inbound_events ({_ACCEPT_COLUMNS}){source}"
        " ON CONFLICT (channel, key) DO NOTHING RETURNING id"
    ).bindparams(
        bindparam("channel", type_=String()),
        bindparam("key", type_=String()),
        bindparam("subject", type_=String()),
        bindparam("payload", type_=Text()),
        bindparam("now", type_=UTCDateTime()),
    )
    if locked:
        statement = statement.bindparams(bindparam("lock", type_=BigInteger()))
    return statement.columns(id=Integer())


_GIVEN_TARGET = ":round_id, :response_id, :question_id, :target_version, :moved_on"
_GIVEN_TARGET_TYPES = (
    bindparam("round_id", type_=Integer()),
    bindparam("response_id", type_=Integer()),
    bindparam("question_id", type_=String()),
    bindparam("target_version", type_=Integer()),
    bindparam("moved_on", type_=Boolean()),
)
_SCREEN_TARGET = ", ".join(
    (
        _screen_column("round_id"),
        _screen_column("response_id"),
        _screen_column("question_id"),
        _screen_column("version"),
        f"COALESCE({_screen_column('shown_at')} > :written_before, :not_moved)",
    )
)
_SCREEN_TARGET_TYPES = (
    bindparam("written_before", type_=UTCDateTime()),
    bindparam("not_moved", False, type_=Boolean()),
)
_ACCEPTS = {
    (from_screen, locked): _accept_statement(
        _SCREEN_TARGET if from_screen else _GIVEN_TARGET, locked=locked
    ).bindparams(*(_SCREEN_TARGET_TYPES if from_screen else _GIVEN_TARGET_TYPES))
    for from_screen in (False, True)
    for locked in (False, True)
}
"""Accepting an event whose target is given (or has none), or (``from_screen``) is the
subject's latest live screen (it moved on when that screen was shown after
``written_before``; never, without one); by (from_screen, locked)."""

_INBOX_CLAIMS: dict[tuple[str, bool], Any] = {}


def _inbox_claim(dialect: str, *, by_id: bool) -> Any:
    """The inbox's claim statement, built once per dialect (parameters ``now``, ``worker``,
    ``until``, ``n`` and, ``by_id``, ``event_id``): building its aliases and subqueries costs
    more than running it, and one statement object keeps SQLAlchemy's cache key computed."""
    found = _INBOX_CLAIMS.get((dialect, by_id))
    if found is not None:
        return found
    now = bindparam("now", type_=UTCDateTime())
    candidate = _INBOX.alias("candidate").c
    other = _INBOX.alias("other").c
    # Another unprocessed event of the subject that is older, or that someone is working.
    blocked = exists().where(
        other.channel == candidate.channel,
        other.subject == candidate.subject,
        other.processed_at.is_(None),
        other.id != candidate.id,
        or_(other.id < candidate.id, other.lease_until > now),
    )
    picked = (
        select(candidate.id)
        .where(
            candidate.processed_at.is_(None),
            candidate.available_at <= now,
            or_(candidate.lease_until.is_(None), candidate.lease_until <= now),
            ~blocked,
        )
        .order_by(candidate.id)
        .limit(bindparam("n", type_=Integer()))
    )
    if by_id:
        picked = picked.where(candidate.id == bindparam("event_id", type_=Integer()))
    statement = (
        update(_INBOX)
        .where(_INBOX.c.id.in_(_skip_locked(picked, dialect)))
        .values(
            claimed_by=bindparam("worker", type_=String()),
            lease_until=bindparam("until", type_=UTCDateTime()),
            attempts=_INBOX.c.attempts + 1,
        )
        .returning(*(_INBOX.c[column.key] for column in _EVENT))
    )
    _INBOX_CLAIMS[(dialect, by_id)] = statement
    return statement


_COMPLETE = (
    update(_INBOX)
    .where(
        _INBOX.c.id == bindparam("event_id"),
        _INBOX.c.claimed_by == bindparam("worker"),
        _INBOX.c.processed_at.is_(None),
    )
    .values(
        processed_at=bindparam("now", type_=_INBOX.c.processed_at.type),
        error=bindparam("error", type_=_INBOX.c.error.type),
        lease_until=None,
    )
    .returning(_INBOX.c.id)
)
"""An event completed by its claimant (see :meth:`SqlAlchemyEventInbox.complete`)."""


class SqlAlchemyEventInbox:
    """The inbox of every channel: events stored before they are acknowledged, then claimed
    with a lease, one at a time per subject, and completed by their lease holder."""

    def __init__(self, scope: SessionScope) -> None:
        self._scope = scope

    async def accept(self, event: NewInboundEvent, *, now: datetime) -> int | None:
        """One ``INSERT .. ON CONFLICT (channel, key) DO NOTHING RETURNING id``; with
        ``from_screen`` its target columns are scalar subqueries on the latest live screen, so
        that they are read in the same statement (and snapshot) as the row is written.

        On PostgreSQL the subject's advisory lock is taken by the same statement and held
        until the transaction ends; called on the store itself the statement is its own
        transaction (autocommit: no ``BEGIN`` or ``COMMIT`` round trip, which the
        acknowledgement waits for); in a unit of work, other accepts of that subject wait for
        its commit."""
        params: dict[str, Any] = {
            "channel": event.channel,
            "key": stored_key(event.key),
            "subject": event.subject,
            "payload": event.payload,
            "now": now,
        }
        if event.from_screen:
            params["written_before"] = event.written_before
        else:
            target = event.target
            params.update(
                round_id=None if target is None else target.round_id,
                response_id=None if target is None else target.response_id,
                question_id=None if target is None else target.question_id,
                target_version=None if target is None else target.version,
                moved_on=False if target is None else target.moved_on,
            )
        if self._scope.dialect == "postgresql":
            # Ids of one subject must become visible in order (see the module docstring).
            params["lock"] = subject_lock(event.channel, event.subject)
            statement = _ACCEPTS[(event.from_screen, True)]
            async with self._scope.single_statement() as run:
                inserted: int | None = (await run.execute(statement, params)).scalar()
            return inserted
        async with self._scope.writing() as session:
            inserted = await session.scalar(_ACCEPTS[(event.from_screen, False)], params)
        return inserted

    async def claim(
        self,
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        event_id: int | None = None,
    ) -> Sequence[InboundEvent]:
        if limit <= 0:
            return []
        params: dict[str, Any] = {"now": now, "worker": worker, "until": now + lease, "n": limit}
        if event_id is not None:
            params["event_id"] = event_id
        async with self._scope.writing() as session:
            statement = _inbox_claim(dialect_of(session), by_id=event_id is not None)
            rows = (await session.execute(statement, params)).all()
        return sorted((_event(row) for row in rows), key=lambda event: event.id)

    async def complete(
        self, event_id: int, *, worker: str, now: datetime, error: str | None = None
    ) -> None:
        """Only while ``worker`` is still its claimant: a lease that ran out but that nobody
        took over still lets it finish; a takeover, a release or a completion does not."""
        async with self._scope.writing() as session:
            done = await session.scalar(
                _COMPLETE, {"event_id": event_id, "worker": worker, "now": now, "error": error}
            )
            if done is None:
                found = await session.scalar(
                    select(InboundEventRow.id).where(InboundEventRow.id == event_id)
                )
                if found is None:
                    raise NotFoundError("inbound event", event_id)
                raise ConflictError("inbound event", event_id)

    async def release(
        self, event_id: int, *, worker: str, available_at: datetime, error: str | None = None
    ) -> None:
        values: dict[str, Any] = {
            "claimed_by": None,
            "lease_until": None,
            "available_at": available_at,
        }
        if error is not None:
            values["error"] = error
        async with self._scope.writing() as session:
            await session.execute(
                update(InboundEventRow)
                .where(
                    InboundEventRow.id == event_id,
                    InboundEventRow.claimed_by == worker,
                    InboundEventRow.processed_at.is_(None),
                )
                .values(values)
                .execution_options(synchronize_session=False)
            )

    async def get(self, *, channel: str, key: str) -> InboundEvent | None:
        async with self._scope.reading() as session:
            row = (
                await session.execute(
                    select(*_EVENT).where(
                        InboundEventRow.channel == channel,
                        InboundEventRow.key == stored_key(key),
                    )
                )
            ).one_or_none()
        return None if row is None else _event(row)

    async def backlog(self) -> InboxBacklog:
        async with self._scope.reading() as session:
            pending, oldest = (
                await session.execute(
                    select(func.count(), func.min(InboundEventRow.received_at)).where(
                        InboundEventRow.processed_at.is_(None)
                    )
                )
            ).one()
        return InboxBacklog(pending=pending, oldest=oldest)


# -- outbox ----------------------------------------------------------------------------------

_MESSAGE = (
    OutboundMessageRow.id,
    OutboundMessageRow.channel,
    OutboundMessageRow.key,
    OutboundMessageRow.address,
    OutboundMessageRow.method,
    OutboundMessageRow.body,
    OutboundMessageRow.lane,
    OutboundMessageRow.status,
    OutboundMessageRow.created_at,
    OutboundMessageRow.updated_at,
    OutboundMessageRow.attempts,
    OutboundMessageRow.participant_id,
    OutboundMessageRow.round_id,
    OutboundMessageRow.screen_response_id,
    OutboundMessageRow.screen_participant_id,
    OutboundMessageRow.screen_round_id,
    OutboundMessageRow.screen_question_id,
    OutboundMessageRow.screen_version,
    OutboundMessageRow.message_id,
    OutboundMessageRow.sent_address,
    OutboundMessageRow.error,
)

QUEUED = OutboundMessageRow.method.is_not(None)
"""Rows of the queue (older claim-then-send rows have no method and are never seen here)."""


def _message(row: Any) -> OutboundMessage:
    screen = None
    if row.screen_response_id is not None:
        screen = ScreenRef(
            response_id=row.screen_response_id,
            participant_id=row.screen_participant_id,
            round_id=row.screen_round_id,
            question_id=row.screen_question_id,
            version=row.screen_version,
        )
    return OutboundMessage(
        id=row.id,
        channel=row.channel,
        key=row.key,
        address=row.address,
        method=row.method,
        body=row.body,
        lane=Lane(row.lane),
        status=OutboundStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        attempts=row.attempts,
        participant_id=row.participant_id,
        round_id=row.round_id,
        screen=screen,
        message_id=row.message_id,
        sent_address=row.sent_address,
        error=row.error,
    )


def _new_row(message: NewMessage, now: datetime) -> dict[str, Any]:
    screen = message.screen
    return {
        "channel": message.channel,
        "key": stored_key(message.key),
        "address": message.address,
        "method": message.method,
        "body": message.body,
        "lane": int(message.lane),
        "status": PENDING,
        "attempts": 0,
        "available_at": message.available_at or now,
        "created_at": now,
        "updated_at": now,
        "participant_id": message.participant_id,
        "round_id": message.round_id,
        "screen_response_id": screen.response_id if screen else None,
        "screen_participant_id": screen.participant_id if screen else None,
        "screen_round_id": screen.round_id if screen else None,
        "screen_question_id": screen.question_id if screen else None,
        "screen_version": screen.version if screen else None,
    }


_OUTBOX = cast(Table, OutboundMessageRow.__table__)
_SCREENS = cast(Table, LiveScreenRow.__table__)
_ENQUEUE_TEXT_ROWS = 8
"""Up to this many messages enqueued at once (a reply and the press's answer, a screen split in
parts) go as SQL text compiled once per count; a batch's rows as one multi-row Core insert,
compiled once per call."""


_PROMOTE_WAITING = f"""UPDATE {_OUTBOX.name} AS waiting SET lane = {int(Lane.INTERACTIVE)}
FROM (SELECT channel, address, max(id) AS last FROM inserted GROUP BY channel, address) AS urgent
WHERE waiting.channel = urgent.channel AND waiting.address = urgent.address
AND waiting.status IN ({", ".join(f"'{status}'" for status in UNSENT)})
AND waiting.method IS NOT NULL AND waiting.id < urgent.last
AND waiting.lane > {int(Lane.INTERACTIVE)}"""
"""What :meth:`SqlAlchemyMessageOutbox.enqueue` does after inserting interactive messages:
the unsent bulk messages ahead of them to the same address move into the interactive lane."""


@functools.cache
def _enqueue_statement(columns: tuple[str, ...], rows: int, promoting: bool = False) -> Any:
    """The outbox insert of ``rows`` rows of ``columns`` (those :func:`_new_row` gives); when
    ``promoting`` (PostgreSQL, every row interactive), with :data:`_PROMOTE_WAITING` in the
    same statement."""
    return upsert(
        _OUTBOX,
        conflict=("channel", "key"),
        update=(),
        columns=columns,
        returning=("id", "channel", "key"),
        rows=rows,
        then=_PROMOTE_WAITING if promoting else None,
        then_reads=("address",) if promoting else (),
    )


async def _promote_waiting(
    session: AsyncSession, rows: Sequence[dict[str, Any]], ids: Mapping[tuple[str, str], int]
) -> None:
    """What :data:`_PROMOTE_WAITING` does, one ``UPDATE`` per address that got an interactive
    message (SQLite, and many messages or a mix of lanes)."""
    urgent: dict[tuple[str, str], int] = {}
    for row in rows:
        id_ = ids.get((row["channel"], row["key"]))
        if id_ is not None and row["lane"] == Lane.INTERACTIVE:
            where = (row["channel"], row["address"])
            urgent[where] = max(id_, urgent.get(where, id_))
    for (channel, address), last in urgent.items():
        await session.execute(
            update(OutboundMessageRow)
            .where(
                OutboundMessageRow.channel == channel,
                OutboundMessageRow.address == address,
                _unsent(OutboundMessageRow.status),
                QUEUED,
                OutboundMessageRow.id < last,
                OutboundMessageRow.lane > int(Lane.INTERACTIVE),
            )
            .values(lane=int(Lane.INTERACTIVE))
            .execution_options(synchronize_session=False)
        )


_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"))
    .values(
        status=SENT,
        message_id=bindparam("b_platform_id", type_=_OUTBOX.c.message_id.type),
        sent_address=bindparam("b_address", type_=_OUTBOX.c.sent_address.type),
        lease_until=None,
        error=None,
        updated_at=bindparam("b_now", type_=_OUTBOX.c.updated_at.type),
    )
)
"""A delivery's outbox row, run once with the parameters of many (a plain ``UPDATE``, so
compiled once and cached)."""

_SCREEN_SENT = (
    update(_SCREENS)
    .where(
        _SCREENS.c.channel == bindparam("b_channel"),
        _SCREENS.c.response_id == bindparam("b_response_id"),
        _SCREENS.c.outbox_id == bindparam("b_id"),
    )
    .values(
        message_id=bindparam("b_platform_id", type_=_SCREENS.c.message_id.type),
        address=bindparam("b_address", type_=_SCREENS.c.address.type),
    )
)
"""The live screen a delivered message shows, if it still refers to that message."""


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """The outbox claim (see :meth:`SqlAlchemyMessageOutbox.claim`), built once per dialect
    with its values as parameters: building it is most of what a claim costs in Python."""
    now = bindparam("c_now", type_=UTCDateTime())
    candidate = _OUTBOX.alias("candidate").c
    other = _OUTBOX.alias("other").c
    blocked = exists().where(
        other.channel == candidate.channel,
        other.address == candidate.address,
        _unsent(other.status),
        other.method.is_not(None),
        other.id != candidate.id,
        or_(other.id < candidate.id, and_(other.status == CLAIMED, other.lease_until > now)),
    )
    ready = or_(
        and_(candidate.status == PENDING, candidate.available_at <= now),
        and_(candidate.status == CLAIMED, candidate.lease_until <= now),
    )
    picked = (
        select(candidate.id)
        .where(
            candidate.channel == bindparam("c_channel"),
            _unsent(candidate.status),
            candidate.method.is_not(None),
            ready,
            ~blocked,
        )
        .order_by(candidate.lane, candidate.id)
        .limit(bindparam("c_limit", type_=Integer()))
    )
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(_skip_locked(picked, dialect)))
        .values(
            status=CLAIMED,
            claimed_by=bindparam("c_worker", type_=String()),
            lease_until=bindparam("c_until", type_=UTCDateTime()),
            attempts=_OUTBOX.c.attempts + 1,
            updated_at=now,
        )
        .returning(*(_OUTBOX.c[column.key] for column in _MESSAGE))
    )


class SqlAlchemyMessageOutbox:
    """The outbox of every channel: messages keyed by what they are for, claimed per address
    in order with a lease, the interactive lane first."""

    def __init__(self, scope: SessionScope) -> None:
        self._scope = scope

    async def enqueue(
        self, messages: Sequence[NewMessage], *, now: datetime
    ) -> Sequence[int | None]:
        """``INSERT .. ON CONFLICT DO NOTHING RETURNING id, channel, key`` over all the rows
        (up to eight: SQL text compiled once per count; more: a multi-row Core insert); a key
        given twice in one call is stored once, for the first. Then, per address that got an
        interactive message, one ``UPDATE`` moves the unsent bulk messages ahead of it into
        the interactive lane (see :meth:`claim`); on PostgreSQL, for a few messages all
        interactive (a reply), in the insert's own statement."""
        rows = [_new_row(message, now) for message in messages]
        ids: dict[tuple[str, str], int] = {}
        if rows:
            async with self._scope.writing() as session:
                # One statement on PostgreSQL for a reply (every message interactive): the
                # insert and the move of what waits ahead of it.
                few = len(rows) <= _ENQUEUE_TEXT_ROWS
                promoting = (
                    few
                    and dialect_of(session) == "postgresql"
                    and all(row["lane"] == Lane.INTERACTIVE for row in rows)
                )
                if few:
                    statement = _enqueue_statement(tuple(rows[0]), len(rows), promoting)
                    inserted = await session.execute(statement, numbered(rows))
                else:
                    inserted = await session.execute(
                        _insert_ignoring(
                            dialect_of(session), _OUTBOX, ["channel", "key"]
                        ).returning(_OUTBOX.c.id, _OUTBOX.c.channel, _OUTBOX.c.key),
                        rows,
                    )
                for id_, channel, key in inserted.tuples():
                    ids[(channel, key)] = id_
                if not promoting:
                    await _promote_waiting(session, rows, ids)
        result: list[int | None] = []
        for row in rows:
            result.append(ids.pop((row["channel"], row["key"]), None))
        return result

    async def claim(
        self, *, channel: str, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[OutboundMessage]:
        """Heads of addresses only, by lane then id: an ordered scan of the channel's unsent
        messages (``ix_outbound_messages_channel_lane_id``) that stops at ``limit`` heads.
        An interactive reply is not held up behind the bulk lane by a bulk message to the
        same chat: :meth:`enqueue` moved that one into the interactive lane."""
        if limit <= 0:
            return []
        params = {
            "c_channel": channel,
            "c_worker": worker,
            "c_now": now,
            "c_until": now + lease,
            "c_limit": limit,
        }
        async with self._scope.writing() as session:
            rows = (await session.execute(_claim_statement(dialect_of(session)), params)).all()
        claimed = [_message(row) for row in rows]
        return sorted(claimed, key=lambda message: (message.lane, message.id))

    async def delivered(
        self,
        message_id: int,
        *,
        worker: str,
        now: datetime,
        platform_id: str | None,
        address: str | None = None,
    ) -> bool:
        sent = {
            "status": SENT,
            "message_id": platform_id,
            "sent_address": address,
            "lease_until": None,
            "error": None,
            "updated_at": now,
        }
        returned = (
            OutboundMessageRow.channel,
            OutboundMessageRow.address,
            OutboundMessageRow.screen_response_id,
        )
        async with self._scope.writing() as session:
            held = True
            row = (
                await session.execute(
                    update(OutboundMessageRow)
                    .where(
                        OutboundMessageRow.id == message_id,
                        QUEUED,
                        OutboundMessageRow.status == CLAIMED,
                        OutboundMessageRow.claimed_by == worker,
                    )
                    .values(sent)
                    .returning(*returned)
                    .execution_options(synchronize_session=False)
                )
            ).one_or_none()
            if row is None:
                held = False
                row = (
                    await session.execute(
                        update(OutboundMessageRow)
                        .where(OutboundMessageRow.id == message_id, QUEUED)
                        .values(sent)
                        .returning(*returned)
                        .execution_options(synchronize_session=False)
                    )
                ).one_or_none()
                if row is None:
                    raise NotFoundError("outbound message", message_id)
            if row.screen_response_id is not None:
                await session.execute(
                    update(LiveScreenRow)
                    .where(
                        LiveScreenRow.channel == row.channel,
                        LiveScreenRow.response_id == row.screen_response_id,
                        LiveScreenRow.outbox_id == message_id,
                    )
                    .values(message_id=platform_id, address=address or row.address)
                    .execution_options(synchronize_session=False)
                )
        return held

    async def delivered_many(
        self, deliveries: Sequence[Delivery], *, worker: str, now: datetime
    ) -> Mapping[int, bool]:
        """One ``SELECT`` of the rows (locked on PostgreSQL) per few hundred, then one
        executemany ``UPDATE`` of the outbox rows and one of the live screens they show."""
        wanted = {delivery.message_id: delivery for delivery in deliveries}
        held: dict[int, bool] = {}
        if not wanted:
            return held
        is_held = and_(
            OutboundMessageRow.status == CLAIMED, OutboundMessageRow.claimed_by == worker
        )
        sent: list[dict[str, Any]] = []
        screens: list[dict[str, Any]] = []
        async with self._scope.writing() as session:
            dialect = dialect_of(session)
            for chunk in _chunks(list(wanted), _FIND_CHUNK):
                stmt = select(
                    OutboundMessageRow.id,
                    OutboundMessageRow.channel,
                    OutboundMessageRow.address,
                    OutboundMessageRow.screen_response_id,
                    case((is_held, True), else_=False).label("held"),
                ).where(OutboundMessageRow.id.in_(chunk), QUEUED)
                if dialect == "postgresql":
                    stmt = stmt.with_for_update(of=OutboundMessageRow)
                for row in await session.execute(stmt):
                    delivery = wanted[row.id]
                    held[row.id] = bool(row.held)
                    values = {
                        "b_id": row.id,
                        "b_platform_id": delivery.platform_id,
                        "b_address": delivery.address,
                        "b_now": now,
                    }
                    sent.append(values)
                    if row.screen_response_id is not None:
                        screens.append(
                            {
                                **values,
                                "b_channel": row.channel,
                                "b_response_id": row.screen_response_id,
                                "b_address": delivery.address or row.address,
                            }
                        )
            if sent:
                await session.execute(_MARK_SENT, sent)
            if screens:
                await session.execute(
                    _SCREEN_SENT, [{k: v for k, v in s.items() if k != "b_now"} for s in screens]
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
        values: dict[str, Any] = {
            "status": PENDING,
            "claimed_by": None,
            "lease_until": None,
            "available_at": available_at,
        }
        if error is not None:
            values["error"] = error
        if not count_attempt:
            values["attempts"] = case(
                (OutboundMessageRow.attempts > 0, OutboundMessageRow.attempts - 1), else_=0
            )
        await self._if_held(message_id, worker, values)

    async def fail(self, message_id: int, *, worker: str, now: datetime, error: str) -> None:
        values = {"status": FAILED, "error": error, "lease_until": None, "updated_at": now}
        await self._if_held(message_id, worker, values)

    async def _if_held(self, message_id: int, worker: str, values: dict[str, Any]) -> None:
        async with self._scope.writing() as session:
            await session.execute(
                update(OutboundMessageRow)
                .where(
                    OutboundMessageRow.id == message_id,
                    QUEUED,
                    OutboundMessageRow.status == CLAIMED,
                    OutboundMessageRow.claimed_by == worker,
                )
                .values(values)
                .execution_options(synchronize_session=False)
            )

    async def get(self, *, channel: str, key: str) -> OutboundMessage | None:
        found = await self.find(channel=channel, keys=[key])
        return found[0] if found else None

    async def find(
        self, *, channel: str | None = None, keys: Sequence[str]
    ) -> Sequence[OutboundMessage]:
        """Ordered by id (the order they were enqueued)."""
        wanted = list(dict.fromkeys(stored_key(key) for key in keys))
        found: list[OutboundMessage] = []
        async with self._scope.reading() as session:
            for chunk in _chunks(wanted, _FIND_CHUNK):
                stmt = select(*_MESSAGE).where(QUEUED, OutboundMessageRow.key.in_(chunk))
                if channel is not None:
                    stmt = stmt.where(OutboundMessageRow.channel == channel)
                found.extend(_message(row) for row in await session.execute(stmt))
        return sorted(found, key=lambda message: message.id)

    async def resend(self, *, round_id: int, now: datetime) -> int:
        """Failed messages of the round become pending at ``now``, as if new: their attempts
        and error are cleared."""
        async with self._scope.writing() as session:
            resent = (
                await session.scalars(
                    update(OutboundMessageRow)
                    .where(
                        OutboundMessageRow.round_id == round_id,
                        OutboundMessageRow.status == FAILED,
                        QUEUED,
                    )
                    .values(
                        status=PENDING,
                        available_at=now,
                        attempts=0,
                        error=None,
                        claimed_by=None,
                        lease_until=None,
                        updated_at=now,
                    )
                    .returning(OutboundMessageRow.id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
        return len(resent)

    async def backlog(self) -> Sequence[OutboxBacklog]:
        """Channels with messages waiting or failed, by name; one grouped query."""
        unsent = _unsent(OutboundMessageRow.status)
        async with self._scope.reading() as session:
            dialect = dialect_of(session)
            rows = await session.execute(
                select(
                    OutboundMessageRow.channel,
                    func.sum(case((unsent, 1), else_=0)),
                    func.min(
                        type_coerce(case((unsent, OutboundMessageRow.created_at)), UTCDateTime())
                    ),
                    func.sum(case((OutboundMessageRow.status == FAILED, 1), else_=0)),
                )
                .where(QUEUED, OutboundMessageRow.status.in_((*UNSENT, FAILED)))
                .group_by(OutboundMessageRow.channel)
                .order_by(_by_code_point(OutboundMessageRow.channel, dialect))
            )
            return [
                OutboxBacklog(channel=channel, pending=pending, oldest=oldest, failed=failed)
                for channel, pending, oldest, failed in rows.tuples()
            ]


# -- screens ---------------------------------------------------------------------------------

_SCREEN = (
    LiveScreenRow.channel,
    LiveScreenRow.response_id,
    LiveScreenRow.participant_id,
    LiveScreenRow.round_id,
    LiveScreenRow.question_id,
    LiveScreenRow.version,
    LiveScreenRow.shown_at,
    LiveScreenRow.outbox_id,
    LiveScreenRow.message_id,
    LiveScreenRow.address,
)


def _screen(row: Any) -> LiveScreen:
    return LiveScreen(
        channel=row.channel,
        response_id=row.response_id,
        participant_id=row.participant_id,
        round_id=row.round_id,
        question_id=row.question_id,
        version=row.version,
        shown_at=row.shown_at,
        outbox_id=row.outbox_id,
        message_id=row.message_id,
        address=row.address,
    )


def _latest(dialect: str) -> tuple[Any, ...]:
    """Most recently shown first; ties go to the newer response, then by channel name."""
    return (
        LiveScreenRow.shown_at.desc(),
        LiveScreenRow.response_id.desc(),
        _by_code_point(LiveScreenRow.channel, dialect),
    )


@functools.cache
def _show_statement(columns: tuple[str, ...]) -> Any:
    """The live screens' upsert of ``columns``, whose update takes the ``excluded`` row
    (compiled once)."""
    return upsert(_SCREENS, conflict=("channel", "response_id"), columns=columns)


class SqlAlchemyScreenRepository:
    """The live screen of each (channel, response)."""

    def __init__(self, scope: SessionScope) -> None:
        self._scope = scope

    async def show(self, screen: LiveScreen) -> None:
        await self.show_many([screen])

    async def show_many(self, screens: Sequence[LiveScreen]) -> None:
        """One executemany ``INSERT .. ON CONFLICT (channel, response_id) DO UPDATE`` whose
        update takes the ``excluded`` row, so one statement serves every call; the last of a
        (channel, response) given twice wins."""
        rows = {
            (screen.channel, screen.response_id): {
                "channel": screen.channel,
                "response_id": screen.response_id,
                "participant_id": screen.participant_id,
                "round_id": screen.round_id,
                "question_id": screen.question_id,
                "version": screen.version,
                "shown_at": screen.shown_at,
                "outbox_id": screen.outbox_id,
                "message_id": screen.message_id,
                "address": screen.address,
            }
            for screen in screens
        }
        if not rows:
            return
        async with self._scope.writing() as session:
            values = list(rows.values())
            await session.execute(_show_statement(tuple(values[0])), values)

    async def get(self, *, channel: str, response_id: int) -> LiveScreen | None:
        return await self._first(
            LiveScreenRow.channel == channel, LiveScreenRow.response_id == response_id
        )

    async def latest(self, *, channel: str, participant_id: int) -> LiveScreen | None:
        return await self._first(
            LiveScreenRow.channel == channel, LiveScreenRow.participant_id == participant_id
        )

    async def latest_any(self, participant_id: int) -> LiveScreen | None:
        return await self._first(LiveScreenRow.participant_id == participant_id)

    async def _first(self, *where: ColumnElement[bool]) -> LiveScreen | None:
        """The latest screen (see :func:`_latest`) that matches ``where``."""
        async with self._scope.reading() as session:
            stmt = select(*_SCREEN).where(*where).order_by(*_latest(dialect_of(session)))
            row = (await session.execute(stmt.limit(1))).first()
        return None if row is None else _screen(row)


# -- leases ----------------------------------------------------------------------------------


class SqlAlchemyLeaseRepository:
    """Named leases, taken with one ``INSERT .. ON CONFLICT DO UPDATE .. WHERE`` each."""

    def __init__(self, scope: SessionScope) -> None:
        self._scope = scope

    async def acquire(self, name: str, *, holder: str, now: datetime, ttl: timedelta) -> bool:
        """The conflict branch only updates a lease that is ``holder``'s or has run out, so
        of two processes racing for a free lease exactly one gets a row back."""
        until = now + ttl
        async with self._scope.writing() as session:
            taken = await session.scalar(
                _upsert(
                    dialect_of(session),
                    LeaseRow,
                    ["name"],
                    {"name": name, "holder": holder, "expires_at": until},
                    set_={"holder": holder, "expires_at": until},
                    where=or_(LeaseRow.holder == holder, LeaseRow.expires_at <= now),
                ).returning(LeaseRow.name)
            )
        return taken is not None

    async def release(self, name: str, *, holder: str) -> None:
        async with self._scope.writing() as session:
            await session.execute(
                delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder)
            )

    async def holders(self, prefix: str, *, now: datetime) -> Sequence[Lease]:
        """By name. ``substr`` rather than ``LIKE``: exact and case-sensitive on both
        backends (SQLite's LIKE ignores ASCII case), with nothing to escape."""
        async with self._scope.reading() as session:
            dialect = dialect_of(session)
            rows = await session.execute(
                select(LeaseRow.name, LeaseRow.holder, LeaseRow.expires_at)
                .where(
                    func.substr(LeaseRow.name, 1, len(prefix)) == literal(prefix),
                    LeaseRow.expires_at > now,
                )
                .order_by(_by_code_point(LeaseRow.name, dialect))
            )
            return [
                Lease(name=name, holder=holder, expires_at=expires_at)
                for name, holder, expires_at in rows.tuples()
            ]


__all__ = [
    "SqlAlchemyEventInbox",
    "SqlAlchemyLeaseRepository",
    "SqlAlchemyMessageOutbox",
    "SqlAlchemyScreenRepository",
    "subject_lock",
]
