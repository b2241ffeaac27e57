"""Digest runs: each digest sent for a round, with the figures the next one compares with.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

Only adds a table, so SQLite needs no table copy and ``--sql`` (offline) mode works.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_digest_runs_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_runs")),
    )
    op.create_index("ix_digest_runs_round_id_id", "digest_runs", ["round_id", "id"])


def downgrade() -> None:
    # Dropping the table drops its index.
    op.drop_table("digest_runs")
