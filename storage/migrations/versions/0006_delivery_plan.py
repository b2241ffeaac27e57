"""Delivery plan: when each response's invitation and next reminder are due, indexed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

The scheduler's tick reads only what is due (responses whose ``invite_at`` or ``remind_at`` has
come) instead of every delegate of every open round. Existing responses get their plan from
what the outbox already recorded: a response whose invitation was sent is invited (its next
reminder due at once: the tick works out which step, and a step already sent is not enqueued
twice, its key being the same); one not yet invited is due at its round's opening.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "('not_started', 'in_progress')"


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("invite_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("invited_on", sa.String(16), nullable=True))
        batch.add_column(sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
    invitation = (
        "SELECT {column} FROM outbound_messages o "
        "WHERE o.key = 'invite:' || responses.round_id || ':' || responses.participant_id "
        "AND o.status = 'sent' ORDER BY o.id LIMIT 1"
    )
    op.execute(
        f"UPDATE responses SET invited_at = ({invitation.format(column='o.updated_at')}), "
        f"invited_on = ({invitation.format(column='o.channel')}) "
        f"WHERE status IN {WAITING}"
    )
    op.execute(
        "UPDATE responses SET remind_at = invited_at WHERE invited_at IS NOT NULL "
        f"AND status IN {WAITING}"
    )
    op.execute(
        "UPDATE responses SET invite_at = (SELECT r.opens_at FROM rounds r "
        "WHERE r.id = responses.round_id AND r.closed_at IS NULL) "
        f"WHERE invited_at IS NULL AND status IN {WAITING}"
    )
    op.create_index(
        "ix_responses_invite_at",
        "responses",
        ["invite_at"],
        postgresql_where=sa.text("invite_at IS NOT NULL"),
        sqlite_where=sa.text("invite_at IS NOT NULL"),
    )
    op.create_index(
        "ix_responses_remind_at",
        "responses",
        ["remind_at"],
        postgresql_where=sa.text("remind_at IS NOT NULL"),
        sqlite_where=sa.text("remind_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_responses_remind_at", table_name="responses")
    op.drop_index("ix_responses_invite_at", table_name="responses")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("remind_at")
        batch.drop_column("invited_on")
        batch.drop_column("invited_at")
        batch.drop_column("invite_at")
