"""Reminder rules: occurrences of every rule kind against a brute-force oracle, and stock.

The oracle is written without `bot.domain.schedule` or the rule's own date logic: it lists
every local date near `after`, decides from the rule's fields alone whether the rule comes that
day, finds each time's instant by trying both folds and walking a skipped time forward minute
by minute, and takes the smallest instant after `after`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.rules import (
    EVERY_DAY,
    LOW_STOCK_DAYS,
    ONE_OFF_KEEP,
    WEEKENDS,
    WORKDAYS,
    Rule,
    RuleKind,
    after_dose,
    daily,
    is_last,
    is_spent,
    next_due,
    next_occurrence,
    occurrence_date,
    one_off_utc,
    rule_from_columns,
    stock_of,
)
from bot.domain.schedule import next_due_utc
from tests.support.wall_clock import fires_at

ZONES = st.sampled_from(
    [
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "America/Santiago",
        "America/St_Johns",
        "Pacific/Chatham",
        "Africa/Casablanca",
        "Asia/Kathmandu",
        "UTC",
    ]
)
AFTER = st.datetimes(
    min_value=datetime(2015, 1, 1),  # noqa: DTZ001
    max_value=datetime(2035, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
# Times near the usual transitions (midnight to 03:59) come often: that is where DST bites.
TIMES = st.one_of(
    st.builds(time, st.integers(0, 3), st.sampled_from([0, 15, 30, 45, 59])),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)
TIME_LISTS = st.lists(TIMES, min_size=1, max_size=4, unique=True).map(lambda ts: tuple(sorted(ts)))
DAY_OFFSETS = st.integers(-35, 35)  # anchors and course ends, in days from `after`'s date


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# The oracle


def comes_on(rule: Rule, day: date) -> bool:
    """Whether the rule comes on `day`, from its fields alone."""
    if rule.once:
        return day == rule.anchor
    if rule.until is not None and day > rule.until:
        return False
    if rule.every > 1:
        assert rule.anchor is not None
        return day >= rule.anchor and (day.toordinal() - rule.anchor.toordinal()) % rule.every == 0
    return day.isoweekday() - 1 in [n for n in range(7) if rule.weekdays >> n & 1]


def oracle(rule: Rule, tz: ZoneInfo, after: datetime) -> tuple[datetime, date] | None:
    """The first (instant, local date) of the rule after `after`, by trying every day near it."""
    start = after.astimezone(tz).date()
    candidates = [
        (fires_at(day, wall, tz), day)
        for offset in range(-2, 40)
        if comes_on(rule, day := start + timedelta(days=offset))
        for wall in rule.times
    ]
    later = [(instant, day) for instant, day in candidates if instant > after]
    return min(later) if later else None


# --------------------------------------------------------------------------------------------
# Rules of every kind


@st.composite
def rules(draw: st.DrawFn, kind: RuleKind | None = None, course: bool | None = None) -> Rule:
    """A rule of `kind` (any kind when None), maybe a course, anchored near day 0 = 2015-01-01.

    Dates are offsets: the test shifts them next to its `after` (see `near`).
    """
    kind = kind or draw(st.sampled_from(list(RuleKind)))
    base = date(2015, 1, 1)
    if kind is RuleKind.ONE_OFF:
        return Rule((draw(TIMES),), anchor=base + timedelta(draw(DAY_OFFSETS)), once=True)
    times = draw(TIME_LISTS)
    until = None
    if course if course is not None else draw(st.booleans()):
        until = base + timedelta(draw(DAY_OFFSETS))
    if kind is RuleKind.INTERVAL:
        anchor = base + timedelta(draw(DAY_OFFSETS))
        return Rule(times, every=draw(st.integers(2, 30)), anchor=anchor, until=until)
    if kind is RuleKind.WEEKDAYS:
        mask = draw(st.integers(1, EVERY_DAY - 1))
        return Rule(times, weekdays=mask, until=until)
    return Rule(times, until=until)


def near(rule: Rule, after: datetime) -> Rule:
    """Move the rule's dates from around 2015-01-01 to around `after`'s date."""
    shift = after.date() - date(2015, 1, 1)
    return Rule(
        rule.times,
        rule.weekdays,
        rule.every,
        None if rule.anchor is None else rule.anchor + shift,
        None if rule.until is None else rule.until + shift,
        rule.once,
    )


def check_against_oracle(rule: Rule, zone: str, after: datetime) -> None:
    tz = ZoneInfo(zone)
    expected = oracle(rule, tz, after)
    got = next_occurrence(rule, tz, after)
    assert got == (None if expected is None else expected[0])
    if expected is not None and got is not None:
        assert occurrence_date(rule, tz, got) == expected[1]
        assert next_occurrence(rule, tz, got - timedelta(microseconds=1)) == got


@settings(max_examples=200, deadline=None)
@given(rule=rules(RuleKind.DAILY, course=False), zone=ZONES, after=AFTER)
def test_daily_rules_come_every_day_at_each_time(rule: Rule, zone: str, after: datetime) -> None:
    check_against_oracle(near(rule, after), zone, after)


@settings(max_examples=200, deadline=None)
@given(rule=rules(RuleKind.WEEKDAYS, course=False), zone=ZONES, after=AFTER)
def test_days_of_the_week_come_on_those_local_days_only(
    rule: Rule, zone: str, after: datetime
) -> None:
    check_against_oracle(near(rule, after), zone, after)


@settings(max_examples=200, deadline=None)
@given(rule=rules(RuleKind.INTERVAL, course=False), zone=ZONES, after=AFTER)
def test_every_n_days_counts_local_dates_from_the_first_one(
    rule: Rule, zone: str, after: datetime
) -> None:
    check_against_oracle(near(rule, after), zone, after)


@settings(max_examples=300, deadline=None)
@given(
    rule=st.sampled_from([RuleKind.DAILY, RuleKind.WEEKDAYS, RuleKind.INTERVAL]).flatmap(
        lambda kind: rules(kind, course=True)
    ),
    zone=ZONES,
    after=AFTER,
)
def test_a_course_ends_after_its_last_local_day(rule: Rule, zone: str, after: datetime) -> None:
    rule = near(rule, after)
    check_against_oracle(rule, zone, after)
    tz = ZoneInfo(zone)
    due = next_occurrence(rule, tz, after)
    if due is not None:
        day = occurrence_date(rule, tz, due)
        assert day is not None
        assert rule.until is not None
        assert day <= rule.until
        assert is_last(rule, tz, due) == (oracle(rule, tz, due) is None)


@settings(max_examples=200, deadline=None)
@given(rule=rules(RuleKind.ONE_OFF), zone=ZONES, after=AFTER)
def test_a_one_off_comes_once_then_waits_a_day_to_be_removed(
    rule: Rule, zone: str, after: datetime
) -> None:
    rule = near(rule, after)
    check_against_oracle(rule, zone, after)
    tz = ZoneInfo(zone)
    when = one_off_utc(rule, tz)
    assert rule.anchor is not None
    assert when == fires_at(rule.anchor, rule.times[0], tz)
    due = next_due(rule, tz, after)
    if after < when:
        assert due == when
        assert not is_spent(rule, tz, when)
    else:
        assert due == max(when + ONE_OFF_KEEP, after)
        assert due is not None
        assert is_spent(rule, tz, due)
    assert next_occurrence(rule, tz, when) is None


@settings(max_examples=300, deadline=None)
@given(rule=rules(), zone=ZONES, after=AFTER)
def test_any_rule_matches_the_oracle(rule: Rule, zone: str, after: datetime) -> None:
    check_against_oracle(near(rule, after), zone, after)


@settings(max_examples=200, deadline=None)
@given(at=TIMES, zone=ZONES, after=AFTER)
def test_one_time_every_day_gives_exactly_the_instants_reminders_always_had(
    at: time, zone: str, after: datetime
) -> None:
    tz = ZoneInfo(zone)
    assert next_due(daily(at), tz, after) == next_due_utc(at, tz, after)
    # The same through the columns a row from before rules holds (defaults for the rest).
    stored = rule_from_columns(f"{at.hour:02d}:{at.minute:02d}")
    assert stored == daily(at)
    assert next_due(stored, tz, after) == next_due_utc(at, tz, after)


# --------------------------------------------------------------------------------------------
# Examples a person can check


def test_several_times_a_day_are_separate_occurrences_in_order() -> None:
    tz = ZoneInfo("Europe/Berlin")
    rule = Rule((time(8, 0), time(20, 0)))
    first = next_occurrence(rule, tz, utc(2026, 3, 2, 6, 0))
    assert first == utc(2026, 3, 2, 7, 0)  # 08:00 CET
    second = next_occurrence(rule, tz, first)
    assert second == utc(2026, 3, 2, 19, 0)
    assert next_occurrence(rule, tz, second) == utc(2026, 3, 3, 7, 0)


def test_two_times_in_one_spring_gap_fire_once_at_the_jump() -> None:
    tz = ZoneInfo("Europe/Berlin")  # 29 Mar 2026: 02:00 -> 03:00
    rule = Rule((time(2, 15), time(2, 45)))
    due = next_occurrence(rule, tz, utc(2026, 3, 28, 12))
    assert due == utc(2026, 3, 29, 1, 0)  # 03:00 CEST, for both
    assert next_occurrence(rule, tz, due) == utc(2026, 3, 30, 0, 15)


def test_days_of_the_week_follow_the_local_calendar_across_midnight_utc() -> None:
    tz = ZoneInfo("Pacific/Chatham")  # +13:45 in January: Monday 08:00 there is Sunday UTC
    monday = Rule((time(8, 0),), weekdays=1)
    due = next_occurrence(monday, tz, utc(2026, 1, 1))
    assert due is not None
    assert due.weekday() == 6  # Sunday in UTC
    assert due.astimezone(tz).weekday() == 0  # Monday where the person is
    assert due.astimezone(tz).time() == time(8, 0)


def test_every_two_days_keeps_its_rhythm_over_a_dst_change() -> None:
    tz = ZoneInfo("America/New_York")  # 8 Mar 2026: clocks go forward
    rule = Rule((time(21, 0),), every=2, anchor=date(2026, 3, 5))
    days, after = [], utc(2026, 3, 1)
    for _ in range(5):
        due = next_occurrence(rule, tz, after)
        assert due is not None
        days.append(due.astimezone(tz).date().day)
        assert due.astimezone(tz).time() == time(21, 0)
        after = due
    assert days == [5, 7, 9, 11, 13]


def test_a_course_until_a_date_stops_after_that_day() -> None:
    tz = ZoneInfo("Europe/Berlin")
    rule = Rule((time(8, 0), time(20, 0)), until=date(2026, 3, 3))
    seen = []
    after = utc(2026, 3, 2)
    while (due := next_occurrence(rule, tz, after)) is not None:
        seen.append(due)
        after = due
    assert seen == [
        utc(2026, 3, 2, 7),
        utc(2026, 3, 2, 19),
        utc(2026, 3, 3, 7),
        utc(2026, 3, 3, 19),
    ]
    assert is_last(rule, tz, seen[-1])
    assert not is_last(rule, tz, seen[-2])
    assert next_due(rule, tz, seen[-1]) is None


def test_a_spent_one_off_is_removed_at_once_when_its_day_is_over() -> None:
    tz = ZoneInfo("UTC")
    rule = Rule((time(9, 0),), anchor=date(2026, 3, 2), once=True)
    late = utc(2026, 3, 5)
    assert next_due(rule, tz, late) == late  # due now: the next claim removes it
    assert is_spent(rule, tz, late)


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        (Rule((time(8, 0),)), RuleKind.DAILY),
        (Rule((time(8, 0),), weekdays=WORKDAYS), RuleKind.WEEKDAYS),
        (Rule((time(8, 0),), every=3, anchor=date(2026, 1, 1)), RuleKind.INTERVAL),
        (Rule((time(8, 0),), anchor=date(2026, 1, 1), once=True), RuleKind.ONE_OFF),
    ],
)
def test_kinds(rule: Rule, kind: RuleKind) -> None:
    assert rule.kind is kind


@pytest.mark.parametrize(
    "fields",
    [
        {"times": ()},
        {"times": tuple(time(h, 0) for h in range(5))},
        {"times": (time(9, 0), time(8, 0))},  # unsorted
        {"times": (time(9, 0, 30),)},  # not a whole minute
        {"times": (time(9, 0),), "weekdays": 0},
        {"times": (time(9, 0),), "every": 31, "anchor": date(2026, 1, 1)},
        {"times": (time(9, 0),), "every": 2},  # no first date
        {"times": (time(9, 0),), "every": 2, "anchor": date(2026, 1, 1), "weekdays": WEEKENDS},
        {"times": (time(9, 0), time(10, 0)), "anchor": date(2026, 1, 1), "once": True},
        {"times": (time(9, 0),), "anchor": date(2026, 1, 1), "once": True, "until": date.max},
        {"times": (time(9, 0),), "anchor": date(2026, 1, 1)},  # a date for a daily rule
    ],
)
def test_impossible_rules_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Rule(**fields)  # type: ignore[arg-type]


def test_columns_round_trip_and_bad_rows_hold_no_rule() -> None:
    rule = Rule(
        (time(8, 0), time(20, 30)), every=2, anchor=date(2026, 1, 1), until=date(2026, 2, 1)
    )
    assert rule.times_text == "08:00,20:30"
    assert rule_from_columns(rule.times_text, 127, 2, date(2026, 1, 1), date(2026, 2, 1)) == rule
    assert rule_from_columns("25:00") is None
    assert rule_from_columns("08:00", weekdays=0) is None


# --------------------------------------------------------------------------------------------
# Stock


@pytest.mark.parametrize(
    ("rule", "count", "per_dose", "days", "low", "out"),
    [
        (Rule((time(8, 0),)), 60, 1, 60, False, False),
        (Rule((time(8, 0),)), LOW_STOCK_DAYS, 1, 7, True, False),
        (Rule((time(8, 0),)), LOW_STOCK_DAYS + 1, 1, 8, False, False),
        (Rule((time(8, 0), time(20, 0))), 15, 1, 7, True, False),  # 2 a day
        (Rule((time(8, 0), time(20, 0))), 16, 1, 8, False, False),
        (Rule((time(8, 0),)), 20, 2, 10, False, False),  # 2 tablets a dose
        (Rule((time(8, 0),), weekdays=0b0010101), 3, 1, 7, True, False),  # 3 days a week
        (Rule((time(8, 0),), every=7, anchor=date(2026, 1, 1)), 2, 1, 14, False, False),
        (Rule((time(8, 0),)), 1, 2, 0, False, True),  # not enough for one dose
        (Rule((time(8, 0),)), 0, 1, 0, False, True),
        (Rule((time(8, 0),), anchor=date(2026, 1, 1), once=True), 5, 1, None, False, False),
    ],
)
def test_days_of_stock_follow_the_doses_per_day(
    rule: Rule, count: int, per_dose: int, days: int | None, low: bool, out: bool
) -> None:
    stock = stock_of(rule, count, per_dose)
    assert stock is not None
    assert (stock.days_left, stock.low, stock.out) == (days, low, out)
    assert stock.needs_refill == (low or out)


def test_a_course_ending_before_the_tablets_run_out_is_not_low() -> None:
    rule = Rule((time(8, 0),), until=date(2026, 3, 5))
    today = date(2026, 3, 2)  # 4 doses left in the course
    low_stock = stock_of(rule, 5, 1, today)
    assert low_stock is not None
    assert not low_stock.low
    short = stock_of(rule, 3, 1, today)
    assert short is not None
    assert short.low


def test_taken_lowers_the_count_by_one_dose_and_never_below_zero() -> None:
    assert after_dose(10, 1) == 9
    assert after_dose(10, 3) == 7
    assert after_dose(1, 2) == 0
    assert after_dose(None, 1) is None
    assert stock_of(Rule((time(8, 0),)), None, 1) is None
