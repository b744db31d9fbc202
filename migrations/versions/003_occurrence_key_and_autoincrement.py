"""a delivery is keyed by its occurrence; ids are never reused

- deliveries.scheduled_utc: the occurrence's instant. UNIQUE(kind, item_id, scheduled_utc)
  replaces UNIQUE(kind, item_id, local_date), so a schedule moved to later the same day is
  sent again while one occurrence is still never claimed twice.
- SQLite: AUTOINCREMENT on every table whose ids other rows name (PostgreSQL's sequences
  never reuse ids already).

Revision ID: 003
Revises: 002
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "003"
down_revision: str | None = "002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTOINCREMENT = ("tip_subscriptions", "reminders", "deliveries", "doses")


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("scheduled_utc", sa.DateTime(timezone=True), nullable=True))
    # Old rows: their due time is the occurrence (a snooze had one per local date anyway).
    op.execute("UPDATE deliveries SET scheduled_utc = due_utc")
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column(
            "scheduled_utc", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch.drop_constraint("uq_deliveries_kind_item_id_local_date", type_="unique")
        batch.create_unique_constraint(
            "uq_deliveries_kind_item_id_scheduled_utc", ["kind", "item_id", "scheduled_utc"]
        )
    if _sqlite():
        for table in AUTOINCREMENT:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass


def downgrade() -> None:
    if _sqlite():
        for table in AUTOINCREMENT:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
            ):
                pass
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_kind_item_id_scheduled_utc", type_="unique")
        batch.create_unique_constraint(
            "uq_deliveries_kind_item_id_local_date", ["kind", "item_id", "local_date"]
        )
        batch.drop_column("scheduled_utc")
