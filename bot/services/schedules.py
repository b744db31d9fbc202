"""Use cases behind /timezone, /subscribe, /tip, /remind, /reminders, /stats and dose buttons.

Plain functions over the repositories and the domain. None of them commits: the handler owns
the transaction, so "change, recompute, record" lands together or not at all. Every schedule
keeps the user's local "HH:MM"; its `next_due_utc` is always recomputed from that local time
in the user's zone (never shifted by hours), so a zone change or a DST change cannot drift it.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.delivery_repo import DeliveryRepo, NewDelivery
from bot.db.models import Delivery, Reminder, TipSubscription
from bot.db.repositories import UserRepo
from bot.db.schedule_repo import DoseRepo, ReminderRepo, SubscriptionRepo
from bot.domain.adherence import MONTH_DAYS, Adherence, compute_adherence
from bot.domain.schedule import next_due_utc
from bot.domain.timeparse import format_local_time, stored_time
from bot.domain.tips import next_tip
from bot.domain.vocabulary import DeliveryKind, DeliveryStatus, DoseStatus

MAX_REMINDERS = 10
DEFAULT_TIP_TIME = time(9, 0)


class TooManyReminders(Exception):
    """The user already has MAX_REMINDERS reminders."""


# --------------------------------------------------------------------------------------------
# Time zone


@dataclass(frozen=True)
class Rescheduled:
    """What a zone change moved: the daily tip (if active) and how many active reminders."""

    tip: bool
    reminders: int


async def set_zone(
    session: AsyncSession, user_id: int, zone: ZoneInfo, now: datetime
) -> Rescheduled:
    """Store the user's zone and recompute every active schedule from its local time.

    Paused reminders and an inactive subscription have no next time; they get one when they
    are switched on again.

    Raises:
        LookupError: If the user does not exist (callers remember the user first).
    """
    user = await UserRepo(session).get(user_id)
    if user is None:
        raise LookupError(f"user {user_id} is not stored")
    user.time_zone = zone.key
    subscription = await SubscriptionRepo(session).for_user(user_id)
    tip = subscription is not None and subscription.active
    if subscription is not None and subscription.active:
        subscription.next_due_utc = next_due_utc(stored_time(subscription.local_time), zone, now)
    moved = 0
    for reminder in await ReminderRepo(session).for_user(user_id):
        if reminder.active:
            reminder.next_due_utc = next_due_utc(stored_time(reminder.local_time), zone, now)
            moved += 1
    return Rescheduled(tip=tip, reminders=moved)


# --------------------------------------------------------------------------------------------
# Daily tip


@dataclass(frozen=True)
class Subscribed:
    """The result of /subscribe: the row, and the time it had when it was already active."""

    subscription: TipSubscription
    previous_time: str | None  # None: it was not active before


async def subscription_of(session: AsyncSession, user_id: int) -> TipSubscription | None:
    """Return the user's tip subscription row (active or not), if any."""
    return await SubscriptionRepo(session).for_user(user_id)


async def subscribe(
    session: AsyncSession, user_id: int, zone: ZoneInfo, at: time, now: datetime
) -> Subscribed:
    """Switch the daily tip on at local time `at` (or move it there); keep the rotation."""
    subscription = await SubscriptionRepo(session).get_or_create(user_id, now)
    previous = subscription.local_time if subscription.active else None
    subscription.local_time = format_local_time(at)
    subscription.active = True
    subscription.next_due_utc = next_due_utc(at, zone, now)
    return Subscribed(subscription, previous)


async def unsubscribe(session: AsyncSession, user_id: int) -> bool:
    """Switch the daily tip off; return False when it was not on."""
    subscription = await SubscriptionRepo(session).for_user(user_id)
    if subscription is None or not subscription.active:
        return False
    subscription.active = False
    subscription.next_due_utc = None
    return True


async def draw_tip(
    session: AsyncSession,
    user_id: int,
    tip_ids: Sequence[str],
    rng: random.Random,
    now: datetime,
) -> tuple[str, TipSubscription]:
    """Take the user's next tip from their own rotation (shared with the daily tip).

    A user without a subscription gets an inactive row that only keeps the rotation.

    Returns:
        (tip id, the subscription row).
    """
    subscription = await SubscriptionRepo(session).get_or_create(user_id, now)
    tip_id = await advance_rotation(session, subscription.id, tip_ids, rng)
    if tip_id is None:  # the row was created above, so only an empty tip list gets here
        raise ValueError("there are no tips")
    return tip_id, subscription


async def advance_rotation(
    session: AsyncSession, subscription_id: int, tip_ids: Sequence[str], rng: random.Random
) -> str | None:
    """Move a subscription's rotation on by one tip and return that tip (None: no tips, or no
    such subscription).

    The only way the rotation moves, for /tip and for the daily tip alike: compare-and-swap,
    so two at the same moment never show the same tip twice; the loser reads it again.
    """
    if not tip_ids:
        return None
    repo = SubscriptionRepo(session)
    tip_id: str | None = None
    for _ in range(3):
        current = await repo.rotation_of(subscription_id)
        if current is None:
            return None
        tip_id, order, cursor = next_tip(current[0], current[1], tip_ids, rng)
        if await repo.store_rotation(subscription_id, current, (order, cursor)):
            break  # else another send moved it at the same moment: read it again
    return tip_id


# --------------------------------------------------------------------------------------------
# Reminders


async def reminders_of(session: AsyncSession, user_id: int) -> list[Reminder]:
    """Return the user's reminders in the order they are listed."""
    return await ReminderRepo(session).for_user(user_id)


async def reminder_count(session: AsyncSession, user_id: int) -> int:
    """Return how many reminders the user has."""
    return await ReminderRepo(session).count_for_user(user_id)


async def add_reminder(
    session: AsyncSession,
    user_id: int,
    zone: ZoneInfo,
    at: time,
    label: str,
    now: datetime,
) -> Reminder:
    """Create a daily reminder at local time `at`.

    Raises:
        TooManyReminders: When the user already has MAX_REMINDERS.
    """
    repo = ReminderRepo(session)
    if await repo.count_for_user(user_id) >= MAX_REMINDERS:
        raise TooManyReminders
    return await repo.add(user_id, label, format_local_time(at), next_due_utc(at, zone, now), now)


async def owned_reminder(session: AsyncSession, user_id: int, reminder_id: int) -> Reminder | None:
    """Return the reminder when it exists and is the user's own; None otherwise."""
    return await ReminderRepo(session).owned(reminder_id, user_id)


def pause(reminder: Reminder) -> None:
    """Pause a reminder: no more messages until it is resumed."""
    reminder.active = False
    reminder.next_due_utc = None


def resume(reminder: Reminder, zone: ZoneInfo, now: datetime) -> datetime:
    """Resume a reminder from its next local time (no backlog of missed days).

    Returns:
        When it is due next (UTC).
    """
    due = next_due_utc(stored_time(reminder.local_time), zone, now)
    reminder.active = True
    reminder.next_due_utc = due
    return due


def retime(reminder: Reminder, at: time, zone: ZoneInfo, now: datetime) -> None:
    """Move a reminder to local time `at`; a paused one stays paused."""
    reminder.local_time = format_local_time(at)
    if reminder.active:
        reminder.next_due_utc = next_due_utc(at, zone, now)


async def delete_reminder(session: AsyncSession, reminder: Reminder) -> None:
    """Delete a reminder with its recorded doses."""
    await ReminderRepo(session).delete(reminder)


# --------------------------------------------------------------------------------------------
# Answers to reminder messages


class Outcome(enum.Enum):
    """What pressing Taken / Skip / Snooze did."""

    RECORDED = "recorded"
    ALREADY = "already"  # this message was answered before: nothing changed
    GONE = "gone"  # no such reminder message for this user (deleted, forged or not a reminder)


@dataclass(frozen=True)
class Answer:
    """The answer stored for one reminder message."""

    outcome: Outcome
    status: DoseStatus | None = None  # the stored one when ALREADY; None when GONE
    at: datetime | None = None  # when it was recorded
    label: str = ""  # the reminder's label as the message showed it
    snoozed: bool = False  # the message was the extra occurrence a snooze created
    snooze_due: datetime | None = None  # when a snoozed reminder comes back


async def _snooze_due(session: AsyncSession, delivery_id: int) -> datetime | None:
    """Return when the snooze created from this message is due, if there is one."""
    snooze = await DoseRepo(session).snooze_of(delivery_id)
    return None if snooze is None else snooze.due_utc


async def answer_reminder(
    session: AsyncSession,
    user_id: int,
    delivery_id: int,
    status: DoseStatus,
    now: datetime,
    snooze_minutes: int = 0,
) -> Answer:
    """Record Taken / Skip / Snooze for the reminder message sent as `delivery_id`.

    One answer per message: a second press returns the first answer unchanged. A snooze adds
    one extra occurrence `snooze_minutes` from now; the daily series does not move.

    Raises:
        ValueError: For an unknown status.
        sqlalchemy.exc.IntegrityError: When a simultaneous press recorded an answer first
            (the caller retries, and then gets ALREADY).
    """
    if status not in list(DoseStatus):
        raise ValueError(f"unknown dose status {status!r}")
    doses = DoseRepo(session)
    delivery: Delivery | None = await doses.delivery(delivery_id)
    if (
        delivery is None
        or delivery.user_id != user_id
        or delivery.kind not in (DeliveryKind.REMINDER, DeliveryKind.SNOOZE)
        or delivery.reminder_id is None
    ):
        return Answer(Outcome.GONE)
    reminder = await session.get(Reminder, delivery.reminder_id)
    if reminder is None or reminder.user_id != user_id:
        return Answer(Outcome.GONE)
    label = delivery.label or reminder.label
    snoozed = delivery.kind == DeliveryKind.SNOOZE
    existing = await doses.for_delivery(delivery_id)
    if existing is not None:
        stored = DoseStatus(existing.status)
        due = await _snooze_due(session, delivery_id) if stored == DoseStatus.SNOOZED else None
        return Answer(Outcome.ALREADY, stored, existing.at_utc, label, snoozed, due)
    await doses.add(reminder.id, delivery_id, delivery.local_date, status, now)
    due = None
    if status == DoseStatus.SNOOZED:
        snooze = await schedule_snooze(session, delivery_id, snooze_minutes, now)
        due = snooze.due_utc if snooze is not None else await _snooze_due(session, delivery_id)
    return Answer(Outcome.RECORDED, status, now, label, snoozed, due)


async def schedule_snooze(
    session: AsyncSession, delivery_id: int, minutes: int, now: datetime
) -> Delivery | None:
    """Schedule one extra occurrence of a reminder, `minutes` from now.

    The series is unchanged. The snooze is a delivery of kind SNOOZE whose item is the snoozed
    delivery, so a repeated press (or a second button on the same message) finds that
    occurrence taken and creates nothing.

    Returns:
        The new snooze delivery; None when that message was snoozed already, or when
        `delivery_id` is not a reminder (or snooze) delivery.
    """
    original = await session.get(Delivery, delivery_id)
    kinds = (DeliveryKind.REMINDER, DeliveryKind.SNOOZE)
    if original is None or original.kind not in kinds or minutes <= 0:
        return None
    new_id = await DeliveryRepo(session).insert_snooze(
        NewDelivery(
            kind=DeliveryKind.SNOOZE,
            item_id=original.id,
            user_id=original.user_id,
            chat_id=original.chat_id,
            local_date=original.local_date,
            scheduled_utc=original.scheduled_utc,  # one snooze per message
            due_utc=now + timedelta(minutes=minutes),
            status=DeliveryStatus.SCHEDULED,
            claimed_by=None,  # nobody holds it until it is due
            reminder_id=original.reminder_id,
            label=original.label,
        )
    )
    if new_id is None:
        return None
    return await session.get(Delivery, new_id)


# --------------------------------------------------------------------------------------------
# Adherence


@dataclass(frozen=True)
class ReminderStats:
    """Adherence for one reminder."""

    reminder: Reminder
    adherence: Adherence


async def reminder_stats(session: AsyncSession, user_id: int, today: date) -> list[ReminderStats]:
    """Return 7- and 30-day adherence and the streak of each of the user's reminders.

    A day counts as due when the reminder message reached the user that day, or when the
    user answered one (a message delivered before its status was recorded still counts).
    """
    first_day = today - timedelta(days=MONTH_DAYS - 1)
    doses = DoseRepo(session)
    result = []
    for reminder in await ReminderRepo(session).for_user(user_id):
        answers = await doses.answers_since(user_id, reminder.id, first_day)
        due = await doses.delivered_days_since(user_id, reminder.id, first_day)
        due |= {day for day, status in answers if status in (DoseStatus.TAKEN, DoseStatus.SKIPPED)}
        result.append(ReminderStats(reminder, compute_adherence(answers, due, today)))
    return result
