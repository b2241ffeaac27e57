"""Scope: the regions an organiser follows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

``participants.regions`` lists, for an organiser, the regions whose delegations they see
(empty: every region). Existing participants follow every region, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "participants",
        sa.Column("regions", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("regions")
