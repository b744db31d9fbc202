"""What /remind understands: every form of the table in the README, and every way it says no."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.rule_input import (
    Course,
    Problem,
    Repeat,
    RuleError,
    StockInput,
    parse_course,
    parse_repeat,
    parse_request,
    parse_stock,
    parse_times,
    resolve,
    with_course,
    with_repeat,
    with_times,
)
from bot.domain.rules import EVERY_DAY, WEEKENDS, WORKDAYS, Rule, next_occurrence
from bot.domain.timeparse import LABEL_MAX_CHARS

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
MON, WED, FRI = 1, 4, 16


def rule_of(args: str, now: datetime = NOW, zone: ZoneInfo = BERLIN) -> tuple[Rule, str]:
    request = parse_request(args)
    assert not isinstance(request, RuleError), request
    rule = resolve(request, zone, now)
    assert not isinstance(rule, RuleError), rule
    return rule, request.label


def error_of(args: str, now: datetime = NOW) -> RuleError:
    request = parse_request(args)
    if isinstance(request, RuleError):
        return request
    rule = resolve(request, BERLIN, now)
    assert isinstance(rule, RuleError), rule
    return rule


@pytest.mark.parametrize(
    ("args", "expected", "label"),
    [
        ("21:00 magnesium", Rule((time(21, 0),)), "magnesium"),
        ("9pm citrate", Rule((time(21, 0),)), "citrate"),
        ("9:30 am with breakfast", Rule((time(9, 30),)), "with breakfast"),
        (
            "08:00 20:00 magnesium citrate 200 mg",
            Rule((time(8, 0), time(20, 0))),
            "magnesium citrate 200 mg",
        ),
        ("8am and 8pm zinc", Rule((time(8, 0), time(20, 0))), "zinc"),
        ("20:00,08:00 zinc", Rule((time(8, 0), time(20, 0))), "zinc"),
        (
            "mon,wed,fri 08:00 magnesium",
            Rule((time(8, 0),), weekdays=MON | WED | FRI),
            "magnesium",
        ),
        (
            "Mon, Wed, Fri 08:00 magnesium",
            Rule((time(8, 0),), weekdays=MON | WED | FRI),
            "magnesium",
        ),
        ("monday friday 08:00", Rule((time(8, 0),), weekdays=MON | FRI), ""),
        ("weekdays 7:30 am", Rule((time(7, 30),), weekdays=WORKDAYS), ""),
        ("weekends 10:00", Rule((time(10, 0),), weekdays=WEEKENDS), ""),
        ("mon-fri 8:00", Rule((time(8, 0),), weekdays=WORKDAYS), ""),
        ("sat-mon 8:00", Rule((time(8, 0),), weekdays=WEEKENDS | MON), ""),
        ("every mon 8:00", Rule((time(8, 0),), weekdays=MON), ""),
        ("every day 8:00", Rule((time(8, 0),)), ""),
        # Every N days counts from the first date a time is still ahead: today at 21:00.
        (
            "every 2 days 21:00 magnesium",
            Rule((time(21, 0),), every=2, anchor=date(2026, 3, 2)),
            "magnesium",
        ),
        ("every other day 21:00", Rule((time(21, 0),), every=2, anchor=date(2026, 3, 2)), ""),
        # 08:00 has just come today (it is 08:00): the first one is tomorrow.
        ("every 2 weeks 08:00", Rule((time(8, 0),), every=14, anchor=date(2026, 3, 3)), ""),
        # A course: 30 days from the first reminder, today, so the last day is 31 March.
        (
            "21:00 magnesium for 30 days",
            Rule((time(21, 0),), until=date(2026, 3, 31)),
            "magnesium",
        ),
        (
            "21:00 for 2 weeks magnesium",
            Rule((time(21, 0),), until=date(2026, 3, 15)),
            "magnesium",
        ),
        (
            "07:00 iron for 3 days",
            Rule((time(7, 0),), until=date(2026, 3, 5)),
            "iron",
        ),  # from tomorrow
        (
            "21:00 magnesium until 2027-01-31",
            Rule((time(21, 0),), until=date(2027, 1, 31)),
            "magnesium",
        ),
        (
            "mon,wed 08:00 x for 10 days",
            Rule((time(8, 0),), weekdays=MON | WED, until=date(2026, 3, 13)),  # from Wed 4th
            "x",
        ),
        ("21:00 magnesium for 2 people", Rule((time(21, 0),)), "magnesium for 2 people"),
        ("21:00 until dinner", Rule((time(21, 0),)), "until dinner"),
        (
            "once tomorrow 09:00 blood test",
            Rule((time(9, 0),), anchor=date(2026, 3, 3), once=True),
            "blood test",
        ),
        (
            "tomorrow 09:00 blood test",
            Rule((time(9, 0),), anchor=date(2026, 3, 3), once=True),
            "blood test",
        ),
        (
            "once 2026-12-24 09:00 gift",
            Rule((time(9, 0),), anchor=date(2026, 12, 24), once=True),
            "gift",
        ),
        ("once today 21:00", Rule((time(21, 0),), anchor=date(2026, 3, 2), once=True), ""),
        ("once 21:00 call", Rule((time(21, 0),), anchor=date(2026, 3, 2), once=True), "call"),
        (
            "once 07:00 call",
            Rule((time(7, 0),), anchor=date(2026, 3, 3), once=True),
            "call",
        ),  # tomorrow
        ("once fri 09:00", Rule((time(9, 0),), anchor=date(2026, 3, 6), once=True), ""),
        (
            "once mon 07:00",
            Rule((time(7, 0),), anchor=date(2026, 3, 9), once=True),
            "",
        ),  # next week
        ("in 30 min tea", Rule((time(8, 30),), anchor=date(2026, 3, 2), once=True), "tea"),
        (
            "in 2 h call the pharmacy",
            Rule((time(10, 0),), anchor=date(2026, 3, 2), once=True),
            "call the pharmacy",
        ),
        ("in 20h", Rule((time(4, 0),), anchor=date(2026, 3, 3), once=True), ""),
    ],
)
def test_every_form_of_the_table(args: str, expected: Rule, label: str) -> None:
    assert rule_of(args) == (expected, label)


@pytest.mark.parametrize(
    ("args", "expected_time", "label"),
    [
        ("9:30 am magnesium citrate 200 mg", time(9, 30), "magnesium citrate 200 mg"),
        ("9 pm magnesium", time(21, 0), "magnesium"),
        ("21:00", time(21, 0), ""),
        ("9 PM", time(21, 0), ""),
        ("  7:15   take   with  food  ", time(7, 15), "take with food"),
        ("9:30 amla powder", time(9, 30), "amla powder"),  # "amla" is not "am"
        ("noon magnesium", time(12, 0), "magnesium"),
        ("8:00 " + "magnesium " * 30, time(8, 0), ("magnesium " * 11)[:LABEL_MAX_CHARS].strip()),
    ],
)
def test_the_label_is_what_follows_the_times(args: str, expected_time: time, label: str) -> None:
    request = parse_request(args)
    assert not isinstance(request, RuleError)
    assert (request.times, request.label) == ((expected_time,), label)
    assert len(request.label) <= LABEL_MAX_CHARS


def test_in_n_minutes_rounds_up_to_a_whole_minute() -> None:
    rule, _ = rule_of("in 30 min tea", NOW.replace(second=20))
    assert rule.times == (time(8, 31),)


def test_in_n_minutes_inside_a_repeated_hour_never_fires_early() -> None:
    # 25 Oct 2026, Berlin: 03:00 CEST -> 02:00 CET. At 02:10 CET (the second pass, 01:10 UTC)
    # "in 20 min" is 02:30 CET; the wall time 02:30 names the first pass, an hour ago.
    now = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    rule, _ = rule_of("in 20 min", now)
    due = next_occurrence(rule, BERLIN, now)
    assert due is not None
    assert due >= datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert due.astimezone(BERLIN).time() == time(3, 0)  # the first minute after the repeat


@pytest.mark.parametrize(
    ("args", "problem", "value"),
    [
        ("every 0 days", Problem.EVERY, "every 0 days"),
        ("every 31 days 08:00", Problem.EVERY, "every 31 days"),
        ("every 2 parsecs 08:00", Problem.EVERY, "every 2 parsecs"),
        ("every blue moon 08:00", Problem.EVERY, "every blue"),
        ("mon,xyz 08:00", Problem.DAY, "xyz"),
        ("xyz,abc 08:00", Problem.DAY, "xyz"),
        ("mon,wed", Problem.NO_TIME, ""),
        ("mon,wed fri-ish", Problem.TIME, "fri-ish"),
        ("mon,wed every 2 days 08:00", Problem.DAYS_AND_EVERY, "mon,wed every 2 days"),
        ("25:99", Problem.TIME, "25:99"),
        ("9 glycinate", Problem.TIME, "9"),
        ("abc", Problem.TIME, "abc"),
        ("magnesium 9:30", Problem.TIME, "magnesium"),
        ("", Problem.NO_TIME, ""),
        ("8 9 10 11 12", Problem.TIME, "8"),
        ("1am 2am 3am 4am 5am", Problem.TOO_MANY_TIMES, "1am 2am 3am 4am 5am"),
        ("21:00 x for 0 days", Problem.COURSE, "for 0 days"),
        ("21:00 x for 400 days", Problem.COURSE, "for 400 days"),
        ("21:00 x until 2027-02-30", Problem.DATE, "2027-02-30"),
        ("once 24.12.2026 09:00", Problem.DATE, "24.12.2026"),
        ("once 2040-01-01 09:00", Problem.DATE, "2040-01-01 09:00"),
        ("once 2020-01-01 09:00 x", Problem.PAST, "2020-01-01 09:00"),
        ("once today 07:00 x", Problem.PAST, "today 07:00"),
        ("21:00 x until 2026-03-01", Problem.PAST, "until 2026-03-01"),
        ("07:00 x until 2026-03-02", Problem.COURSE_EMPTY, "until 2026-03-02"),
        ("in 30 parsecs", Problem.IN, "in 30 parsecs"),
        ("in 0 min", Problem.IN, "in 0 min"),
        ("in 3 days", Problem.IN, "in 3 days"),
        ("in", Problem.IN, "in"),
        ("once tomorrow 09:00 21:00", Problem.ONCE, "09:00 21:00"),
        ("once mon,wed 09:00", Problem.ONCE, "mon,wed"),
        ("once tomorrow 09:00 x for 3 days", Problem.ONCE, "for 3 days"),
        ("in 30 min x until 2027-01-01", Problem.ONCE, "until 2027-01-01"),
        ("once", Problem.NO_TIME, ""),
    ],
)
def test_unclear_or_impossible_input_names_the_part(
    args: str, problem: Problem, value: str
) -> None:
    assert error_of(args) == RuleError(problem, value)


def test_a_one_off_date_that_passed_is_past_in_the_users_own_zone() -> None:
    late = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Berlin, still 2 March
    assert error_of("once 2026-03-02 23:00", late).problem is Problem.PAST
    request = parse_request("once 2026-03-02 23:00")
    assert not isinstance(request, RuleError)
    # In New York it is 17:30 on 2 March: 23:00 is still ahead.
    assert isinstance(resolve(request, ZoneInfo("America/New_York"), late), Rule)


# --------------------------------------------------------------------------------------------
# Typed answers to the change buttons


def test_typed_times() -> None:
    assert parse_times("8:30") == (time(8, 30),)
    assert parse_times("20:00 08:00") == (time(8, 0), time(20, 0))
    assert parse_times("9 pm and 9 am") == (time(9, 0), time(21, 0))
    assert parse_times("whenever") == RuleError(Problem.TIME, "whenever")
    assert parse_times("08:00 soon") == RuleError(Problem.TIME, "soon")
    assert parse_times("") == RuleError(Problem.NO_TIME)
    assert parse_times("1am 2am 3am 4am 5am").problem is Problem.TOO_MANY_TIMES  # type: ignore[union-attr]


def test_typed_days() -> None:
    assert parse_repeat("mon,wed,fri") == Repeat(weekdays=MON | WED | FRI)
    assert parse_repeat("weekdays") == Repeat(weekdays=WORKDAYS)
    assert parse_repeat("every day") == Repeat()
    assert parse_repeat("daily") == Repeat(weekdays=EVERY_DAY)
    assert parse_repeat("every 3 days") == Repeat(every=3)
    assert parse_repeat("mon,xyz") == RuleError(Problem.DAY, "xyz")
    assert parse_repeat("mon soon") == RuleError(Problem.DAY, "soon")
    assert parse_repeat("") == RuleError(Problem.DAY)


def test_typed_courses() -> None:
    assert parse_course("30 days") == Course(for_days=30, text="for 30 days")
    assert parse_course("for 2 weeks") == Course(for_days=14, text="for 2 weeks")
    assert parse_course("until 2027-01-31") == Course(
        until=date(2027, 1, 31), text="until 2027-01-31"
    )
    assert parse_course("2027-01-31") == Course(until=date(2027, 1, 31), text="until 2027-01-31")
    assert parse_course("no end") == Course(text="no end")
    assert parse_course("0 days") == RuleError(Problem.COURSE, "for 0 days")
    assert parse_course("a while") == RuleError(Problem.COURSE, "a while")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60", StockInput(60, 1)),
        ("60 2", StockInput(60, 2)),
        ("60 x2", StockInput(60, 2)),
        ("0", StockInput(0, 1)),
        ("off", StockInput(None)),
        ("OFF", StockInput(None)),
        ("sixty", None),
        ("-5", None),
        ("10000", None),
        ("60 0", None),
        ("60 21", None),
        ("60 2 3", None),
        ("", None),
    ],
)
def test_typed_stock(text: str, expected: StockInput | None) -> None:
    assert parse_stock(text) == expected


def test_changing_the_days_recounts_every_n_days_from_now_and_keeps_the_course() -> None:
    rule = Rule((time(21, 0),), weekdays=MON, until=date(2026, 6, 1))
    changed = with_repeat(rule, Repeat(every=3), BERLIN, NOW)
    assert changed == Rule(
        (time(21, 0),), every=3, anchor=date(2026, 3, 2), until=date(2026, 6, 1)
    )
    assert with_repeat(changed, Repeat(every=3), BERLIN, NOW + (NOW - NOW)) == changed
    assert with_repeat(changed, Repeat(weekdays=WEEKENDS), BERLIN, NOW) == Rule(
        (time(21, 0),), weekdays=WEEKENDS, until=date(2026, 6, 1)
    )
    once = Rule((time(9, 0),), anchor=date(2026, 3, 3), once=True)
    assert with_repeat(once, Repeat(), BERLIN, NOW) == RuleError(Problem.ONCE)


def test_changing_times_and_course() -> None:
    rule = Rule((time(21, 0),), every=2, anchor=date(2026, 3, 1))
    assert with_times(rule, (time(8, 0), time(20, 0)), BERLIN, NOW) == Rule(
        (time(8, 0), time(20, 0)), every=2, anchor=date(2026, 3, 1)
    )
    once = Rule((time(9, 0),), anchor=date(2026, 3, 3), once=True)
    assert with_times(once, (time(7, 0),), BERLIN, NOW) == Rule(
        (time(7, 0),), anchor=date(2026, 3, 3), once=True
    )
    assert with_times(once, (time(7, 0), time(8, 0)), BERLIN, NOW).problem is Problem.ONCE  # type: ignore[union-attr]
    today = Rule((time(9, 0),), anchor=date(2026, 3, 2), once=True)
    assert with_times(today, (time(7, 0),), BERLIN, NOW).problem is Problem.PAST  # type: ignore[union-attr]
    # for N days counts from the next reminder: day 1 is 3 March (the 2 March one has passed)
    assert with_course(rule, Course(for_days=5), BERLIN, NOW) == Rule(
        (time(21, 0),), every=2, anchor=date(2026, 3, 1), until=date(2026, 3, 7)
    )
    ended = Rule((time(21, 0),), until=date(2026, 3, 1))
    assert with_course(ended, Course(), BERLIN, NOW) == Rule((time(21, 0),))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_a_request_or_a_named_problem(text: str) -> None:
    request = parse_request(text)
    if isinstance(request, RuleError):
        assert isinstance(request.problem, Problem)
        assert len(request.value) <= 60
        return
    rule = resolve(request, BERLIN, NOW)
    assert isinstance(rule, Rule | RuleError)
