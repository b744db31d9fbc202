"""diary: food and supplement entries per local day

Revision ID: 007
Revises: 006
Create Date: 2026-12-01 14:40:28.917458
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "007"
down_revision: str | None = "006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "diary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mg", sa.Float(), nullable=False),
        sa.Column("food_id", sa.String(length=64), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.String(length=16), nullable=False),
        sa.Column("dose_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dose_id"], ["doses.id"], name=op.f("fk_diary_dose_id_doses"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_diary_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary")),
        sa.UniqueConstraint("dose_id", name=op.f("uq_diary_dose_id")),
    )
    with op.batch_alter_table("diary", schema=None) as batch_op:
        batch_op.create_index(
            "ix_diary_user_id_local_date", ["user_id", "local_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("diary", schema=None) as batch_op:
        batch_op.drop_index("ix_diary_user_id_local_date")

    op.drop_table("diary")
