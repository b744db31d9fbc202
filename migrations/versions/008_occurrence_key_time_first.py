"""the occurrence key leads with its time

UNIQUE(kind, item_id, scheduled_utc) becomes UNIQUE(scheduled_utc, kind, item_id): the same
columns, so the same rule (one row per occurrence), but every new row now lands at the
index's recent end instead of beside the same schedule's rows of earlier days. With history
in the table the old order made each claim write one scattered index page per row; the new
one keeps the pages a claim touches few and recent, however long the history is.

Revision ID: 008
Revises: 007
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "008"
down_revision: str | None = "007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite rebuilds the table for this: it keeps AUTOINCREMENT (ids are never reused, see 003).
KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("deliveries", table_kwargs=KEEP_AUTOINCREMENT) as batch:
        batch.drop_constraint("uq_deliveries_kind_item_id_scheduled_utc", type_="unique")
        batch.create_unique_constraint(
            "uq_deliveries_scheduled_utc_kind_item_id", ["scheduled_utc", "kind", "item_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", table_kwargs=KEEP_AUTOINCREMENT) as batch:
        batch.drop_constraint("uq_deliveries_scheduled_utc_kind_item_id", type_="unique")
        batch.create_unique_constraint(
            "uq_deliveries_kind_item_id_scheduled_utc", ["kind", "item_id", "scheduled_utc"]
        )
