"""reminder rules (days of the week, every N days, courses, one-offs), stock and privacy

- reminders.local_time holds up to four times ("08:00,20:00"); weekdays (a mask, bit 0
  Monday), every_days, anchor_date, until_date and once complete the rule. The server
  defaults make every existing row what it was: one time, every day, no end.
- reminders.stock / stock_refill / per_dose: an optional tablet count.
- users.hide_labels: reminder notifications without the label.

Revision ID: 006
Revises: 005
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "006"
down_revision: str | None = "005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVERY_DAY = "127"  # the days-of-week mask with all seven bits set


def _reminders_batch():
    """Alter reminders; SQLite recreates the table, which must keep AUTOINCREMENT (see 003)."""
    if op.get_context().dialect.name == "sqlite":
        return op.batch_alter_table("reminders", table_kwargs={"sqlite_autoincrement": True})
    return op.batch_alter_table("reminders")


def upgrade() -> None:
    with _reminders_batch() as batch:
        batch.alter_column(
            "local_time",
            existing_type=sa.String(length=5),
            type_=sa.String(length=23),
            existing_nullable=False,
        )
        batch.add_column(
            sa.Column("weekdays", sa.Integer(), nullable=False, server_default=EVERY_DAY)
        )
        batch.add_column(sa.Column("every_days", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("anchor_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("until_date", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("once", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("stock", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("stock_refill", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("per_dose", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("hide_labels", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("hide_labels")
    # A reminder with several times keeps its first one; the rest of the rule is dropped.
    op.execute("UPDATE reminders SET local_time = substr(local_time, 1, 5)")
    with _reminders_batch() as batch:
        for column in (
            "per_dose",
            "stock_refill",
            "stock",
            "once",
            "until_date",
            "anchor_date",
            "every_days",
            "weekdays",
        ):
            batch.drop_column(column)
        batch.alter_column(
            "local_time",
            existing_type=sa.String(length=23),
            type_=sa.String(length=5),
            existing_nullable=False,
        )
