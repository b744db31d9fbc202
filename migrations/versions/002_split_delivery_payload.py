"""split deliveries.payload into label (reminders) and tip_id (tips)

Revision ID: 002
Revises: 001
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "002"
down_revision: str | None = "001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("label", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("tip_id", sa.String(length=32), nullable=True))
    op.execute("UPDATE deliveries SET tip_id = NULLIF(payload, '') WHERE kind = 'tip'")
    op.execute("UPDATE deliveries SET label = payload WHERE kind <> 'tip'")
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("label", server_default=None)
        batch.drop_column("payload")


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("payload", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE deliveries SET payload = COALESCE(tip_id, '') WHERE kind = 'tip'")
    op.execute("UPDATE deliveries SET payload = label WHERE kind <> 'tip'")
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("payload", server_default=None)
        batch.drop_column("tip_id")
        batch.drop_column("label")
