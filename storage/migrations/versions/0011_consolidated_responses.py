"""Consolidated responses: one response per delegation, and who made each answer change.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

``rounds.response_mode`` is ``individual`` (one response per delegate, every existing round) or
``consolidated``. In a consolidated round each delegate keeps a ``responses`` row (invitation,
reminders, screens), and ``holder_id`` points it to the delegation's row that holds the shared
state, answers and version; ``responses.submitted_by`` says who submitted it.
``answer_history.participant_id`` says who made a change. Both are NULL for what was stored
before this revision, and in anonymous rounds. Both are plain integer columns (no
foreign key) so that SQLite adds them in place; responses go with their round.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "rounds",
        sa.Column(
            "response_mode",
            sa.String(length=16),
            sa.CheckConstraint(
                "response_mode IN ('individual', 'consolidated')",
                name=op.f("ck_rounds_response_mode"),
            ),
            server_default="individual",
            nullable=False,
        ),
    )
    op.add_column(
        "responses",
        sa.Column(
            "holder_id",
            sa.Integer(),
            nullable=True,
        ),
    )
    op.create_index("ix_responses_holder_id", "responses", ["holder_id"])
    op.add_column("responses", sa.Column("submitted_by", sa.Integer(), nullable=True))
    op.add_column(
        "answer_history",
        sa.Column(
            "participant_id",
            sa.Integer(),
            nullable=True,
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("answer_history") as batch:
        batch.drop_column("participant_id")
    op.drop_index("ix_responses_holder_id", table_name="responses")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("submitted_by")
        batch.drop_column("holder_id")
    with op.batch_alter_table("rounds") as batch:
        batch.drop_constraint(op.f("ck_rounds_response_mode"), type_="check")
        batch.drop_column("response_mode")
