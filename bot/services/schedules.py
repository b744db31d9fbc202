"""Use cases behind /timezone, /subscribe, /tip, /remind, /reminders, /stock, /stats, dose buttons.

Plain functions over the repositories and the domain. None of them commits: the handler owns
the transaction, so "change, recompute, record" lands together or not at all. Every schedule
keeps the user's local rule (times of day, days); its `next_due_utc` is always recomputed from
that rule in the user's zone (never shifted by hours), so a zone change or a DST change
cannot drift it, and a rule changed during the day still comes later that day when due.
"""

from __future__ import annotations

import dataclasses
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
from bot.domain.rules import Rule, after_dose, is_spent, next_due
from bot.domain.schedule import next_due_utc
from bot.domain.timeparse import format_local_time, stored_time
from bot.domain.timezones import zone_named
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
    """Store the user's zone and recompute every active schedule from its local rule.

    Local times and days stay what they were. Paused reminders and an inactive subscription
    have no next time; they get one when they are switched on again. A one-off already sent
    keeps waiting for its answer (it would otherwise come again at its time in the new zone).

    Raises:
        LookupError: If the user does not exist (callers remember the user first).
    """
    user = await UserRepo(session).get(user_id)
    if user is None:
        raise LookupError(f"user {user_id} is not stored")
    before = zone_named(user.time_zone)
    user.time_zone = zone.key
    subscription = await SubscriptionRepo(session).for_user(user_id)
    tip = subscription is not None and subscription.active
    if subscription is not None and subscription.active:
        subscription.next_due_utc = next_due_utc(stored_time(subscription.local_time), zone, now)
    moved = 0
    for reminder in await ReminderRepo(session).for_user(user_id):
        rule = reminder.rule
        if not reminder.active or rule is None:
            continue
        due = reminder.next_due_utc
        if rule.once and before is not None and due is not None and is_spent(rule, before, due):
            continue
        reminder.next_due_utc = next_due(rule, zone, now)
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


async def advance_rotations(
    session: AsyncSession,
    subscription_ids: Sequence[int],
    tip_ids: Sequence[str],
    rng: random.Random,
) -> list[str | None]:
    """`advance_rotation` for many daily tips at once: one tip per id, in the same order.

    The rows are locked for the transaction (see `SubscriptionRepo.rotations_for_update`), so
    no compare-and-swap is needed; a /tip at the same moment waits and then moves on from here.
    An id listed twice gets two different tips.
    """
    if not tip_ids or not subscription_ids:
        return [None] * len(subscription_ids)
    repo = SubscriptionRepo(session)
    current = await repo.rotations_for_update(subscription_ids)
    moved: dict[int, tuple[str, int]] = {}
    chosen: list[str | None] = []
    for subscription_id in subscription_ids:
        state = moved.get(subscription_id) or current.get(subscription_id)
        if state is None:
            chosen.append(None)  # the subscription is gone
            continue
        tip_id, order, cursor = next_tip(state[0], state[1], tip_ids, rng)
        moved[subscription_id] = (order, cursor)
        chosen.append(tip_id)
    await repo.store_rotations(moved)
    return chosen


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
    rule: Rule,
    label: str,
    now: datetime,
) -> Reminder:
    """Create a reminder with `rule`, due at its first occurrence.

    Raises:
        TooManyReminders: When the user already has MAX_REMINDERS.
    """
    repo = ReminderRepo(session)
    if await repo.count_for_user(user_id) >= MAX_REMINDERS:
        raise TooManyReminders
    return await repo.add(user_id, label, rule, next_due(rule, zone, now), now)


async def owned_reminder(session: AsyncSession, user_id: int, reminder_id: int) -> Reminder | None:
    """Return the reminder when it exists and is the user's own; None otherwise."""
    return await ReminderRepo(session).owned(reminder_id, user_id)


def pause(reminder: Reminder) -> None:
    """Pause a reminder: no more messages until it is resumed."""
    reminder.active = False
    reminder.next_due_utc = None


def resume(reminder: Reminder, zone: ZoneInfo, now: datetime) -> datetime | None:
    """Resume a reminder from its next local occurrence (no backlog of missed days).

    Returns:
        When it is due next (UTC); None when nothing is left (a course that has ended).
    """
    rule = reminder.rule
    due = None if rule is None else next_due(rule, zone, now)
    reminder.active = True
    reminder.next_due_utc = due
    return due


def change_rule(reminder: Reminder, rule: Rule, zone: ZoneInfo, now: datetime) -> None:
    """Give a reminder a new rule and its next time at once; a paused one stays paused.

    A rule changed during the day still comes later that day: the next time is the rule's
    first occurrence after now, and an occurrence is a new one when its instant is new.
    """
    reminder.rule = rule
    if reminder.active:
        reminder.next_due_utc = next_due(rule, zone, now)


def relabel(reminder: Reminder, label: str) -> None:
    """Give a reminder a new label (the next messages show it)."""
    reminder.label = label


def count_stock(reminder: Reminder, count: int | None, per_dose: int = 1) -> None:
    """Count a reminder's tablets: `count` now and after a refill (None: stop counting)."""
    reminder.stock = count
    reminder.stock_refill = count
    reminder.per_dose = max(1, per_dose)


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
    """The answer stored for one reminder message, and what its reminder is like now."""

    outcome: Outcome
    status: DoseStatus | None = None  # the stored one when ALREADY; None when GONE
    at: datetime | None = None  # when it was recorded
    label: str = ""  # the reminder's label as the message showed it
    snoozed: bool = False  # the message was the extra occurrence a snooze created
    snooze_due: datetime | None = None  # when a snoozed reminder comes back
    occurrence: datetime | None = None  # the occurrence the message was for
    rule: Rule | None = None  # the reminder's rule
    stock: int | None = None  # tablets left after this answer (None: not counted)
    per_dose: int = 1
    removed: bool = False  # the answer ended a one-off: the reminder is gone


async def _snooze_due(session: AsyncSession, delivery_id: int) -> datetime | None:
    """Return when the snooze created from this message is due, if there is one."""
    snooze = await DoseRepo(session).snooze_of(delivery_id)
    return None if snooze is None else snooze.due_utc


async def _message_of(
    session: AsyncSession, user_id: int, delivery_id: int
) -> tuple[Delivery, Reminder] | None:
    """Return the reminder message `delivery_id` and its reminder, if both are the user's."""
    delivery: Delivery | None = await DoseRepo(session).delivery(delivery_id)
    if (
        delivery is None
        or delivery.user_id != user_id
        or delivery.kind not in (DeliveryKind.REMINDER, DeliveryKind.SNOOZE)
        or delivery.reminder_id is None
    ):
        return None
    reminder = await session.get(Reminder, delivery.reminder_id)
    if reminder is None or reminder.user_id != user_id:
        return None
    return delivery, reminder


def _answer(
    outcome: Outcome,
    delivery: Delivery,
    reminder: Reminder,
    status: DoseStatus | None,
    at: datetime | None,
    snooze_due: datetime | None,
    *,
    removed: bool = False,
) -> Answer:
    return Answer(
        outcome=outcome,
        status=status,
        at=at,
        label=delivery.label or reminder.label,
        snoozed=delivery.kind == DeliveryKind.SNOOZE,
        snooze_due=snooze_due,
        occurrence=delivery.scheduled_utc,
        rule=reminder.rule,
        stock=reminder.stock,
        per_dose=reminder.per_dose,
        removed=removed,
    )


async def answer_reminder(
    session: AsyncSession,
    user_id: int,
    delivery_id: int,
    status: DoseStatus,
    now: datetime,
    snooze_minutes: int = 0,
) -> Answer:
    """Record Taken / Skip / Snooze for the reminder message sent as `delivery_id`.

    One answer per message: a second press returns the first answer unchanged. Taken lowers
    a counted stock by one dose. A snooze adds one extra occurrence `snooze_minutes` from now;
    the series does not move. Taken or Skip on a one-off ends it: the reminder is removed.

    Raises:
        ValueError: For an unknown status.
        sqlalchemy.exc.IntegrityError: When a simultaneous press recorded an answer first
            (the caller retries, and then gets ALREADY).
    """
    if status not in list(DoseStatus):
        raise ValueError(f"unknown dose status {status!r}")
    found = await _message_of(session, user_id, delivery_id)
    if found is None:
        return Answer(Outcome.GONE)
    delivery, reminder = found
    doses = DoseRepo(session)
    existing = await doses.for_delivery(delivery_id)
    if existing is not None:
        stored = DoseStatus(existing.status)
        due = await _snooze_due(session, delivery_id) if stored == DoseStatus.SNOOZED else None
        return _answer(Outcome.ALREADY, delivery, reminder, stored, existing.at_utc, due)
    await doses.add(reminder.id, delivery_id, delivery.local_date, status, now)
    due = None
    if status == DoseStatus.SNOOZED:
        snooze = await schedule_snooze(session, delivery_id, snooze_minutes, now)
        due = snooze.due_utc if snooze is not None else await _snooze_due(session, delivery_id)
    if status == DoseStatus.TAKEN:
        reminder.stock = after_dose(reminder.stock, reminder.per_dose)
    answer = _answer(Outcome.RECORDED, delivery, reminder, status, now, due)
    if reminder.once and status != DoseStatus.SNOOZED:
        await ReminderRepo(session).delete(reminder)
        answer = dataclasses.replace(answer, removed=True)
    return answer


@dataclass(frozen=True)
class ShownMessage:
    """A reminder message as it is to be shown again (Show, Refilled)."""

    delivery_id: int
    label: str
    snoozed: bool
    private: bool  # the user hides labels in notifications
    occurrence: datetime
    rule: Rule | None
    stock: int | None
    per_dose: int
    answer: Answer | None  # None: not answered yet


async def shown_message(
    session: AsyncSession, user_id: int, delivery_id: int, *, refill: bool = False
) -> ShownMessage | None:
    """Return the reminder message `delivery_id` as it reads now; None if it is gone.

    With `refill`, the reminder's tablets are counted as refilled first (back to the count
    last given with /stock); nothing changes when they are not counted.
    """
    found = await _message_of(session, user_id, delivery_id)
    if found is None:
        return None
    delivery, reminder = found
    if refill and reminder.stock_refill is not None:
        reminder.stock = reminder.stock_refill
    user = await UserRepo(session).get(user_id)
    existing = await DoseRepo(session).for_delivery(delivery_id)
    answer = None
    if existing is not None:
        stored = DoseStatus(existing.status)
        due = await _snooze_due(session, delivery_id) if stored == DoseStatus.SNOOZED else None
        answer = _answer(Outcome.ALREADY, delivery, reminder, stored, existing.at_utc, due)
    return ShownMessage(
        delivery_id=delivery_id,
        label=delivery.label or reminder.label,
        snoozed=delivery.kind == DeliveryKind.SNOOZE,
        private=user is not None and user.hide_labels,
        occurrence=delivery.scheduled_utc,
        rule=reminder.rule,
        stock=reminder.stock,
        per_dose=reminder.per_dose,
        answer=answer,
    )


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
