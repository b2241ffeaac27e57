"""Data rights: wrong enrolment codes per channel account, for throttling.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Each wrong code a Telegram account sends is a row; enrolment refuses an account that sent too
many in the last hour, without looking at its code. The retention purge drops old rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrolment_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enrolment_failures"),
    )
    op.create_index(
        "ix_enrolment_failures_channel_external_id_at",
        "enrolment_failures",
        ["channel", "external_id", "at"],
    )


def downgrade() -> None:
    op.drop_index("ix_enrolment_failures_channel_external_id_at", "enrolment_failures")
    op.drop_table("enrolment_failures")
