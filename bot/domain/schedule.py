"""When daily messages are due, in UTC, for a wall-clock time in a user's zone.

Every occurrence is computed from a local calendar date (never by adding 24 hours), so
daylight-saving changes, half-hour zones and zones whose rules changed are all handled by
the zone database:

* a local time that does not exist (the spring-forward gap) fires at the first valid moment
  after it, i.e. when the clocks jump (02:30 on the Berlin spring-forward day fires at 03:00);
* a local time that exists twice (fall back) fires once, at its first occurrence.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.vocabulary import DeliveryKind

TIP_BUDGET = timedelta(hours=2)
"""A daily tip that cannot be sent within this time of its due time is dropped."""

REMINDER_BUDGET = timedelta(hours=6)
"""A reminder (or snoozed reminder) older than this is dropped instead of sent."""

LATE_NOTICE = timedelta(minutes=5)
"""A message sent more than this after its due time says that it is late."""

_BUDGETS: dict[str, timedelta] = {
    DeliveryKind.TIP: TIP_BUDGET,
    DeliveryKind.REMINDER: REMINDER_BUDGET,
    DeliveryKind.SNOOZE: REMINDER_BUDGET,
}

_ONE_SECOND = timedelta(seconds=1)
_ONE_DAY = timedelta(days=1)


def _require_aware(moment: datetime, name: str) -> None:
    """Raise if a datetime has no UTC offset."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def _wall_time(at: time) -> time:
    """Return `at` as a naive wall-clock time, rejecting times with a zone attached."""
    if at.tzinfo is not None:
        raise ValueError(f"the local time must be naive, got {at!r}")
    return at.replace(fold=0)


def _local_reading(instant: datetime, tz: ZoneInfo) -> datetime:
    """Return what a wall clock in `tz` shows at `instant`, as a naive datetime."""
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def _first_reading_at_or_after(
    wanted: datetime, lo: datetime, hi: datetime, tz: ZoneInfo
) -> datetime:
    """Find the first whole-second instant in (lo, hi] when the clock in `tz` reads `wanted`+.

    The caller guarantees that the clock reads earlier than `wanted` at `lo` and `wanted` or
    later at `hi`, with one forward jump in between. Zone transitions happen on whole seconds,
    so a bisection over whole seconds finds the jump exactly.
    """
    lo = lo.replace(microsecond=0)
    steps = math.ceil((hi - lo) / _ONE_SECOND)
    low, high = 0, steps  # reading at lo + low seconds < wanted <= reading at lo + high
    while high - low > 1:
        middle = (low + high) // 2
        if _local_reading(lo + middle * _ONE_SECOND, tz) >= wanted:
            high = middle
        else:
            low = middle
    return lo + high * _ONE_SECOND


def _round_up_to_local_minute(instant: datetime, tz: ZoneInfo) -> datetime:
    """Move `instant` forward so that the clock in `tz` shows a whole minute."""
    reading = _local_reading(instant, tz)
    extra = timedelta(seconds=reading.second, microseconds=reading.microsecond)
    return instant if not extra else instant + (timedelta(minutes=1) - extra)


def occurrence_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Return the UTC instant at which `at` on the local date `day` fires in `tz`.

    Args:
        day: The local calendar date.
        at: The naive local wall-clock time.
        tz: The user's zone.

    Returns:
        An aware UTC datetime: the first occurrence of that local time, or the moment the
        clocks jump past it when it does not exist.
    """
    wanted = datetime.combine(day, _wall_time(at))
    first = wanted.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _local_reading(first, tz) == wanted:
        return first  # exists (if it exists twice, fold=0 is the earlier one)
    # In a gap: fold=1 reads the time with the offset after the jump, fold=0 with the offset
    # before it, so the jump lies between the two readings.
    before_jump = wanted.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = sorted((before_jump, first))
    jump = _first_reading_at_or_after(wanted, lo, hi, tz)
    return _round_up_to_local_minute(jump, tz)


def next_due_utc(at: time, tz: ZoneInfo, after: datetime) -> datetime:
    """Return the first UTC instant strictly after `after` when the clock in `tz` reads `at`.

    Args:
        at: The naive local wall-clock time (for example 09:00).
        tz: The user's zone.
        after: An aware datetime; the result is strictly later than it.

    Returns:
        An aware UTC datetime. A local time that does not exist that day fires when the
        clocks jump past it; a local time that exists twice fires at its first occurrence.

    Raises:
        ValueError: If `after` is naive or `at` carries a zone.
    """
    _require_aware(after, "after")
    after_utc = after.astimezone(UTC)
    # Start a day early: a gap-shifted occurrence of the previous date can fall after `after`.
    day = after_utc.astimezone(tz).date() - _ONE_DAY
    while True:
        due = occurrence_utc(day, at, tz)
        if due > after_utc:
            return due
        day += _ONE_DAY


def local_date_of(due_utc: datetime, tz: ZoneInfo, at: time) -> date:
    """Return the local calendar date whose `at` produced the occurrence `due_utc`.

    This is normally the local date of `due_utc`; for an occurrence moved forward out of a
    gap that crosses midnight it is the date before.

    Args:
        due_utc: An occurrence, as returned by `next_due_utc`.
        tz: The user's zone.
        at: The local wall-clock time the occurrence was computed for.

    Returns:
        The date the occurrence belongs to (the local date of `due_utc` if it is not an
        occurrence of `at` at all).

    Raises:
        ValueError: If `due_utc` is naive.
    """
    _require_aware(due_utc, "due_utc")
    due = due_utc.astimezone(UTC)
    own_date = due.astimezone(tz).date()
    for day in (own_date, own_date - _ONE_DAY, own_date - 2 * _ONE_DAY):
        if occurrence_utc(day, at, tz) == due:
            return day
    return own_date


def lateness(due_utc: datetime, now: datetime) -> timedelta:
    """Return how long after its due time `now` is (negative when `now` is earlier).

    Raises:
        ValueError: If either datetime is naive.
    """
    _require_aware(due_utc, "due_utc")
    _require_aware(now, "now")
    return now - due_utc


def budget_for(kind: str) -> timedelta:
    """Return how late a delivery of `kind` (a `DeliveryKind`) may still be sent.

    Raises:
        ValueError: For an unknown kind.
    """
    try:
        return _BUDGETS[kind]
    except KeyError:
        raise ValueError(f"unknown delivery kind {kind!r}") from None


def is_expired(kind: str, due_utc: datetime, now: datetime) -> bool:
    """Return True if a delivery of `kind` due at `due_utc` is too late to send at `now`."""
    return lateness(due_utc, now) > budget_for(kind)


def is_late(due_utc: datetime, now: datetime) -> bool:
    """Return True if a message sent at `now` is late enough to say so (over LATE_NOTICE)."""
    return lateness(due_utc, now) > LATE_NOTICE


def utc_midnight(moment: datetime) -> datetime:
    """Return the start of the UTC day containing `moment`."""
    day = moment.astimezone(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
