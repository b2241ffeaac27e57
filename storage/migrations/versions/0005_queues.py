"""Queues: the inbox and outbox claimed with leases, live screens, named leases.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

``inbound_events`` gains who acted (``subject``), what the event acts on, and its claim
(attempts, holder, lease, ``available_at``, which existing events take from ``received_at``);
``outbound_messages`` gains what to send (method, body, lane), its claim, what it is about and
the screen it shows, and the ``pending`` status. Existing rows keep working with the older
claim-then-send API. New tables: ``live_screens`` and ``leases``.

PostgreSQL alters the two tables in place. SQLite cannot make a column NOT NULL or change a
CHECK constraint in place, so each table is rebuilt: renamed aside, created anew, its rows
copied, the old one dropped. That is written out here rather than left to batch mode, which
would have to reflect the table and so could not run offline (``--sql``).

Downgrading keeps the older rows: queued messages that were never sent (``pending``) are
dropped, since the older schema cannot say what they were to send.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSON on PostgreSQL; TEXT on SQLite (see 0001's ANSWER_VALUE).
BODY = sa.JSON(none_as_null=True).with_variant(sa.Text(), "sqlite")
UNSENT = "status IN ('pending', 'claimed')"
UNPROCESSED = "processed_at IS NULL"
OLD_STATUSES = "status IN ('claimed', 'sent', 'failed')"
NEW_STATUSES = "status IN ('pending', 'claimed', 'sent', 'failed')"

Columns = Callable[[], list[sa.Column[Any]]]


def _event_columns() -> list[sa.Column[Any]]:
    """The columns ``inbound_events`` had until 0004."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    ]


def _new_event_columns() -> list[sa.Column[Any]]:
    """What 0005 adds to ``inbound_events`` (``available_at`` aside: it needs a backfill)."""
    return [
        sa.Column("subject", sa.String(length=100), server_default="", nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("question_id", sa.String(length=64), nullable=True),
        sa.Column("target_version", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    ]


def _message_columns() -> list[sa.Column[Any]]:
    """The columns ``outbound_messages`` had until 0004."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _new_message_columns() -> list[sa.Column[Any]]:
    """What 0005 adds to ``outbound_messages``: all NULL or defaulted on the older rows."""
    return [
        sa.Column("method", sa.String(length=64), nullable=True),
        sa.Column("body", BODY, nullable=True),
        sa.Column("lane", sa.Integer(), server_default="1", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("screen_response_id", sa.Integer(), nullable=True),
        sa.Column("screen_participant_id", sa.Integer(), nullable=True),
        sa.Column("screen_round_id", sa.Integer(), nullable=True),
        sa.Column("screen_question_id", sa.String(length=64), nullable=True),
        sa.Column("screen_version", sa.Integer(), nullable=True),
        sa.Column("sent_address", sa.String(length=64), nullable=True),
    ]


def _create_events(columns: list[sa.Column[Any]]) -> None:
    op.create_table(
        "inbound_events",
        *columns,
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint("channel", "key", name=op.f("uq_inbound_events_channel_key")),
    )


def _create_messages(columns: list[sa.Column[Any]], statuses: str) -> None:
    op.create_table(
        "outbound_messages",
        *columns,
        sa.CheckConstraint(statuses, name=op.f("ck_outbound_messages_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
        sa.UniqueConstraint("channel", "key", name=op.f("uq_outbound_messages_channel_key")),
    )


def _rebuild(
    table: str, create: Callable[[], None], *, kept: Sequence[str], copied: dict[str, str]
) -> None:
    """SQLite: set ``table`` aside, ``create`` it anew, copy its rows, drop the old one.

    ``kept`` columns are copied as they are; ``copied`` maps further new columns to the SQL
    expression over the old row that fills them.
    """
    aside = f"_{table}_0005"
    op.rename_table(table, aside)
    create()
    names = [*kept, *copied]
    values = [*kept, *copied.values()]
    op.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM {aside}")
    op.drop_table(aside)


def _processed_index() -> None:
    op.create_index(
        "ix_inbound_events_channel_processed_at", "inbound_events", ["channel", "processed_at"]
    )


def _queue_indexes() -> None:
    op.create_index(
        "ix_inbound_events_channel_subject_id",
        "inbound_events",
        ["channel", "subject", "id"],
        postgresql_where=sa.text(UNPROCESSED),
        sqlite_where=sa.text(UNPROCESSED),
    )
    op.create_index(
        "ix_inbound_events_id",
        "inbound_events",
        ["id"],
        postgresql_where=sa.text(UNPROCESSED),
        sqlite_where=sa.text(UNPROCESSED),
    )
    op.create_index(
        "ix_outbound_messages_channel_lane_id",
        "outbound_messages",
        ["channel", "lane", "id"],
        postgresql_where=sa.text(UNSENT),
        sqlite_where=sa.text(UNSENT),
    )
    op.create_index(
        "ix_outbound_messages_channel_address_id",
        "outbound_messages",
        ["channel", "address", "id"],
        postgresql_where=sa.text(UNSENT),
        sqlite_where=sa.text(UNSENT),
    )
    op.create_index(
        "ix_outbound_messages_status_round_id", "outbound_messages", ["status", "round_id"]
    )


def _names(columns: Columns) -> list[str]:
    return [column.name for column in columns()]


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    if _sqlite():
        # The old tables' indexes go with them when they are set aside and dropped.
        _rebuild(
            "inbound_events",
            lambda: _create_events(
                [
                    *_event_columns(),
                    sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
                    *_new_event_columns(),
                ]
            ),
            kept=_names(_event_columns),
            copied={"available_at": "received_at"},
        )
        _rebuild(
            "outbound_messages",
            lambda: _create_messages([*_message_columns(), *_new_message_columns()], NEW_STATUSES),
            kept=_names(_message_columns),
            copied={},
        )
        _processed_index()
    else:
        for column in _new_event_columns():
            op.add_column("inbound_events", column)
        op.add_column(
            "inbound_events",
            sa.Column("available_at", sa.DateTime(timezone=True), nullable=True),
        )
        op.execute("UPDATE inbound_events SET available_at = received_at")
        op.alter_column(
            "inbound_events",
            "available_at",
            existing_type=sa.DateTime(timezone=True),
            nullable=False,
        )
        for column in _new_message_columns():
            op.add_column("outbound_messages", column)
        op.drop_constraint(op.f("ck_outbound_messages_status"), "outbound_messages", type_="check")
        op.create_check_constraint(
            op.f("ck_outbound_messages_status"), "outbound_messages", NEW_STATUSES
        )
    _queue_indexes()
    op.create_table(
        "live_screens",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("channel", "response_id", name=op.f("pk_live_screens")),
    )
    op.create_index(
        "ix_live_screens_channel_participant_id_shown_at",
        "live_screens",
        ["channel", "participant_id", "shown_at"],
    )
    op.create_index(
        "ix_live_screens_participant_id_shown_at", "live_screens", ["participant_id", "shown_at"]
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes.
    op.drop_table("leases")
    op.drop_table("live_screens")
    op.execute("DELETE FROM outbound_messages WHERE status = 'pending'")
    if _sqlite():
        _rebuild(
            "inbound_events",
            lambda: _create_events(_event_columns()),
            kept=_names(_event_columns),
            copied={},
        )
        _rebuild(
            "outbound_messages",
            lambda: _create_messages(_message_columns(), OLD_STATUSES),
            kept=_names(_message_columns),
            copied={},
        )
        _processed_index()
        return
    for index, table in (
        ("ix_outbound_messages_status_round_id", "outbound_messages"),
        ("ix_outbound_messages_channel_address_id", "outbound_messages"),
        ("ix_outbound_messages_channel_lane_id", "outbound_messages"),
        ("ix_inbound_events_id", "inbound_events"),
        ("ix_inbound_events_channel_subject_id", "inbound_events"),
    ):
        op.drop_index(index, table_name=table)
    op.drop_constraint(op.f("ck_outbound_messages_status"), "outbound_messages", type_="check")
    op.create_check_constraint(
        op.f("ck_outbound_messages_status"), "outbound_messages", OLD_STATUSES
    )
    for column in reversed(_new_message_columns()):
        op.drop_column("outbound_messages", column.name)
    op.drop_column("inbound_events", "available_at")
    for column in reversed(_new_event_columns()):
        op.drop_column("inbound_events", column.name)
