"""How regularly a person took their supplement: 7- and 30-day adherence and the streak.

Adherence is counted in days. A due day is a local date on which a reminder message was
delivered; it counts as taken if any answer that day was "taken" (so "snoozed" and then
"taken" is taken). Today is counted only once it has been answered with "taken" or
"skipped"; until then it is pending and left out, so a reminder that has not been answered
yet does not lower the numbers. Days without a due reminder neither count nor break a streak.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.vocabulary import DoseStatus

WEEK_DAYS = 7
MONTH_DAYS = 30


@dataclass(frozen=True)
class Window:
    """Adherence over the last `days` local days, today included.

    Attributes:
        days: The length of the window in days.
        due: Due days in the window (today only once answered).
        taken: Of those, the days with a "taken" answer.
    """

    days: int
    due: int
    taken: int

    @property
    def percent(self) -> int | None:
        """`taken` as a whole percentage of `due` (half rounds up); None when nothing was due."""
        if self.due == 0:
            return None
        return (200 * self.taken + self.due) // (2 * self.due)


@dataclass(frozen=True)
class Adherence:
    """Adherence summary for one reminder (or for a person, counted by day).

    Attributes:
        week: The last 7 days.
        month: The last 30 days.
        streak: Consecutive due days with "taken", ending today or (while today is pending)
            at the last due day before it.
        today_pending: True when a reminder was due today and has not been answered yet.
    """

    week: Window
    month: Window
    streak: int
    today_pending: bool


def _days_by_outcome(
    records: Iterable[tuple[date, str]],
) -> tuple[set[date], set[date]]:
    """Return (days with a "taken" answer, days with a "taken" or "skipped" answer)."""
    taken: set[date] = set()
    answered: set[date] = set()
    for day, status in records:
        if status in (DoseStatus.TAKEN, DoseStatus.SKIPPED):
            answered.add(day)
        if status == DoseStatus.TAKEN:
            taken.add(day)
    return taken, answered


def _window(days: int, counted: set[date], taken: set[date], today: date) -> Window:
    """Count due and taken days in the `days` days ending today."""
    first = today - timedelta(days=days - 1)
    in_window = {day for day in counted if first <= day <= today}
    return Window(days, len(in_window), len(in_window & taken))


def _streak(counted: set[date], taken: set[date], today: date) -> int:
    """Count counted due days with "taken", walking back from today until one was not."""
    streak = 0
    for day in sorted((day for day in counted if day <= today), reverse=True):
        if day not in taken:
            break
        streak += 1
    return streak


def compute_adherence(
    records: Iterable[tuple[date, str]], due_dates: Iterable[date], today: date
) -> Adherence:
    """Summarise adherence from dose answers and the days reminders were delivered.

    Args:
        records: (local_date, status) answers; status is "taken", "skipped" or "snoozed".
            Several answers per day are fine (one per message, snoozes included).
        due_dates: Local dates on which a reminder was delivered (repeats are ignored).
        today: The person's local date now.

    Returns:
        The 7- and 30-day windows, the current streak, and whether today is pending.
    """
    taken, answered = _days_by_outcome(records)
    due = set(due_dates)
    today_pending = today in due and today not in answered
    counted = due - {today} if today_pending else due
    return Adherence(
        week=_window(WEEK_DAYS, counted, taken, today),
        month=_window(MONTH_DAYS, counted, taken, today),
        streak=_streak(counted, taken, today),
        today_pending=today_pending,
    )
