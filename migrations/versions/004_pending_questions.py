"""pending: the questions the bot waits for an answer to, so a restart keeps them

Revision ID: 004
Revises: 003
Create Date: 2026-12-01 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "004"
down_revision: str | None = "003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pending_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending")),
        sa.UniqueConstraint("user_id", "kind", "key", name=op.f("uq_pending_user_id_kind_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("pending") as batch:
        batch.create_index(batch.f("ix_pending_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pending") as batch:
        batch.drop_index(batch.f("ix_pending_user_id"))
    op.drop_table("pending")
