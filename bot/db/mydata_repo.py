"""Everything stored about one person: read it all (/mydata), or delete it all (/forget).

Repositories never commit: the handler's use case owns the transaction. `delete_all` names
every table that holds a person's rows; a test walks the models' metadata to check that no
table keeps one after it ran.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Delivery, DiaryEntry, Dose, Pending, Reminder, TipSubscription, User


class UserDataRepo:
    """Reads and deletes all of one user's rows. Never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the caller's session."""
        self.session = session

    async def user(self, user_id: int) -> User | None:
        """Return the user row, if any."""
        return await self.session.get(User, user_id)

    async def subscription(self, user_id: int) -> TipSubscription | None:
        """Return the user's tip subscription row, if any."""
        stmt = select(TipSubscription).where(TipSubscription.user_id == user_id)
        return await self.session.scalar(stmt)

    async def reminders(self, user_id: int) -> list[Reminder]:
        """Return the user's reminders, oldest first."""
        stmt = select(Reminder).where(Reminder.user_id == user_id).order_by(Reminder.id)
        return list(await self.session.scalars(stmt))

    async def doses(self, user_id: int) -> list[Dose]:
        """Return every answer to the user's reminder messages, oldest first."""
        stmt = (
            select(Dose)
            .join(Reminder, Reminder.id == Dose.reminder_id)
            .where(Reminder.user_id == user_id)
            .order_by(Dose.id)
        )
        return list(await self.session.scalars(stmt))

    async def diary(self, user_id: int) -> list[DiaryEntry]:
        """Return the user's diary, oldest day first."""
        stmt = (
            select(DiaryEntry)
            .where(DiaryEntry.user_id == user_id)
            .order_by(DiaryEntry.local_date, DiaryEntry.id)
        )
        return list(await self.session.scalars(stmt))

    async def deliveries_since(self, user_id: int, since: datetime) -> list[Delivery]:
        """Return the user's scheduled messages due since `since`, oldest first."""
        stmt = (
            select(Delivery)
            .where(Delivery.user_id == user_id, Delivery.due_utc >= since)
            .order_by(Delivery.due_utc, Delivery.id)
        )
        return list(await self.session.scalars(stmt))

    async def delete_all(self, user_id: int) -> dict[str, int]:
        """Delete every row of the user in every table; return the rows deleted per table.

        Children first, so the order holds with or without the database's cascades.
        """
        own_reminders = select(Reminder.id).where(Reminder.user_id == user_id)
        own_deliveries = select(Delivery.id).where(Delivery.user_id == user_id)
        statements = (
            (DiaryEntry.__tablename__, delete(DiaryEntry).where(DiaryEntry.user_id == user_id)),
            (
                Dose.__tablename__,
                delete(Dose).where(
                    or_(
                        Dose.reminder_id.in_(own_reminders),
                        Dose.delivery_id.in_(own_deliveries),
                    )
                ),
            ),
            (Delivery.__tablename__, delete(Delivery).where(Delivery.user_id == user_id)),
            (Reminder.__tablename__, delete(Reminder).where(Reminder.user_id == user_id)),
            (
                TipSubscription.__tablename__,
                delete(TipSubscription).where(TipSubscription.user_id == user_id),
            ),
            (Pending.__tablename__, delete(Pending).where(Pending.user_id == user_id)),
            (User.__tablename__, delete(User).where(User.id == user_id)),
        )
        deleted: dict[str, int] = {}
        for table, statement in statements:
            result = await self.session.execute(statement)
            deleted[table] = int(getattr(result, "rowcount", 0) or 0)
        return deleted
