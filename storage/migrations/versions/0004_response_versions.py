"""Response versions: every change to a response names the version it read.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Two processes answering for the same delegate at once (two ``itinera run`` on one database,
or a double press) both read a response and write it back; the version column lets the second
writer find out that it read a stale state, instead of silently overwriting the first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("version")
