"""What people type to set a reminder's rule, and how that becomes a `Rule`.

/remind reads, in this order (only the time is required):

    once [today | tomorrow | <date> | <day>]   or   in <N> min | in <N> h       a one-off
    <days of the week>  or  every <N> days                                   a series
    <time> [<time> ...]                                                      up to 4
    <label ...>
    for <N> days  or  until <date>                                           a course

for example `21:00 magnesium`, `08:00 20:00 magnesium citrate 200 mg`, `mon,wed,fri 08:00`,
`every 2 days 21:00`, `21:00 magnesium for 30 days`, `once tomorrow 09:00 blood test`,
`in 30 min`. Days are `mon`..`sun` (full names too), `weekdays`, `weekends`, and ranges such
as `mon-fri`; dates are written `2026-12-24`. A course may also come right after the times.

Reading happens in two steps. `parse_request` reads the words; it needs no zone, so a /remind
sent before the user has one is checked at once. `resolve` then makes the rule with the
user's zone and the current time: which date is today or tomorrow, the first date of an
every-N-days series, the last date of a "for N days" course, whether a date has passed.
Anything it cannot use comes back as a `RuleError` naming the part and what was wrong.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.rules import (
    EVERY_DAY,
    MAX_AHEAD,
    MAX_COURSE_DAYS,
    MAX_EVERY,
    MAX_TIMES,
    MIN_EVERY,
    WEEKENDS,
    WORKDAYS,
    Rule,
    next_occurrence,
    occurrence_date,
)
from bot.domain.schedule import occurrence_utc
from bot.domain.timeparse import clean_label, format_local_time, parse_local_time

MAX_IN_MINUTES = 48 * 60
"""The furthest "in N min / N h" a one-off may be."""
MAX_STOCK = 9999
MAX_PER_DOSE = 20

_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)

_DAYS = {
    **dict.fromkeys(("mon", "monday", "mondays"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday", "tuesdays"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday", "wednesdays"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday", "thursdays"), 3),
    **dict.fromkeys(("fri", "friday", "fridays"), 4),
    **dict.fromkeys(("sat", "saturday", "saturdays"), 5),
    **dict.fromkeys(("sun", "sunday", "sundays"), 6),
}
_DAY_GROUPS = {
    **dict.fromkeys(("weekdays", "weekday", "workdays"), WORKDAYS),
    **dict.fromkeys(("weekends", "weekend"), WEEKENDS),
    **dict.fromkeys(("daily", "everyday"), EVERY_DAY),
}
_DAY_UNITS = frozenset({"d", "day", "days"})
_WEEK_UNITS = frozenset({"w", "week", "weeks"})
_MINUTE_UNITS = frozenset({"m", "min", "mins", "minute", "minutes"})
_HOUR_UNITS = frozenset({"h", "hr", "hrs", "hour", "hours"})
_NO_END = frozenset({"none", "no end", "no", "off", "never", "forever", "stop", "-"})
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATE_LIKE = re.compile(r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}")
_NUMBER_UNIT = re.compile(r"(\d+)([a-z]+)")


class Problem(StrEnum):
    """What was wrong with what the user typed (each has its own answer in content/)."""

    NO_TIME = "no_time"  # no time at all
    TIME = "time"  # a word where a time was expected
    TOO_MANY_TIMES = "too_many_times"
    DAY = "day"  # not a day of the week
    EVERY = "every"  # "every 0 days", "every 2 parsecs"
    DAYS_AND_EVERY = "days_and_every"  # both days of the week and every N days
    COURSE = "course"  # "for 0 days", "for 400 days"
    DATE = "date"  # not a date, or too far ahead
    PAST = "past"  # a date or a one-off time that has passed
    COURSE_EMPTY = "course_empty"  # the course would end before its first reminder
    IN = "in"  # "in 30 parsecs", "in 0 min"
    ONCE = "once"  # a one-off with several times, days or a course


@dataclass(frozen=True, slots=True)
class RuleError:
    """A part of the input that could not be used, as the user typed it."""

    problem: Problem
    value: str = ""


@dataclass(frozen=True, slots=True)
class Repeat:
    """The days part of a rule: days of the week, or every N days."""

    weekdays: int = EVERY_DAY
    every: int = 1


@dataclass(frozen=True, slots=True)
class Course:
    """How long a series goes on: N days from its first reminder, up to a date, or no end."""

    for_days: int | None = None
    until: date | None = None
    text: str = ""  # as typed, to name it in an answer


@dataclass(frozen=True, slots=True)
class OneOffDay:
    """The day a one-off names: a date, today (0) / tomorrow (1), or a day of the week."""

    on_date: date | None = None
    in_days: int | None = None
    weekday: int | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """What /remind asked for, before the zone and the current time make it a rule."""

    label: str
    times: tuple[time, ...] = ()
    repeat: Repeat = Repeat()
    course: Course | None = None
    once: bool = False
    day: OneOffDay | None = None
    in_minutes: int | None = None
    when_text: str = ""  # a one-off's day and time as typed


@dataclass(frozen=True, slots=True)
class StockInput:
    """A tablet count typed for /stock: how many, and how many one dose takes (None: off)."""

    count: int | None
    per_dose: int = 1


# --------------------------------------------------------------------------------------------
# Reading words


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


@dataclass
class _Words:
    """The words of the input and a cursor; keys are the words folded for matching."""

    words: list[str]
    keys: list[str]
    at: int = 0

    @classmethod
    def of(cls, text: str) -> _Words:
        words = text.split()
        return cls(words, [_fold(word) for word in words])

    def peek(self, ahead: int = 0) -> str:
        index = self.at + ahead
        return self.keys[index] if index < len(self.keys) else ""

    @property
    def left(self) -> int:
        return len(self.keys) - self.at

    def text(self, start: int, end: int | None = None) -> str:
        return " ".join(self.words[start : self.at if end is None else end])[:60]


def _number(key: str) -> int | None:
    return int(key) if key.isascii() and key.isdigit() and len(key) <= 6 else None


def _number_and_unit(w: _Words) -> tuple[int, str, int] | None:
    """Read "30 min" or "30min" at the cursor: (number, unit, words used)."""
    number = _number(w.peek())
    if number is not None and w.left >= 2:
        return number, w.peek(1), 2
    joined = _NUMBER_UNIT.fullmatch(w.peek())
    if joined and (value := _number(joined[1])) is not None:
        return value, joined[2], 1
    return None


def _date_of(word: str) -> date | RuleError | None:
    """Read a date written 2026-12-24; a RuleError for a date-like word that is none."""
    key = _fold(word)
    match = _ISO_DATE.fullmatch(key)
    if match is None:
        return RuleError(Problem.DATE, word[:40]) if _DATE_LIKE.fullmatch(key) else None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return RuleError(Problem.DATE, word[:40])


def _day_piece(piece: str) -> int | None:
    """Return the mask of "mon", "weekdays" or a range "mon-fri"; None if it is none of them."""
    if piece in _DAYS:
        return 1 << _DAYS[piece]
    if piece in _DAY_GROUPS:
        return _DAY_GROUPS[piece]
    first, dash, last = piece.partition("-")
    if dash and first in _DAYS and last in _DAYS:
        mask, day = 0, _DAYS[first]
        while True:
            mask |= 1 << day
            if day == _DAYS[last]:
                return mask
            day = (day + 1) % 7
    return None


def _take_days(w: _Words) -> int | RuleError | None:
    """Read days of the week at the cursor ("mon,wed,fri", "mon, wed", "weekdays").

    Returns None (and moves nothing) when the words there are not meant as days: a time, a
    label. A comma list with a word that is no day is an error naming that word.
    """
    if not w.left:
        return None
    start, end = w.at, w.at
    pieces: list[tuple[str, str]] = []  # (as typed, folded)
    while end < len(w.keys):
        typed, key = w.words[end], w.keys[end]
        if end > start and parse_local_time(key.strip(",")) is not None:
            break  # "fri, 08:00": the times begin
        pieces += [(t, k) for t, k in zip(typed.split(","), key.split(","), strict=False) if k]
        end += 1
        following = w.keys[end] if end < len(w.keys) else ""
        if not (key.endswith(",") or following.startswith(",")):
            break
    listed = end - start > 1 or "," in w.keys[start]
    masks = [_day_piece(key) for _, key in pieces]
    if not pieces:
        return None  # only commas
    if all(mask is None for mask in masks) and (
        not listed or any(parse_local_time(key) for _, key in pieces)
    ):
        return None  # not days: a time (list) or the label
    for (typed, _), mask in zip(pieces, masks, strict=True):
        if mask is None:
            return RuleError(Problem.DAY, typed[:40])
    w.at = end
    found = 0
    for mask in masks:
        found |= mask or 0
    return found


def _take_every(w: _Words) -> Repeat | RuleError:
    """Read "every N days", "every day", "every other day", "every 2 weeks", "every mon"."""
    start = w.at
    w.at += 1
    key = w.peek()
    if key in ("day", "days"):
        w.at += 1
        return Repeat()
    if key == "other" and w.peek(1) == "day":
        w.at += 2
        return Repeat(every=2)
    if key == "week":
        w.at += 1
        return Repeat(every=7)
    counted = _number_and_unit(w)
    if counted is not None:
        number, unit, used = counted
        w.at += used
        if unit in _DAY_UNITS:
            days = number
        elif unit in _WEEK_UNITS:
            days = 7 * number
        else:
            return RuleError(Problem.EVERY, w.text(start))
        if days == 1:
            return Repeat()
        if not MIN_EVERY <= days <= MAX_EVERY:
            return RuleError(Problem.EVERY, w.text(start))
        return Repeat(every=days)
    listed = _take_days(w)
    if isinstance(listed, int):
        return Repeat(weekdays=listed)
    if isinstance(listed, RuleError):
        return listed
    return RuleError(Problem.EVERY, w.text(start, start + 2))


def _take_repeat(w: _Words) -> Repeat | RuleError:
    """Read the days part before the times: days of the week, or every N days."""
    start = w.at
    days: int | None = None  # None: every day of the week
    every = 1
    while True:
        if w.peek() == "every":
            part = _take_every(w)
        else:
            listed = _take_days(w)
            if listed is None:
                break
            part = listed if isinstance(listed, RuleError) else Repeat(weekdays=listed)
        if isinstance(part, RuleError):
            return part
        every = max(every, part.every)
        if part.weekdays != EVERY_DAY:
            days = (days or 0) | part.weekdays
    if days is not None and days != EVERY_DAY and every > 1:
        return RuleError(Problem.DAYS_AND_EVERY, w.text(start))
    return Repeat(EVERY_DAY if days is None else days, every)


def _take_one_time(w: _Words) -> list[time] | None:
    """Read one time ("21:00", "9:30 am", "9pm,") or a comma list ("08:00,20:00")."""
    for count in (2, 1):
        if w.left >= count:
            candidate = " ".join(w.keys[w.at : w.at + count]).strip(",")
            parsed = parse_local_time(candidate)
            if parsed is not None:
                w.at += count
                return [parsed]
    pieces = [piece for piece in w.peek().split(",") if piece]
    found = [parse_local_time(piece) for piece in pieces]
    if len(found) > 1 and all(found):
        w.at += 1
        return [at for at in found if at is not None]
    return None


def _take_times(w: _Words) -> tuple[time, ...] | RuleError:
    """Read up to MAX_TIMES times of day ("08:00 20:00", "8am and 8pm"); () if none."""
    start = w.at
    found: list[time] = []
    while w.left:
        back = w.at
        if found and w.peek() in ("and", "&"):
            w.at += 1
        more = _take_one_time(w)
        if more is None:
            w.at = back
            break
        found += more
    if len(set(found)) > MAX_TIMES:
        return RuleError(Problem.TOO_MANY_TIMES, w.text(start))
    return tuple(sorted(set(found)))


def _course_at(w: _Words, index: int) -> tuple[Course | RuleError, int] | None:
    """Read "for N days" / "for N weeks" / "until 2027-01-31" at `index`: (course, words)."""
    probe = _Words(w.words, w.keys, index)
    key = probe.peek()
    if key == "for":
        probe.at += 1
        counted = _number_and_unit(probe)
        if counted is None:
            return None
        number, unit, used = counted
        if unit in _DAY_UNITS:
            days = number
        elif unit in _WEEK_UNITS:
            days = 7 * number
        else:
            return None  # "for 2 people": part of the label
        typed = " ".join(w.words[index : index + 1 + used])
        if not 1 <= days <= MAX_COURSE_DAYS:
            return RuleError(Problem.COURSE, typed[:60]), 1 + used
        return Course(for_days=days, text=typed), 1 + used
    if key == "until" and probe.left >= 2:
        until = _date_of(w.words[index + 1])
        if until is None:
            return None  # "until dinner": part of the label
        typed = " ".join(w.words[index : index + 2])
        if isinstance(until, RuleError):
            return until, 2
        return Course(until=until, text=typed), 2
    return None


def _take_label_and_course(w: _Words) -> tuple[str, Course | None] | RuleError:
    """Read the rest: the label, with a course at its end (or at its start)."""
    start, end = w.at, len(w.keys)
    course: Course | None = None
    for index in (end - 3, end - 2, start):
        if index < start:
            continue
        found = _course_at(w, index)
        if found is None:
            continue
        part, used = found
        if index != start and index + used != end:
            continue  # in the middle: part of the label
        if isinstance(part, RuleError):
            return part
        course = part
        if index == start:
            start += used
        else:
            end = index
        break
    w.at = len(w.keys)
    return clean_label(" ".join(w.words[start:end])), course


def _take_one_off_day(w: _Words, *, weekday_too: bool) -> OneOffDay | RuleError | None:
    """Read the day of a one-off: today, tomorrow, 2026-12-24 or (after "once") a weekday."""
    key = w.peek()
    if key in ("today", "tonight"):
        w.at += 1
        return OneOffDay(in_days=0)
    if key == "tomorrow":
        w.at += 1
        return OneOffDay(in_days=1)
    if key:
        on = _date_of(w.words[w.at])
        if on is not None:
            if isinstance(on, RuleError):
                return on
            w.at += 1
            return OneOffDay(on_date=on)
    if weekday_too and key in _DAYS:
        w.at += 1
        return OneOffDay(weekday=_DAYS[key])
    return None


def _one_off_in(w: _Words) -> Request | RuleError:
    """Read "in 30 min ..." / "in 2 h ...": a one-off that many minutes from now."""
    start = w.at
    w.at += 1
    counted = _number_and_unit(w)
    if counted is None:
        return RuleError(Problem.IN, w.text(start, start + 3))
    number, unit, used = counted
    w.at += used
    if unit in _MINUTE_UNITS:
        minutes = number
    elif unit in _HOUR_UNITS:
        minutes = 60 * number
    else:
        return RuleError(Problem.IN, w.text(start))
    if not 1 <= minutes <= MAX_IN_MINUTES:
        return RuleError(Problem.IN, w.text(start))
    when = w.text(start)
    rest = _take_label_and_course(w)
    if isinstance(rest, RuleError):
        return rest
    label, course = rest
    if course is not None:
        return RuleError(Problem.ONCE, course.text)
    return Request(label=label, once=True, in_minutes=minutes, when_text=when)


def parse_request(args: str) -> Request | RuleError:
    """Read the words after /remind (see the module docstring for what they may say).

    Args:
        args: The text after the command.

    Returns:
        The request, or the first part that could not be used.
    """
    w = _Words.of(args)
    if w.peek() == "in":
        return _one_off_in(w)
    once = w.peek() == "once"
    w.at += once
    start = w.at
    day = _take_one_off_day(w, weekday_too=once)
    if isinstance(day, RuleError):
        return day
    once = once or day is not None
    if once and w.peek() == "in" and day is None:
        return _one_off_in(w)
    repeat = Repeat()
    if once:
        several = _take_days(w)
        if several is not None:
            return RuleError(Problem.ONCE, w.text(start))
    else:
        found = _take_repeat(w)
        if isinstance(found, RuleError):
            return found
        repeat = found
    times_at = w.at
    times = _take_times(w)
    if isinstance(times, RuleError):
        return times
    if not times:
        if not w.left:
            return RuleError(Problem.NO_TIME)
        return RuleError(Problem.TIME, w.words[w.at][:40])
    if once and len(times) > 1:
        return RuleError(Problem.ONCE, w.text(times_at))
    when = w.text(start)
    rest = _take_label_and_course(w)
    if isinstance(rest, RuleError):
        return rest
    label, course = rest
    if once and course is not None:
        return RuleError(Problem.ONCE, course.text)
    return Request(
        label=label,
        times=times,
        repeat=repeat,
        course=course,
        once=once,
        day=day,
        when_text=when if once else "",
    )


def parse_times(text: str) -> tuple[time, ...] | RuleError:
    """Read a typed answer that is one to MAX_TIMES times ("8:30", "08:00 20:00")."""
    w = _Words.of(text)
    times = _take_times(w)
    if isinstance(times, RuleError):
        return times
    if w.left:
        return RuleError(Problem.TIME, w.words[w.at][:40])
    if not times:
        return RuleError(Problem.NO_TIME)
    return times


def parse_repeat(text: str) -> Repeat | RuleError:
    """Read a typed days answer: "mon,wed,fri", "weekdays", "every day", "every 2 days"."""
    w = _Words.of(text)
    if not w.left:
        return RuleError(Problem.DAY)
    repeat = _take_repeat(w)
    if isinstance(repeat, RuleError):
        return repeat
    if w.left:
        return RuleError(Problem.DAY, w.words[w.at][:40])
    return repeat


def parse_course(text: str) -> Course | RuleError:
    """Read a typed course answer: "for 30 days", "30 days", "until 2027-01-31", "no end"."""
    key = " ".join(_fold(text).split())
    if key in _NO_END:
        return Course(text=text.strip())
    w = _Words.of(text if key.startswith(("for ", "until ")) else f"for {text}")
    if _date_of(text.strip()) is not None:
        w = _Words.of(f"until {text}")
    found = _course_at(w, 0)
    if found is None or found[1] != len(w.keys):
        return RuleError(Problem.COURSE, text.strip()[:60])
    course, _ = found
    return course


def parse_stock(text: str) -> StockInput | None:
    """Read a tablet count: "60", "60 2" (2 a dose), "60 x2", or "off"; None if it is none."""
    words = _fold(text).replace("x", " ").split()
    if words in (["off"], ["stop"], ["none"]):
        return StockInput(count=None)
    numbers = [_number(word) for word in words]
    if not 1 <= len(numbers) <= 2 or any(number is None for number in numbers):
        return None
    count = numbers[0] or 0
    per_dose = numbers[1] if len(numbers) == 2 and numbers[1] is not None else 1
    if not (0 <= count <= MAX_STOCK and 1 <= per_dose <= MAX_PER_DOSE):
        return None
    return StockInput(count=count, per_dose=per_dose)


# --------------------------------------------------------------------------------------------
# Resolving: the zone and the current time


def _wall_at_or_after(target: datetime, tz: ZoneInfo) -> tuple[date, time]:
    """Return the first whole local minute whose occurrence is at or after `target`."""
    reading = target.astimezone(tz).replace(tzinfo=None, fold=0)
    if reading.second or reading.microsecond:
        reading = reading.replace(second=0, microsecond=0) + _ONE_MINUTE
    # In the second pass of a repeated hour a wall time names its first pass: walk on.
    while occurrence_utc(reading.date(), reading.time(), tz) < target:
        reading += _ONE_MINUTE
    return reading.date(), reading.time()


def _first_day(rule: Rule, tz: ZoneInfo, now: datetime) -> date:
    """Return the local date of the rule's next occurrence (the rule must have one)."""
    due = next_occurrence(rule, tz, now)
    assert due is not None  # rules without an end always have one
    found = occurrence_date(rule, tz, due)
    assert found is not None
    return found


def _until_of(rule: Rule, course: Course, tz: ZoneInfo, now: datetime) -> date | RuleError | None:
    """Return the last date of `course` for a series `rule` (None: no end)."""
    if course.for_days is not None:
        first = _first_day(dataclasses.replace(rule, until=None), tz, now)
        return first + (course.for_days - 1) * _ONE_DAY
    if course.until is None:
        return None
    today = now.astimezone(tz).date()
    if course.until < today:
        return RuleError(Problem.PAST, course.text or course.until.isoformat())
    if course.until - today > MAX_AHEAD:
        return RuleError(Problem.DATE, course.text or course.until.isoformat())
    return course.until


def _with_course(
    rule: Rule, course: Course | None, tz: ZoneInfo, now: datetime
) -> Rule | RuleError:
    if course is None:
        return rule
    until = _until_of(rule, course, tz, now)
    if isinstance(until, RuleError):
        return until
    ended = dataclasses.replace(rule, until=until)
    if until is not None and next_occurrence(ended, tz, now) is None:
        return RuleError(Problem.COURSE_EMPTY, course.text or until.isoformat())
    return ended


def _series(times: tuple[time, ...], repeat: Repeat, tz: ZoneInfo, now: datetime) -> Rule:
    """Return the series rule; every N days counts from the first date a time is ahead."""
    if repeat.every == 1:
        return Rule(times, weekdays=repeat.weekdays)
    first = _first_day(Rule(times), tz, now)
    return Rule(times, every=repeat.every, anchor=first)


def resolve(request: Request, tz: ZoneInfo, now: datetime) -> Rule | RuleError:
    """Make the rule a request asks for, in zone `tz` at `now`.

    Raises:
        ValueError: If `now` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    today = now.astimezone(tz).date()
    if request.in_minutes is not None:
        day, at = _wall_at_or_after(now + request.in_minutes * _ONE_MINUTE, tz)
        return Rule((at,), anchor=day, once=True)
    if request.once:
        at = request.times[0]
        chosen = request.day or OneOffDay()
        if chosen.on_date is not None:
            day = chosen.on_date
        elif chosen.in_days is not None:
            day = today + chosen.in_days * _ONE_DAY
        else:
            wanted = today.weekday() if chosen.weekday is None else chosen.weekday
            day = today + ((wanted - today.weekday()) % 7) * _ONE_DAY
            if occurrence_utc(day, at, tz) <= now:
                day += (7 if chosen.weekday is not None else 1) * _ONE_DAY
        if day - today > MAX_AHEAD:
            return RuleError(Problem.DATE, request.when_text)
        if occurrence_utc(day, at, tz) <= now:
            return RuleError(Problem.PAST, request.when_text)
        return Rule((at,), anchor=day, once=True)
    rule = _series(request.times, request.repeat, tz, now)
    return _with_course(rule, request.course, tz, now)


# --------------------------------------------------------------------------------------------
# Changing one part of a rule (the buttons under /reminders)


def with_times(
    rule: Rule, times: tuple[time, ...], tz: ZoneInfo, now: datetime
) -> Rule | RuleError:
    """Return the rule at new times; a one-off keeps one time, and it must still be ahead."""
    if rule.once:
        if len(times) > 1:
            return RuleError(Problem.ONCE, ", ".join(format_local_time(at) for at in times))
        moved = dataclasses.replace(rule, times=times)
        assert moved.anchor is not None
        if occurrence_utc(moved.anchor, times[0], tz) <= now:
            return RuleError(
                Problem.PAST, f"{moved.anchor.isoformat()} {format_local_time(times[0])}"
            )
        return moved
    return dataclasses.replace(rule, times=times)


def with_repeat(rule: Rule, repeat: Repeat, tz: ZoneInfo, now: datetime) -> Rule | RuleError:
    """Return the rule on new days; a new every-N-days series counts from its first date."""
    if rule.once:
        return RuleError(Problem.ONCE)
    if repeat.every > 1 and repeat.every == rule.every:
        return rule  # the same series: keep its first date
    series = _series(rule.times, repeat, tz, now)
    return dataclasses.replace(series, until=rule.until)


def with_course(rule: Rule, course: Course, tz: ZoneInfo, now: datetime) -> Rule | RuleError:
    """Return the rule with a new course ("for N days" counts from the next reminder)."""
    if rule.once:
        return RuleError(Problem.ONCE)
    return _with_course(dataclasses.replace(rule, until=None), course, tz, now)
