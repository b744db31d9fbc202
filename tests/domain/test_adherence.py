from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.adherence import Adherence, Window, compute_adherence
from bot.domain.vocabulary import DoseStatus

TAKEN, SKIPPED, SNOOZED = DoseStatus.TAKEN, DoseStatus.SKIPPED, DoseStatus.SNOOZED

TODAY = date(2025, 3, 15)


def days_ago(*numbers: int) -> list[date]:
    return [TODAY - timedelta(days=number) for number in numbers]


def test_nothing_due() -> None:
    result = compute_adherence([], [], TODAY)
    assert result == Adherence(Window(7, 0, 0), Window(30, 0, 0), 0, today_pending=False)
    assert result.week.percent is None
    assert result.month.percent is None


def test_every_day_taken() -> None:
    due = days_ago(*range(30))
    result = compute_adherence([(day, TAKEN) for day in due], due, TODAY)
    assert result.week == Window(7, 7, 7)
    assert result.month == Window(30, 30, 30)
    assert result.week.percent == 100
    assert result.streak == 30
    assert not result.today_pending


def test_windows_count_only_their_days() -> None:
    due = days_ago(*range(40))
    taken = days_ago(0, 1, 2, 10, 11, 35)
    result = compute_adherence([(day, TAKEN) for day in taken], due, TODAY)
    assert result.week == Window(7, 7, 3)
    assert result.month == Window(30, 30, 5)
    assert result.week.percent == 43  # 3/7 = 42.9 %
    assert result.month.percent == 17  # 5/30 = 16.7 %
    assert result.streak == 3


def test_percent_rounds_half_up() -> None:
    assert Window(7, 8, 1).percent == 13  # 12.5 %
    assert Window(7, 7, 6).percent == 86  # 85.7 %
    assert Window(7, 3, 1).percent == 33
    assert Window(7, 3, 2).percent == 67
    assert Window(7, 3, 0).percent == 0


def test_snoozed_then_taken_counts_as_taken() -> None:
    due = days_ago(0, 1)
    records = [
        (due[1], SNOOZED),
        (due[1], TAKEN),
        (due[0], SNOOZED),
        (due[0], SNOOZED),
        (due[0], TAKEN),
    ]
    result = compute_adherence(records, due, TODAY)
    assert result.week == Window(7, 2, 2)
    assert result.streak == 2


def test_only_snoozed_on_a_past_day_is_not_taken() -> None:
    due = days_ago(0, 1, 2)
    records = [(due[0], TAKEN), (due[1], SNOOZED), (due[2], TAKEN)]
    result = compute_adherence(records, due, TODAY)
    assert result.week == Window(7, 3, 2)
    assert result.streak == 1


def test_an_unanswered_today_is_pending_and_keeps_the_streak() -> None:
    due = days_ago(0, 1, 2, 3)
    records = [(day, TAKEN) for day in days_ago(1, 2, 3)]
    result = compute_adherence(records, due, TODAY)
    assert result.today_pending
    assert result.week == Window(7, 3, 3)  # today is left out until answered
    assert result.streak == 3  # ends yesterday


def test_a_snoozed_today_is_still_pending() -> None:
    due = days_ago(0, 1)
    records = [(due[0], SNOOZED), (due[1], TAKEN)]
    result = compute_adherence(records, due, TODAY)
    assert result.today_pending
    assert result.week == Window(7, 1, 1)
    assert result.streak == 1


def test_skipping_today_ends_the_streak() -> None:
    due = days_ago(0, 1, 2)
    records = [(due[0], SKIPPED), (due[1], TAKEN), (due[2], TAKEN)]
    result = compute_adherence(records, due, TODAY)
    assert not result.today_pending
    assert result.week == Window(7, 3, 2)
    assert result.streak == 0


def test_taking_today_extends_the_streak() -> None:
    due = days_ago(0, 1, 2)
    records = [(day, TAKEN) for day in due]
    assert compute_adherence(records, due, TODAY).streak == 3


def test_a_missed_yesterday_breaks_the_streak() -> None:
    due = days_ago(0, 1, 2, 3)
    records = [(day, TAKEN) for day in days_ago(2, 3)]  # yesterday: no answer at all
    result = compute_adherence(records, due, TODAY)
    assert result.today_pending
    assert result.streak == 0


def test_days_without_a_reminder_neither_count_nor_break_the_streak() -> None:
    due = days_ago(0, 2, 5, 6)  # paused on days 1, 3 and 4
    records = [(day, TAKEN) for day in due]
    result = compute_adherence(records, due, TODAY)
    assert result.week == Window(7, 4, 4)
    assert result.streak == 4


def test_taken_on_a_day_nothing_was_due_is_ignored() -> None:
    due = days_ago(1)
    records = [(day, TAKEN) for day in days_ago(1, 2, 3)]
    result = compute_adherence(records, due, TODAY)
    assert result.week == Window(7, 1, 1)
    assert result.streak == 1


def test_repeated_due_dates_count_once() -> None:
    due = days_ago(1, 1, 2)
    result = compute_adherence([(day, TAKEN) for day in due], due, TODAY)
    assert result.week == Window(7, 2, 2)


def test_future_dates_are_ignored() -> None:
    tomorrow = TODAY + timedelta(days=1)
    result = compute_adherence([(tomorrow, TAKEN)], [tomorrow, TODAY], TODAY)
    assert result.week == Window(7, 0, 0)
    assert result.today_pending
    assert result.streak == 0


def test_window_edges() -> None:
    due = days_ago(6, 7, 29, 30)
    result = compute_adherence([(day, TAKEN) for day in due], due, TODAY)
    assert result.week == Window(7, 1, 1)
    assert result.month == Window(30, 3, 3)


def test_inputs_may_be_iterators() -> None:
    due = days_ago(0, 1)
    result = compute_adherence(iter([(due[0], TAKEN)]), iter(due), TODAY)
    assert result.week == Window(7, 2, 1)


STATUSES = st.sampled_from([TAKEN, SKIPPED, SNOOZED])
OFFSETS = st.integers(-2, 45)


@settings(max_examples=200)
@given(
    due_offsets=st.lists(OFFSETS, max_size=50),
    records=st.lists(st.tuples(OFFSETS, STATUSES), max_size=80),
)
def test_invariants(due_offsets: list[int], records: list[tuple[int, str]]) -> None:
    due = [TODAY - timedelta(days=offset) for offset in due_offsets]
    dose_records = [(TODAY - timedelta(days=offset), status) for offset, status in records]
    result = compute_adherence(dose_records, due, TODAY)
    for window in (result.week, result.month):
        assert 0 <= window.taken <= window.due <= window.days
        assert window.percent is None or 0 <= window.percent <= 100
    assert result.week.due <= result.month.due
    assert result.week.taken <= result.month.taken
    taken_days = {day for day, status in dose_records if status == TAKEN}
    counted = sorted(
        (day for day in set(due) if day <= TODAY and not (day == TODAY and result.today_pending)),
        reverse=True,
    )
    # The streak is exactly the run of taken days at the recent end of the counted due days.
    assert all(day in taken_days for day in counted[: result.streak])
    if result.streak < len(counted):
        assert counted[result.streak] not in taken_days
