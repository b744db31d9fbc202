"""Reminder rules: on which local days and at which local times a reminder comes.

A rule is local to the user's calendar: one to four times of day, on every day, on some days
of the week, or every N days counted from a first local date; a course ends after its last
local date; a one-off comes once. Only `schedule.occurrence_utc` turns a local date and time
into an instant, so every rule keeps the DST rules of `bot/domain/schedule.py` (a time that
does not exist fires when the clocks jump past it, a repeated time fires once, at the first).

`next_due` is what the dispatcher stores in `reminders.next_due_utc`: the next occurrence,
or, for a one-off whose time has passed, the moment it is removed (ONE_OFF_KEEP later, so it
can still be answered until then). A daily rule with one time gives exactly the instants
`schedule.next_due_utc` gives, which is what every reminder was before rules existed.

Stock is counted here too: how many days a tablet count lasts under a rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.domain.schedule import next_due_utc, occurrence_utc
from bot.domain.timeparse import format_local_time, parse_local_time

MONDAY, SUNDAY = 0, 6
EVERY_DAY = 0b111_1111
"""The days-of-week mask of a rule: bit 0 is Monday, bit 6 Sunday."""
WORKDAYS = 0b001_1111  # Monday to Friday
WEEKENDS = 0b110_0000  # Saturday and Sunday

MAX_TIMES = 4
"""Times of day one reminder can have."""
MIN_EVERY, MAX_EVERY = 2, 30
"""The N of "every N days"."""
MAX_COURSE_DAYS = 366
"""The longest "for N days" course."""
MAX_AHEAD = timedelta(days=3660)
"""How far ahead a date may be (a one-off, the end of a course): about ten years."""
ONE_OFF_KEEP = timedelta(days=1)
"""A one-off stays this long after its time, so it can still be answered; then it is removed."""
LOW_STOCK_DAYS = 7
"""A stock that lasts this many days or fewer is low: the reminder says so."""

_ONE_DAY = timedelta(days=1)


class RuleKind(StrEnum):
    """What sort of series a rule is (a course is any recurring kind with an end)."""

    DAILY = "daily"
    WEEKDAYS = "weekdays"  # some days of the week
    INTERVAL = "interval"  # every N days
    ONE_OFF = "once"


def day_bit(day: date) -> int:
    """Return the mask bit of a date's day of the week."""
    return 1 << day.weekday()


@dataclass(frozen=True, slots=True)
class Rule:
    """When a reminder comes, in the user's own calendar.

    Attributes:
        times: The local times of day, sorted, distinct, whole minutes (1 to MAX_TIMES).
        weekdays: The days of the week it comes on (a mask: bit 0 Monday .. bit 6 Sunday).
        every: Every N local days, counted from `anchor` (1: every day).
        anchor: The first local date of an every-N-days series; the date of a one-off.
        until: The last local date of a course (inclusive); None: no end.
        once: A one-off: one occurrence, on `anchor` at `times[0]`.

    Raises:
        ValueError: For an impossible combination (it never comes from the parser).
    """

    times: tuple[time, ...]
    weekdays: int = EVERY_DAY
    every: int = 1
    anchor: date | None = None
    until: date | None = None
    once: bool = False

    def __post_init__(self) -> None:
        """Refuse rules that would not mean anything."""
        if not 1 <= len(self.times) <= MAX_TIMES:
            raise ValueError(f"a rule has 1 to {MAX_TIMES} times, not {len(self.times)}")
        if list(self.times) != sorted(set(self.times)):
            raise ValueError("times must be sorted and distinct")
        for at in self.times:
            if at.tzinfo is not None or at.second or at.microsecond or at.fold:
                raise ValueError(f"times are naive whole minutes, not {at!r}")
        if not 0 < self.weekdays <= EVERY_DAY:
            raise ValueError(f"no days of the week in mask {self.weekdays}")
        if not 1 <= self.every <= MAX_EVERY:
            raise ValueError(f"every {self.every} days is out of range")
        if (self.anchor is not None) != (self.every > 1 or self.once):
            raise ValueError("an anchor belongs to every-N-days rules and one-offs only")
        if self.every > 1 and self.weekdays != EVERY_DAY:
            raise ValueError("every N days does not go with days of the week")
        if self.once and (len(self.times) > 1 or self.every > 1 or self.weekdays != EVERY_DAY):
            raise ValueError("a one-off has one time on one date")
        if self.once and self.until is not None:
            raise ValueError("a one-off has no course")

    @property
    def kind(self) -> RuleKind:
        """Return what sort of series this is."""
        if self.once:
            return RuleKind.ONE_OFF
        if self.every > 1:
            return RuleKind.INTERVAL
        if self.weekdays != EVERY_DAY:
            return RuleKind.WEEKDAYS
        return RuleKind.DAILY

    @property
    def is_plain_daily(self) -> bool:
        """Return True for one time every day without an end (every reminder before rules)."""
        return self.kind is RuleKind.DAILY and len(self.times) == 1 and self.until is None

    def fires_on(self, day: date) -> bool:
        """Return True if the rule comes on the local date `day`."""
        if self.once:
            return day == self.anchor
        if self.until is not None and day > self.until:
            return False
        if self.every > 1:
            assert self.anchor is not None
            offset = (day - self.anchor).days
            return offset >= 0 and offset % self.every == 0
        return bool(self.weekdays & day_bit(day))

    def first_day_from(self, day: date) -> date | None:
        """Return the first local date on or after `day` that the rule comes on, if any."""
        if self.once:
            assert self.anchor is not None
            return self.anchor if day <= self.anchor else None
        if self.every > 1:
            assert self.anchor is not None
            if day <= self.anchor:
                found = self.anchor
            else:
                found = day + (-(day - self.anchor).days % self.every) * _ONE_DAY
        else:
            found = day
            while not self.weekdays & day_bit(found):
                found += _ONE_DAY
        if self.until is not None and found > self.until:
            return None
        return found

    def doses_per_day(self) -> float:
        """Return how many times a day it comes, on average (0 for a one-off)."""
        if self.once:
            return 0.0
        days_a_week = self.weekdays.bit_count()
        return len(self.times) * days_a_week / 7 / self.every

    @property
    def times_text(self) -> str:
        """Return the times as stored: "08:00" or "08:00,20:00"."""
        return ",".join(format_local_time(at) for at in self.times)


def daily(at: time) -> Rule:
    """Return the rule "every day at `at`"."""
    return Rule((at.replace(second=0, microsecond=0, fold=0),))


@lru_cache(maxsize=8192)  # the dispatcher builds one for every due row
def rule_from_columns(
    times: str,
    weekdays: int = EVERY_DAY,
    every: int = 1,
    anchor: date | None = None,
    until: date | None = None,
    once: bool = False,
) -> Rule | None:
    """Build the rule a reminder row stores; None when the row does not hold a valid rule.

    Args:
        times: "HH:MM" or several comma-separated ("08:00,20:00"), as `Rule.times_text`.
        weekdays: The days-of-week mask.
        every: Every N days.
        anchor: The first date of an every-N-days series, or the date of a one-off.
        until: The last date of a course.
        once: True for a one-off.
    """
    parsed = [parse_local_time(part) for part in times.split(",")]
    if not parsed or any(at is None for at in parsed):
        return None
    ordered = tuple(sorted({at for at in parsed if at is not None}))
    try:
        return Rule(ordered, weekdays, every, anchor, until, once)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Occurrences


def _require_aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def next_occurrence(rule: Rule, tz: ZoneInfo, after: datetime) -> datetime | None:
    """Return the rule's first occurrence strictly after `after`, in UTC; None if none is left.

    Args:
        rule: The rule.
        tz: The user's zone.
        after: An aware datetime.

    Raises:
        ValueError: If `after` is naive.
    """
    after_utc = _require_aware(after, "after")
    if rule.is_plain_daily:  # the function every reminder used before rules: the same instants
        return next_due_utc(rule.times[0], tz, after_utc)
    # Start a day early: a gap-shifted occurrence of the previous date can fall after `after`.
    # Within a date and from date to date occurrences never go backwards (times are sorted,
    # a gap only moves a time forward to the jump), so the first one after `after` is the next.
    start = after_utc.astimezone(tz).date() - _ONE_DAY
    while (day := rule.first_day_from(start)) is not None:
        for at in rule.times:
            due = occurrence_utc(day, at, tz)
            if due > after_utc:
                return due
        start = day + _ONE_DAY
    return None


def one_off_utc(rule: Rule, tz: ZoneInfo) -> datetime:
    """Return the instant of a one-off's only occurrence.

    Raises:
        ValueError: If the rule is not a one-off.
    """
    if not rule.once or rule.anchor is None:
        raise ValueError("not a one-off rule")
    return occurrence_utc(rule.anchor, rule.times[0], tz)


def next_due(rule: Rule, tz: ZoneInfo, after: datetime) -> datetime | None:
    """Return when the dispatcher next has to look at a reminder with this rule.

    That is its next occurrence after `after`; for a one-off whose time has passed it is the
    moment the reminder is removed (ONE_OFF_KEEP after its time, or at once when that is over);
    None when a course has ended (the reminder stays, marked complete).
    """
    due = next_occurrence(rule, tz, after)
    if due is not None or not rule.once:
        return due
    return max(one_off_utc(rule, tz) + ONE_OFF_KEEP, after.astimezone(UTC))


def is_spent(rule: Rule, tz: ZoneInfo, due: datetime) -> bool:
    """Return True if a one-off row due at `due` is past its occurrence: time to remove it."""
    return rule.once and due.astimezone(UTC) > one_off_utc(rule, tz)


def occurrence_date(rule: Rule, tz: ZoneInfo, due: datetime) -> date | None:
    """Return the local date whose occurrence `due` is; None if `due` is no occurrence of it.

    This is normally the local date of `due`; for an occurrence moved forward out of a gap
    that crosses midnight it is the date before.
    """
    due_utc = _require_aware(due, "due")
    own = due_utc.astimezone(tz).date()
    for day in (own, own - _ONE_DAY, own - 2 * _ONE_DAY):
        if rule.fires_on(day) and any(occurrence_utc(day, at, tz) == due_utc for at in rule.times):
            return day
    return None


def is_last(rule: Rule, tz: ZoneInfo, occurrence: datetime) -> bool:
    """Return True if `occurrence` is the last one of a course (a one-off is not a course)."""
    return rule.until is not None and next_occurrence(rule, tz, occurrence) is None


# --------------------------------------------------------------------------------------------
# Stock


@dataclass(frozen=True, slots=True)
class Stock:
    """How long a reminder's tablets last.

    Attributes:
        count: Tablets left.
        per_dose: Tablets one dose takes (Taken lowers `count` by this much).
        days_left: Whole days the count lasts under the rule; None for a one-off.
        low: About LOW_STOCK_DAYS or fewer left (and the course does not end first).
        out: Not enough left for one dose.
    """

    count: int
    per_dose: int
    days_left: int | None
    low: bool
    out: bool

    @property
    def needs_refill(self) -> bool:
        """Return True when the reminder should say so and offer "Refilled"."""
        return self.low or self.out


def stock_of(
    rule: Rule, count: int | None, per_dose: int, today: date | None = None
) -> Stock | None:
    """Return how long `count` tablets last under `rule`; None when the stock is not counted.

    Args:
        rule: The reminder's rule (its doses per day).
        count: Tablets left, or None when the user does not count them.
        per_dose: Tablets per dose (at least 1).
        today: The user's local date; with it a course that ends before the tablets run out
            is not reported as low.
    """
    if count is None:
        return None
    per_dose = max(1, per_dose)
    out = count < per_dose
    per_day = rule.doses_per_day() * per_dose
    days_left = math.floor(count / per_day) if per_day > 0 else None
    low = not out and days_left is not None and days_left <= LOW_STOCK_DAYS
    if low and today is not None and rule.until is not None and days_left is not None:
        low = days_left < (rule.until - today).days + 1
    return Stock(count=count, per_dose=per_dose, days_left=days_left, low=low, out=out)


def after_dose(count: int | None, per_dose: int) -> int | None:
    """Return the count after one dose was taken (never below 0; None stays None)."""
    if count is None:
        return None
    return max(0, count - max(1, per_dose))
