"""Queries behind the user's schedules: the daily tip, reminders, doses, and /admin counts.

Repositories never commit: the handler's use case owns the transaction. The delivery engine's
own queries (claims, outcomes, snoozes) live in `bot/db/delivery_repo.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Delivery, Dose, Reminder, TipSubscription, User
from bot.domain.rules import Rule
from bot.domain.vocabulary import DeliveryKind, DeliveryStatus, DoseStatus


class SubscriptionRepo:
    """Queries on tip subscriptions (one row per user, active or not)."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the caller's session."""
        self.session = session

    async def for_user(self, user_id: int) -> TipSubscription | None:
        """Return the user's subscription row, if any."""
        stmt = select(TipSubscription).where(TipSubscription.user_id == user_id)
        return await self.session.scalar(stmt)

    async def get_or_create(self, user_id: int, now: datetime) -> TipSubscription:
        """Return the user's row, creating an inactive one (it keeps the tip rotation)."""
        subscription = await self.for_user(user_id)
        if subscription is None:
            subscription = TipSubscription(
                user_id=user_id,
                local_time="09:00",
                active=False,
                next_due_utc=None,
                rotation="",
                cursor=0,
                created_at=now,
            )
            self.session.add(subscription)
            await self.session.flush()
        return subscription

    async def rotation_of(self, subscription_id: int) -> tuple[str, int] | None:
        """Return (rotation, cursor) of a tip subscription."""
        row = (
            await self.session.execute(
                select(TipSubscription.rotation, TipSubscription.cursor).where(
                    TipSubscription.id == subscription_id
                )
            )
        ).first()
        return None if row is None else (row.rotation, row.cursor)

    async def store_rotation(
        self, subscription_id: int, old: tuple[str, int], new: tuple[str, int]
    ) -> bool:
        """Save a new rotation unless it changed meanwhile (a /tip and a daily tip at once)."""
        result = await self.session.execute(
            update(TipSubscription)
            .where(
                TipSubscription.id == subscription_id,
                TipSubscription.rotation == old[0],
                TipSubscription.cursor == old[1],
            )
            .values(rotation=new[0], cursor=new[1])
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def rotations_for_update(
        self, subscription_ids: Sequence[int]
    ) -> dict[int, tuple[str, int]]:
        """Return {id: (rotation, cursor)} of many subscriptions, locked until the commit.

        PostgreSQL locks the rows (a /tip at the same moment waits); on SQLite the caller's
        transaction already holds the write lock (BEGIN IMMEDIATE), so nothing can move them.
        """
        stmt = (
            select(TipSubscription.id, TipSubscription.rotation, TipSubscription.cursor)
            .where(TipSubscription.id.in_(list(subscription_ids)))
            .order_by(TipSubscription.id)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        rows = (await self.session.execute(stmt)).all()
        return {row.id: (row.rotation, row.cursor) for row in rows}

    async def store_rotations(self, rotations: dict[int, tuple[str, int]]) -> None:
        """Save the rotations read with `rotations_for_update` (same transaction)."""
        if not rotations:
            return
        table = cast(Table, TipSubscription.__table__)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(rotation=bindparam("b_rotation"), cursor=bindparam("b_cursor"))
        )
        await self.session.execute(
            stmt,
            [
                {"b_id": sid, "b_rotation": order, "b_cursor": cursor}
                for sid, (order, cursor) in rotations.items()
            ],
        )

    async def count_active(self) -> int:
        """Return how many daily-tip subscriptions are active."""
        stmt = select(func.count()).select_from(TipSubscription).where(TipSubscription.active)
        return int(await self.session.scalar(stmt) or 0)


class ReminderRepo:
    """Queries on supplement reminders."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the caller's session."""
        self.session = session

    async def for_user(self, user_id: int) -> list[Reminder]:
        """Return the user's reminders, by local time then creation."""
        stmt = (
            select(Reminder)
            .where(Reminder.user_id == user_id)
            .order_by(Reminder.local_time, Reminder.id)
        )
        return list(await self.session.scalars(stmt))

    async def owned(self, reminder_id: int, user_id: int) -> Reminder | None:
        """Return the reminder if it exists and belongs to `user_id`, else None."""
        reminder = await self.session.get(Reminder, reminder_id)
        if reminder is None or reminder.user_id != user_id:
            return None
        return reminder

    async def count_for_user(self, user_id: int) -> int:
        """Return how many reminders (active or paused) the user has."""
        stmt = select(func.count()).select_from(Reminder).where(Reminder.user_id == user_id)
        return int(await self.session.scalar(stmt) or 0)

    async def add(
        self,
        user_id: int,
        label: str,
        rule: Rule,
        next_due_utc: datetime | None,
        now: datetime,
    ) -> Reminder:
        """Create an active reminder and return it (with its id)."""
        reminder = Reminder(
            user_id=user_id,
            label=label,
            active=True,
            next_due_utc=next_due_utc,
            per_dose=1,
            created_at=now,
        )
        reminder.rule = rule
        self.session.add(reminder)
        await self.session.flush()
        return reminder

    async def delete(self, reminder: Reminder) -> None:
        """Delete a reminder (its doses go with it)."""
        await self.session.delete(reminder)
        await self.session.flush()

    async def count_by_state(self) -> tuple[int, int]:
        """Return (active, paused) reminder counts over all users."""
        stmt = select(Reminder.active, func.count()).group_by(Reminder.active)
        counts = {bool(active): int(count) for active, count in await self.session.execute(stmt)}
        return counts.get(True, 0), counts.get(False, 0)


class DoseRepo:
    """Answers to reminder messages (taken / skipped / snoozed) and what adherence needs."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the caller's session."""
        self.session = session

    async def delivery(self, delivery_id: int) -> Delivery | None:
        """Return the delivery a reminder button belongs to, if it exists."""
        return await self.session.get(Delivery, delivery_id)

    async def for_delivery(self, delivery_id: int) -> Dose | None:
        """Return the answer already recorded for a reminder message, if any."""
        return await self.session.scalar(select(Dose).where(Dose.delivery_id == delivery_id))

    async def snooze_of(self, delivery_id: int) -> Delivery | None:
        """Return the extra occurrence a snooze of this reminder message created, if any."""
        # A snooze shares the occurrence of the message it snoozes: the whole occurrence key.
        occurrence = (
            select(Delivery.scheduled_utc).where(Delivery.id == delivery_id).scalar_subquery()
        )
        stmt = (
            select(Delivery)
            .where(
                Delivery.scheduled_utc == occurrence,
                Delivery.kind == DeliveryKind.SNOOZE,
                Delivery.item_id == delivery_id,
            )
            .order_by(Delivery.id)
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def add(
        self,
        reminder_id: int,
        delivery_id: int,
        local_date: date,
        status: DoseStatus,
        at: datetime,
    ) -> Dose:
        """Record an answer (the UNIQUE delivery_id refuses a second one)."""
        dose = Dose(
            reminder_id=reminder_id,
            delivery_id=delivery_id,
            local_date=local_date,
            status=status,
            at_utc=at,
        )
        self.session.add(dose)
        await self.session.flush()
        return dose

    async def answers_since(
        self, user_id: int, reminder_id: int, first_day: date
    ) -> list[tuple[date, str]]:
        """Return (local date, status) of the user's answers to a reminder from `first_day` on."""
        stmt = (
            select(Dose.local_date, Dose.status)
            .join(Reminder, Reminder.id == Dose.reminder_id)
            .where(
                Reminder.user_id == user_id,
                Dose.reminder_id == reminder_id,
                Dose.local_date >= first_day,
            )
        )
        return [(day, status) for day, status in await self.session.execute(stmt)]

    async def delivered_days_since(
        self, user_id: int, reminder_id: int, first_day: date
    ) -> set[date]:
        """Return the local dates on which the reminder's message reached this user."""
        stmt = select(Delivery.local_date).where(
            Delivery.user_id == user_id,
            Delivery.kind == DeliveryKind.REMINDER,
            Delivery.reminder_id == reminder_id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.local_date >= first_day,
        )
        return set(await self.session.scalars(stmt))


class AdminStatsRepo:
    """Counts for /admin over the whole bot."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the caller's session."""
        self.session = session

    async def users(self) -> tuple[int, int]:
        """Return (all users, blocked users)."""
        total = await self.session.scalar(select(func.count()).select_from(User))
        blocked = await self.session.scalar(
            select(func.count()).select_from(User).where(User.blocked_at.is_not(None))
        )
        return int(total or 0), int(blocked or 0)
