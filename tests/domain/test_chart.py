from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.chart import MONTH_DAYS, WEEK_DAYS, ChartDay, chart_data, window
from bot.domain.diary import EntryKind, Logged
from bot.domain.vocabulary import DoseStatus

TAKEN, SKIPPED, SNOOZED = DoseStatus.TAKEN, DoseStatus.SKIPPED, DoseStatus.SNOOZED
TODAY = date(2026, 3, 2)
FOOD, SUPPLEMENT = EntryKind.FOOD, EntryKind.SUPPLEMENT


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def test_the_window_ends_today_and_holds_the_asked_days() -> None:
    assert window(TODAY, WEEK_DAYS) == (date(2026, 2, 24), TODAY)
    assert window(TODAY, MONTH_DAYS) == (date(2026, 2, 1), TODAY)
    with pytest.raises(ValueError, match="at least one day"):
        window(TODAY, 0)


def test_one_row_per_day_with_food_supplements_and_doses_apart() -> None:
    entries = [
        Logged(TODAY, FOOD, 141.1),
        Logged(TODAY, FOOD, 32),
        Logged(TODAY, SUPPLEMENT, 200),
        Logged(days_ago(1), SUPPLEMENT, 400),
        Logged(days_ago(6), FOOD, 78),
        Logged(days_ago(7), FOOD, 999),  # before the window
        Logged(TODAY + timedelta(days=1), FOOD, 999),  # after it
    ]
    answers = [
        (TODAY, TAKEN),
        (days_ago(1), TAKEN),
        (days_ago(1), TAKEN),
        (days_ago(2), SKIPPED),
        (days_ago(2), SNOOZED),  # not shown
        (days_ago(9), TAKEN),  # before the window
    ]
    data = chart_data(entries, answers, TODAY, WEEK_DAYS, need_mg=320, limit_mg=350)
    assert [d.day for d in data.days] == [days_ago(n) for n in range(6, -1, -1)]
    assert data.days[-1] == ChartDay(TODAY, 173.1, 200, taken=1, skipped=0, logged=True)
    assert data.days[-2] == ChartDay(days_ago(1), 0, 400, taken=2, skipped=0, logged=True)
    assert data.days[-3] == ChartDay(days_ago(2), 0, 0, taken=0, skipped=1, logged=False)
    assert data.days[0] == ChartDay(days_ago(6), 78, 0, logged=True)
    assert (data.first_day, data.last_day) == (days_ago(6), TODAY)


def test_the_caption_figures() -> None:
    entries = [
        Logged(TODAY, FOOD, 141.1),
        Logged(TODAY, SUPPLEMENT, 200),  # 341.1 together: at the 320 mg target
        Logged(days_ago(1), SUPPLEMENT, 400),  # at target, and above the 350 mg limit
        Logged(days_ago(6), FOOD, 78),  # below target
    ]
    answers = [(TODAY, TAKEN), (days_ago(1), TAKEN), (days_ago(3), SKIPPED)]
    data = chart_data(entries, answers, TODAY, WEEK_DAYS, need_mg=320, limit_mg=350)
    assert data.logged_days == 3
    # Averages are over the days with entries: (341.1 + 400 + 78) / 3.
    assert data.average_total_mg == 273
    assert data.average_food_mg == 73  # (141.1 + 78) / 3
    assert data.average_supplement_mg == 200  # 600 / 3
    assert data.days_at_target == 2
    assert data.days_above_limit == 1
    assert (data.taken, data.skipped) == (2, 1)
    assert data.highest_mg == 400


def test_an_empty_window_has_zeros_and_the_lines_set_the_scale() -> None:
    data = chart_data([], [], TODAY, MONTH_DAYS, need_mg=420, limit_mg=350)
    assert len(data.days) == 30
    assert data.logged_days == 0
    assert (data.average_total_mg, data.days_at_target, data.days_above_limit) == (0, 0, 0)
    assert data.highest_mg == 420


def test_reaching_the_target_exactly_counts_and_reaching_the_limit_is_within_it() -> None:
    entries = [Logged(TODAY, FOOD, 20), Logged(TODAY, SUPPLEMENT, 300)]
    data = chart_data(entries, [], TODAY, 1, need_mg=320, limit_mg=300)
    assert (data.days_at_target, data.days_above_limit) == (1, 0)
    no_limit = chart_data(entries, [], TODAY, 1, need_mg=320, limit_mg=None)
    assert no_limit.days_above_limit == 0
