"""Ballots: the answers of anonymous rounds, kept apart from who gave them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

When a delegate submits in an anonymous round, the answers move from ``answers`` (keyed by the
response) into a ``ballots`` row with a random id, no time and no column naming a participant,
a delegation or a response, and its ``ballot_answers``. Existing rounds are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSON on PostgreSQL; TEXT on SQLite, as ``answers.value`` (see 0001).
ANSWER_VALUE = sa.JSON(none_as_null=True).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ballots",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_ballots_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballots")),
    )
    op.create_index("ix_ballots_round_id_id", "ballots", ["round_id", "id"])
    op.create_table(
        "ballot_answers",
        sa.Column("ballot_id", sa.String(32), nullable=False),
        sa.Column("question_id", sa.String(64), nullable=False),
        sa.Column("value", ANSWER_VALUE, nullable=True),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballots.id"],
            name=op.f("fk_ballot_answers_ballot_id_ballots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ballot_id", "question_id", name=op.f("pk_ballot_answers")),
    )


def downgrade() -> None:
    op.drop_table("ballot_answers")
    op.drop_index("ix_ballots_round_id_id", table_name="ballots")
    op.drop_table("ballots")
