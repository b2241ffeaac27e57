"""The database schema as SQLAlchemy 2.0 declarative models.

Alembic owns the schema (``storage/migrations``); these models must match it, which
``tests/storage/test_migrations.py`` checks with alembic's ``compare_metadata``. They are an
implementation detail of :mod:`storage.repositories`: nothing outside ``storage`` sees a row.

Portable to SQLite and PostgreSQL: times are :class:`UTCDateTime` (``TIMESTAMP WITH TIME ZONE``
on PostgreSQL, naive UTC text on SQLite, always aware UTC in Python), JSON values are ``JSON``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RESPONSE_STATUSES = ("not_started", "in_progress", "submitted", "partial")
ROLES = ("delegate", "organiser")
ATTRIBUTIONS = ("named", "delegation", "anonymous")
RESPONSE_MODES = ("individual", "consolidated")
OUTBOUND_STATUSES = ("pending", "claimed", "sent", "failed")
UNSENT = "status IN ('pending', 'claimed')"
"""Outbound messages not sent yet (waiting, or being sent): what the claim indexes cover."""
UNPROCESSED = "processed_at IS NULL"
"""Inbound events still to be worked: what the inbox claim indexes cover."""
DEFAULT_REMINDER_POLICY_JSON = "[4320, 1440, 120]"
"""``surveys.records.DEFAULT_REMINDER_POLICY`` as the JSON server default of ``rounds``."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    Refuses naive datetimes on the way in (a naive time is a bug, not a guess to make); SQLite
    keeps naive UTC text, so UTC is attached again on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONValue(TypeDecorator[Any]):
    """An answer value as JSON, SQL NULL for None; kept as TEXT on SQLite.

    A column declared ``JSON`` has NUMERIC affinity in SQLite, which stores the JSON text
    ``1.0`` as the integer 1: a decimal answer would come back as an int. TEXT keeps it as is.
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(JSON(none_as_null=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "sqlite" and value is not None:
            return json.dumps(value, ensure_ascii=False)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "sqlite" and value is not None:
            return json.loads(value)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


metadata = Base.metadata


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class DelegationRow(Base):
    __tablename__ = "delegations"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ParticipantRow(Base):
    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("email"),
        CheckConstraint(_in("role", ROLES), name="role"),
        Index("ix_participants_delegation_code", "delegation_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    """Always stored lower-cased: the roster's natural key."""
    role: Mapped[str] = mapped_column(String(16))
    delegation_code: Mapped[str | None] = mapped_column(ForeignKey("delegations.code"))
    language: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    regions: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    """An organiser's regions (empty: every region)."""


class IdentityRow(Base):
    """Who a participant is on a channel (their Slack user id, their Telegram user id)."""

    __tablename__ = "participant_identities"
    __table_args__ = (
        PrimaryKeyConstraint("participant_id", "channel"),
        UniqueConstraint("channel", "external_id"),
    )

    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    """Where to write to them (Slack DM channel, Telegram chat), cached; NULL until known."""
    created_at: Mapped[datetime]


class SurveyVersionRow(Base):
    __tablename__ = "survey_versions"
    __table_args__ = (
        UniqueConstraint("survey_id", "content_hash"),
        Index("ix_survey_versions_survey_id_id", "survey_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[str] = mapped_column(Text)
    """``Survey.canonical_json()``: exactly the text that was hashed."""
    created_at: Mapped[datetime]


class RoundRow(Base):
    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint(_in("attribution", ATTRIBUTIONS), name="attribution"),
        CheckConstraint(_in("response_mode", RESPONSE_MODES), name="response_mode"),
        Index("ix_rounds_survey_version_id", "survey_version_id"),
        Index("ix_rounds_closed_at_closes_at", "closed_at", "closes_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    survey_id: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(Text)
    """``str(Audience)``: ``all``, ``region:NAME``, ``tag:NAME`` or ``FRA,SEN``."""
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    reminder_policy: Mapped[list[int]] = mapped_column(
        JSON, server_default=DEFAULT_REMINDER_POLICY_JSON
    )
    """Minutes before ``closes_at`` at which to remind, distinct, largest first."""
    attribution: Mapped[str] = mapped_column(String(16), server_default="delegation")
    response_mode: Mapped[str] = mapped_column(String(16), server_default="individual")
    """``individual`` (one response per delegate) or ``consolidated`` (one per delegation)."""


class ResponseRow(Base):
    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("round_id", "participant_id"),
        CheckConstraint(_in("status", RESPONSE_STATUSES), name="status"),
        Index("ix_responses_round_id_status", "round_id", "status"),
        Index("ix_responses_participant_id", "participant_id"),
        Index(
            "ix_responses_invite_at",
            "invite_at",
            postgresql_where=text("invite_at IS NOT NULL"),
            sqlite_where=text("invite_at IS NOT NULL"),
        ),
        Index(
            "ix_responses_remind_at",
            "remind_at",
            postgresql_where=text("remind_at IS NOT NULL"),
            sqlite_where=text("remind_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    status: Mapped[str] = mapped_column(String(16))
    current_question: Mapped[str | None] = mapped_column(String(64))
    editing: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[int | None] = mapped_column(Integer)
    """Who submitted it (NULL: not submitted, submitted before this was kept, or in an
    anonymous round)."""
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Incremented by every change; a write names the version it read (optimistic locking)."""
    invite_at: Mapped[datetime | None]
    """When the invitation is due (the round's opening); NULL once it was enqueued."""
    invited_at: Mapped[datetime | None]
    invited_on: Mapped[str | None] = mapped_column(String(16))
    """The channel the invitation went out on."""
    remind_at: Mapped[datetime | None]
    """When to look at this response's reminders next; NULL when none is left."""
    holder_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """In a consolidated round, the delegation's response whose state, answers and version
    this delegate shares (NULL: the row holds its own state)."""


class AnswerRow(Base):
    """The current answer to one question; ``value`` NULL means the delegate skipped it."""

    __tablename__ = "answers"
    __table_args__ = (PrimaryKeyConstraint("response_id", "question_id"),)

    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSONValue(), nullable=True)
    answered_at: Mapped[datetime]


class AnswerHistoryRow(Base):
    """Every change to every answer, appended, never updated."""

    __tablename__ = "answer_history"
    __table_args__ = (Index("ix_answer_history_response_id", "response_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSONValue(), nullable=True)
    reason: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime]
    participant_id: Mapped[int | None] = mapped_column(Integer)
    """Who made the change (NULL for changes stored before it was kept)."""


class BallotRow(Base):
    """A submitted response of an anonymous round, cut from whoever submitted it.

    The key is random (``surveys.records.new_ballot_id``), not a sequence, and there is no
    time and no column naming a participant, delegation or response: nothing a query could
    join back to ``responses``.
    """

    __tablename__ = "ballots"
    __table_args__ = (Index("ix_ballots_round_id_id", "round_id", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))


class BallotAnswerRow(Base):
    """One answer of a ballot; ``value`` NULL means the question was skipped."""

    __tablename__ = "ballot_answers"
    __table_args__ = (PrimaryKeyConstraint("ballot_id", "question_id"),)

    ballot_id: Mapped[str] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSONValue(), nullable=True)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EnrolmentCodeRow(Base):
    """A one-time code that links a channel account to a participant; only its hash is kept."""

    __tablename__ = "enrolment_codes"
    __table_args__ = (
        UniqueConstraint("code_hash"),
        Index("ix_enrolment_codes_participant_id_channel", "participant_id", "channel"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_external_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class EnrolmentFailureRow(Base):
    """A wrong enrolment code received from one channel account: what throttling counts."""

    __tablename__ = "enrolment_failures"
    __table_args__ = (
        Index("ix_enrolment_failures_channel_external_id_at", "channel", "external_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


def _partial(condition: str) -> dict[str, Any]:
    """Index keywords for a partial index (``WHERE condition``), on SQLite and PostgreSQL."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


def _received_at(context: Any) -> Any:
    """An event is available from when it was received, unless the insert says otherwise
    (``context`` is SQLAlchemy's ``DefaultExecutionContext``, untyped in its stubs)."""
    return context.get_current_parameters()["received_at"]


class InboundEventRow(Base):
    """An event received from a channel, stored before it is acknowledged, keyed by its id.

    The inbox (``storage.queues``) claims it with a lease (``claimed_by`` until
    ``lease_until``), one at a time per (channel, subject); ``round_id`` .. ``target_version``
    record what it acts on.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("channel", "key"),
        Index("ix_inbound_events_channel_processed_at", "channel", "processed_at"),
        Index(
            "ix_inbound_events_channel_subject_id",
            "channel",
            "subject",
            "id",
            **_partial(UNPROCESSED),
        ),
        Index("ix_inbound_events_id", "id", **_partial(UNPROCESSED)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    """The platform's id, or a prefix and hash of it (``storage.keys.stored_key``)."""
    subject: Mapped[str] = mapped_column(String(100), server_default="")
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    available_at: Mapped[datetime] = mapped_column(default=_received_at)
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    round_id: Mapped[int | None] = mapped_column(Integer)
    response_id: Mapped[int | None] = mapped_column(Integer)
    question_id: Mapped[str | None] = mapped_column(String(64))
    target_version: Mapped[int | None] = mapped_column(Integer)
    moved_on: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]


class OutboundMessageRow(Base):
    """A message sent (or being sent), keyed by what it is for, so that it is sent once.

    Two generations share the table: rows of the outbox queue (``storage.queues``) have a
    ``method`` and go ``pending`` -> ``claimed`` -> ``sent`` or ``failed``; rows written by the
    older claim-then-send API (``storage.channel_repositories``) have none of the queue columns.
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "key"),
        CheckConstraint(_in("status", OUTBOUND_STATUSES), name="status"),
        Index("ix_outbound_messages_channel_lane_id", "channel", "lane", "id", **_partial(UNSENT)),
        Index(
            "ix_outbound_messages_channel_address_id",
            "channel",
            "address",
            "id",
            **_partial(UNSENT),
        ),
        Index("ix_outbound_messages_status_round_id", "status", "round_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))
    """Always set on queue rows; NULL on older rows claimed before they were sent."""
    message_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    method: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[Any] = mapped_column(JSONValue(), nullable=True)
    lane: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    available_at: Mapped[datetime | None]
    created_at: Mapped[datetime | None]
    participant_id: Mapped[int | None] = mapped_column(Integer)
    round_id: Mapped[int | None] = mapped_column(Integer)
    screen_response_id: Mapped[int | None] = mapped_column(Integer)
    screen_participant_id: Mapped[int | None] = mapped_column(Integer)
    screen_round_id: Mapped[int | None] = mapped_column(Integer)
    screen_question_id: Mapped[str | None] = mapped_column(String(64))
    screen_version: Mapped[int | None] = mapped_column(Integer)
    sent_address: Mapped[str | None] = mapped_column(String(64))


class LiveScreenRow(Base):
    """Which message shows a delegate's screen of one round on one channel."""

    __tablename__ = "live_screens"
    __table_args__ = (
        PrimaryKeyConstraint("channel", "response_id"),
        Index(
            "ix_live_screens_channel_participant_id_shown_at",
            "channel",
            "participant_id",
            "shown_at",
        ),
        Index("ix_live_screens_participant_id_shown_at", "participant_id", "shown_at"),
    )

    channel: Mapped[str] = mapped_column(String(16))
    response_id: Mapped[int] = mapped_column(Integer)
    participant_id: Mapped[int] = mapped_column(Integer)
    round_id: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    shown_at: Mapped[datetime]
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    message_id: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))


class LeaseRow(Base):
    """A named lease: who does a job only one process may do, until when."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


class DigestRunRow(Base):
    """A digest sent for a round, with the figures the next digest compares with."""

    __tablename__ = "digest_runs"
    __table_args__ = (Index("ix_digest_runs_round_id_id", "round_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    """``surveys.digest.DigestFigures`` as JSON: counts and means, no names, no comments."""


__all__ = [
    "NAMING_CONVENTION",
    "AnswerHistoryRow",
    "AnswerRow",
    "AuditRow",
    "BallotAnswerRow",
    "BallotRow",
    "Base",
    "DelegationRow",
    "DigestRunRow",
    "EnrolmentCodeRow",
    "EnrolmentFailureRow",
    "IdentityRow",
    "InboundEventRow",
    "JSONValue",
    "LeaseRow",
    "LiveScreenRow",
    "OutboundMessageRow",
    "ParticipantRow",
    "ResponseRow",
    "RoundRow",
    "SurveyVersionRow",
    "UTCDateTime",
    "metadata",
]
