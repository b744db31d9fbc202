"""Queries behind the diary: entries per local day, the last one, and reminder answers per day.

Repositories never commit: the handler's use case owns the transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import DiaryEntry, Dose, Reminder


class DiaryRepo:
    """Queries on diary entries. Never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the caller's session."""
        self.session = session

    async def add(
        self,
        user_id: int,
        local_date: date,
        kind: str,
        mg: float,
        now: datetime,
        *,
        food_id: str | None = None,
        label: str = "",
        amount: str = "",
        dose_id: int | None = None,
    ) -> DiaryEntry:
        """Store an entry and return it (with its id)."""
        entry = DiaryEntry(
            user_id=user_id,
            local_date=local_date,
            kind=kind,
            mg=mg,
            food_id=food_id,
            label=label,
            amount=amount,
            dose_id=dose_id,
            created_at=now,
        )
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def on_day(self, user_id: int, day: date) -> list[DiaryEntry]:
        """Return the user's entries for one local day, in the order they were logged."""
        stmt = (
            select(DiaryEntry)
            .where(DiaryEntry.user_id == user_id, DiaryEntry.local_date == day)
            .order_by(DiaryEntry.id)
        )
        return list(await self.session.scalars(stmt))

    async def count_on_day(self, user_id: int, day: date) -> int:
        """Return how many entries the user has for one local day."""
        stmt = (
            select(func.count())
            .select_from(DiaryEntry)
            .where(DiaryEntry.user_id == user_id, DiaryEntry.local_date == day)
        )
        return int(await self.session.scalar(stmt) or 0)

    async def between(self, user_id: int, first: date, last: date) -> list[DiaryEntry]:
        """Return the user's entries from `first` to `last` (local days, both included)."""
        stmt = (
            select(DiaryEntry)
            .where(
                DiaryEntry.user_id == user_id,
                DiaryEntry.local_date >= first,
                DiaryEntry.local_date <= last,
            )
            .order_by(DiaryEntry.local_date, DiaryEntry.id)
        )
        return list(await self.session.scalars(stmt))

    async def owned(self, entry_id: int, user_id: int) -> DiaryEntry | None:
        """Return the entry if it exists and is the user's, else None."""
        entry = await self.session.get(DiaryEntry, entry_id)
        if entry is None or entry.user_id != user_id:
            return None
        return entry

    async def last_since(self, user_id: int, first: date) -> DiaryEntry | None:
        """Return the entry the user logged last, among those dated `first` or later."""
        stmt = (
            select(DiaryEntry)
            .where(DiaryEntry.user_id == user_id, DiaryEntry.local_date >= first)
            .order_by(DiaryEntry.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def for_dose(self, dose_id: int) -> DiaryEntry | None:
        """Return the entry a reminder dose was logged as, if any."""
        return await self.session.scalar(select(DiaryEntry).where(DiaryEntry.dose_id == dose_id))

    async def for_delivery(self, delivery_id: int) -> DiaryEntry | None:
        """Return the entry the answer to a reminder message was logged as, if any."""
        stmt = (
            select(DiaryEntry)
            .join(Dose, Dose.id == DiaryEntry.dose_id)
            .where(Dose.delivery_id == delivery_id)
        )
        return await self.session.scalar(stmt)

    async def delete(self, entry: DiaryEntry) -> None:
        """Delete one entry."""
        await self.session.delete(entry)
        await self.session.flush()

    async def answers_between(
        self, user_id: int, first: date, last: date
    ) -> list[tuple[date, str]]:
        """Return (local date, status) of the user's reminder answers in the window."""
        stmt = (
            select(Dose.local_date, Dose.status)
            .join(Reminder, Reminder.id == Dose.reminder_id)
            .where(Reminder.user_id == user_id, Dose.local_date >= first, Dose.local_date <= last)
        )
        return [(day, status) for day, status in await self.session.execute(stmt)]
