"""Channels and rounds: identity addresses, enrolment codes, inbox, outbox, round settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Upgrading only adds tables and columns (``ADD COLUMN`` with an inline named ``CHECK``), so
SQLite needs no table copy and ``--sql`` (offline) mode works. Existing rounds get the default
reminder policy (3 days, 1 day, 2 hours before closing) and ``delegation`` attribution.
Downgrading drops columns in batch mode, which SQLite does by copying the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_REMINDER_POLICY = "[4320, 1440, 120]"


def upgrade() -> None:
    op.add_column(
        "participant_identities", sa.Column("address", sa.String(length=64), nullable=True)
    )
    op.add_column(
        "rounds",
        sa.Column(
            "reminder_policy", sa.JSON(), server_default=DEFAULT_REMINDER_POLICY, nullable=False
        ),
    )
    op.add_column(
        "rounds",
        sa.Column(
            "attribution",
            sa.String(length=16),
            sa.CheckConstraint(
                "attribution IN ('named', 'delegation', 'anonymous')",
                name=op.f("ck_rounds_attribution"),
            ),
            server_default="delegation",
            nullable=False,
        ),
    )
    op.create_index("ix_rounds_closed_at_closes_at", "rounds", ["closed_at", "closes_at"])
    op.create_table(
        "enrolment_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_external_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_enrolment_codes_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_enrolment_codes_code_hash")),
    )
    op.create_index(
        "ix_enrolment_codes_participant_id_channel",
        "enrolment_codes",
        ["participant_id", "channel"],
    )
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint("channel", "key", name=op.f("uq_inbound_events_channel_key")),
    )
    op.create_index(
        "ix_inbound_events_channel_processed_at", "inbound_events", ["channel", "processed_at"]
    )
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'failed')", name=op.f("ck_outbound_messages_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
        sa.UniqueConstraint("channel", "key", name=op.f("uq_outbound_messages_channel_key")),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes.
    op.drop_table("outbound_messages")
    op.drop_table("inbound_events")
    op.drop_table("enrolment_codes")
    op.drop_index("ix_rounds_closed_at_closes_at", table_name="rounds")
    with op.batch_alter_table("rounds") as batch_op:
        batch_op.drop_constraint(op.f("ck_rounds_attribution"), type_="check")
        batch_op.drop_column("attribution")
        batch_op.drop_column("reminder_policy")
    with op.batch_alter_table("participant_identities") as batch_op:
        batch_op.drop_column("address")
