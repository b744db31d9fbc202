"""The numbers behind the /week and /month charts, worked out apart from any drawing.

`chart_data` turns diary entries and reminder answers into one row per local day, plus the
figures of the caption. The renderer (`bot/charts.py`) only draws what this returns, so the
chart and its caption can never disagree, and both are tested here with plain values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from bot.content import round_half_up
from bot.domain.diary import EntryKind, Logged, above_limit
from bot.domain.vocabulary import DoseStatus

WEEK_DAYS = 7
MONTH_DAYS = 30


@dataclass(frozen=True)
class ChartDay:
    """One local day of the chart."""

    day: date
    food_mg: float = 0.0
    supplement_mg: float = 0.0
    taken: int = 0  # reminder doses answered "taken" that day
    skipped: int = 0  # ... and "skipped"
    logged: bool = False  # anything was logged that day (a 0 mg entry still counts)

    @property
    def total_mg(self) -> float:
        """Return food and supplements together."""
        return self.food_mg + self.supplement_mg


@dataclass(frozen=True)
class ChartData:
    """Everything a chart shows: the days (oldest first), the RDA line and the UL line."""

    days: tuple[ChartDay, ...]
    need_mg: int
    limit_mg: int | None

    @property
    def first_day(self) -> date:
        """Return the oldest day shown."""
        return self.days[0].day

    @property
    def last_day(self) -> date:
        """Return the newest day shown (today)."""
        return self.days[-1].day

    @property
    def logged_days(self) -> int:
        """Return how many days have at least one diary entry."""
        return sum(1 for d in self.days if d.logged)

    def _average(self, values: Iterable[float]) -> int:
        logged = self.logged_days
        return round_half_up(sum(values) / logged) if logged else 0

    @property
    def average_total_mg(self) -> int:
        """Return the average of food and supplements together, over the days with entries."""
        return self._average(d.total_mg for d in self.days if d.logged)

    @property
    def average_food_mg(self) -> int:
        """Return the average from food, over the days with entries."""
        return self._average(d.food_mg for d in self.days if d.logged)

    @property
    def average_supplement_mg(self) -> int:
        """Return the average from supplements, over the days with entries."""
        return self._average(d.supplement_mg for d in self.days if d.logged)

    @property
    def days_at_target(self) -> int:
        """Return the days whose food and supplements together reached the RDA."""
        return sum(1 for d in self.days if d.total_mg >= self.need_mg - 1e-9)

    @property
    def days_above_limit(self) -> int:
        """Return the days whose supplements went above the upper limit."""
        return sum(1 for d in self.days if above_limit(d.supplement_mg, self.limit_mg))

    @property
    def taken(self) -> int:
        """Return the reminder doses answered "taken" in the window."""
        return sum(d.taken for d in self.days)

    @property
    def skipped(self) -> int:
        """Return the reminder doses answered "skipped" in the window."""
        return sum(d.skipped for d in self.days)

    @property
    def highest_mg(self) -> float:
        """Return the top of the scale: the tallest bar or line."""
        tops = [d.total_mg for d in self.days] + [float(self.need_mg)]
        if self.limit_mg is not None:
            tops.append(float(self.limit_mg))
        return max(tops)


def window(last_day: date, days: int) -> tuple[date, date]:
    """Return the first and last local day of a chart of `days` days ending on `last_day`."""
    if days < 1:
        raise ValueError("a chart needs at least one day")
    return last_day - timedelta(days=days - 1), last_day


def chart_data(
    entries: Iterable[Logged],
    answers: Iterable[tuple[date, str]],
    last_day: date,
    days: int,
    need_mg: int,
    limit_mg: int | None,
) -> ChartData:
    """Sum diary entries and reminder answers per local day for the `days` days to `last_day`.

    Entries and answers outside the window are ignored; answers other than taken or skipped
    (snoozed) are not shown.
    """
    first, _ = window(last_day, days)
    food = [0.0] * days
    supplement = [0.0] * days
    logged = [False] * days
    taken = [0] * days
    skipped = [0] * days
    for entry in entries:
        index = (entry.day - first).days
        if not 0 <= index < days:
            continue
        logged[index] = True
        if entry.kind is EntryKind.SUPPLEMENT:
            supplement[index] += entry.mg
        else:
            food[index] += entry.mg
    for day, status in answers:
        index = (day - first).days
        if not 0 <= index < days:
            continue
        if status == DoseStatus.TAKEN:
            taken[index] += 1
        elif status == DoseStatus.SKIPPED:
            skipped[index] += 1
    rows = tuple(
        ChartDay(
            day=first + timedelta(days=i),
            food_mg=round(food[i], 1),
            supplement_mg=round(supplement[i], 1),
            taken=taken[i],
            skipped=skipped[i],
            logged=logged[i],
        )
        for i in range(days)
    )
    return ChartData(rows, need_mg, limit_mg)
