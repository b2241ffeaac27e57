"""Inbound events remember whether typed text came after its screen had moved on.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

A typed message takes the question it answers from the person's live screen when it is
stored. A platform's retry can arrive after the person answered that question another way
(a button): ``moved_on`` records, as the event is stored, that the screen was shown after the
message was written, so it is not applied to a later question.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it): no table copy, and the SQL can be written offline.
    op.add_column(
        "inbound_events",
        sa.Column("moved_on", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("inbound_events") as batch:
        batch.drop_column("moved_on")
