"""Use cases behind /profile, /log, /today, /undo, /week and a reminder's Taken.

Plain functions over the repositories and the domain. None of them commits: the handler owns
the transaction, so "check the day's count, store the entry" lands together or not at all.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.diary_repo import DiaryRepo
from bot.db.models import DiaryEntry, Dose
from bot.db.repositories import UserRepo
from bot.db.schedule_repo import DoseRepo
from bot.domain.diary import (
    MAX_ENTRIES_PER_DAY,
    DayTotal,
    EntryKind,
    Logged,
    day_total,
    dose_in_label,
)
from bot.domain.profile import Profile, columns_of, profile_from_columns
from bot.domain.vocabulary import DoseStatus
from bot.services.schedules import Answer, Outcome


class TooManyEntries(Exception):
    """The day already holds MAX_ENTRIES_PER_DAY entries."""


# --------------------------------------------------------------------------------------------
# Profile


async def profile_of(session: AsyncSession, user_id: int) -> Profile | None:
    """Return the user's profile, or None (no profile, or an unknown user)."""
    user = await UserRepo(session).get(user_id)
    if user is None:
        return None
    return profile_from_columns(user.age, user.sex, user.life_stage)


async def save_profile(session: AsyncSession, user_id: int, profile: Profile) -> None:
    """Store the user's profile (replacing any earlier one).

    Raises:
        LookupError: If the user does not exist (callers remember the user first).
    """
    user = await UserRepo(session).get(user_id)
    if user is None:
        raise LookupError(f"user {user_id} is not stored")
    user.age, user.sex, user.life_stage = columns_of(profile)


async def clear_profile(session: AsyncSession, user_id: int) -> bool:
    """Remove the user's profile; return False when there was none."""
    user = await UserRepo(session).get(user_id)
    if user is None or user.age is None:
        return False
    user.age = user.sex = user.life_stage = None
    return True


# --------------------------------------------------------------------------------------------
# Entries


def logged_of(entry: DiaryEntry) -> Logged:
    """Return an entry as the domain's sums see it."""
    return Logged(entry.local_date, EntryKind(entry.kind), entry.mg)


@dataclass(frozen=True)
class Day:
    """One local day of the diary: its entries in order, and their sums."""

    day: date
    entries: tuple[DiaryEntry, ...]
    total: DayTotal


async def day_of(session: AsyncSession, user_id: int, day: date) -> Day:
    """Return the user's entries and sums for one local day."""
    entries = await DiaryRepo(session).on_day(user_id, day)
    return Day(day, tuple(entries), day_total(logged_of(e) for e in entries))


async def add_entry(
    session: AsyncSession,
    user_id: int,
    day: date,
    kind: EntryKind,
    mg: float,
    now: datetime,
    *,
    food_id: str | None = None,
    label: str = "",
    amount: str = "",
    dose_id: int | None = None,
) -> DiaryEntry:
    """Store an entry for local day `day`.

    Raises:
        TooManyEntries: When the day already holds MAX_ENTRIES_PER_DAY entries.
    """
    repo = DiaryRepo(session)
    if await repo.count_on_day(user_id, day) >= MAX_ENTRIES_PER_DAY:
        raise TooManyEntries
    return await repo.add(
        user_id,
        day,
        kind.value,
        round(mg, 1),
        now,
        food_id=food_id,
        label=label,
        amount=amount,
        dose_id=dose_id,
    )


async def delete_entry(session: AsyncSession, user_id: int, entry_id: int) -> DiaryEntry | None:
    """Delete the user's entry; return it, or None when it is gone or not theirs."""
    repo = DiaryRepo(session)
    entry = await repo.owned(entry_id, user_id)
    if entry is not None:
        await repo.delete(entry)
    return entry


async def undo_last(session: AsyncSession, user_id: int, since: date) -> DiaryEntry | None:
    """Delete the entry logged last among those dated `since` or later; return it, or None."""
    repo = DiaryRepo(session)
    entry = await repo.last_since(user_id, since)
    if entry is not None:
        await repo.delete(entry)
    return entry


# --------------------------------------------------------------------------------------------
# Taken on a reminder


async def log_taken_dose(
    session: AsyncSession,
    user_id: int,
    delivery_id: int,
    label: str,
    forms: Collection[str],
    now: datetime,
) -> DiaryEntry | None:
    """Log the dose a reminder's label names as a supplement entry, once per answered message.

    The entry is dated like the answer (the local date of the reminder), so the chart's
    supplement bar and its "taken" mark fall on the same day. Returns the entry (the one
    logged before, on a repeated press), or None when the label names no magnesium dose, the
    message has no recorded answer, or the day is full.
    """
    dose = await DoseRepo(session).for_delivery(delivery_id)
    if dose is None:
        return None
    repo = DiaryRepo(session)
    existing = await repo.for_dose(dose.id)
    if existing is not None:
        return existing
    mg = dose_in_label(label, forms)
    if mg is None:
        return None
    try:
        return await add_entry(
            session,
            user_id,
            dose.local_date,
            EntryKind.SUPPLEMENT,
            mg,
            now,
            label=label[:200],
            dose_id=dose.id,
        )
    except TooManyEntries:
        return None


async def diary_for_answer(
    session: AsyncSession,
    user_id: int,
    delivery_id: int,
    answer: Answer,
    forms: Collection[str],
    now: datetime,
) -> DiaryEntry | None:
    """Log the dose of a reminder just answered Taken; for an earlier answer, return its entry.

    Returns None when nothing is (or was) logged for this reminder message.
    """
    if answer.outcome is Outcome.RECORDED and answer.status == DoseStatus.TAKEN:
        return await log_taken_dose(session, user_id, delivery_id, answer.label, forms, now)
    if answer.outcome is Outcome.ALREADY:
        return await entry_for_delivery(session, delivery_id)
    return None


async def entry_for_delivery(session: AsyncSession, delivery_id: int) -> DiaryEntry | None:
    """Return the diary entry the answer to a reminder message was logged as, if any."""
    return await DiaryRepo(session).for_delivery(delivery_id)


async def dose_of_entry(session: AsyncSession, user_id: int, entry_id: int) -> Dose | None:
    """Return the reminder answer the user's entry was logged from, if it came from one."""
    entry = await DiaryRepo(session).owned(entry_id, user_id)
    if entry is None or entry.dose_id is None:
        return None
    return await session.get(Dose, entry.dose_id)


# --------------------------------------------------------------------------------------------
# Charts


async def chart_inputs(
    session: AsyncSession, user_id: int, first: date, last: date
) -> tuple[list[Logged], list[tuple[date, str]]]:
    """Return the entries and the reminder answers of the user from `first` to `last`."""
    repo = DiaryRepo(session)
    entries = [logged_of(e) for e in await repo.between(user_id, first, last)]
    return entries, await repo.answers_between(user_id, first, last)
