from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.schedule import (
    LATE_NOTICE,
    REMINDER_BUDGET,
    TIP_BUDGET,
    budget_for,
    is_expired,
    is_late,
    lateness,
    local_date_of,
    next_due_utc,
    occurrence_utc,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_reading(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def due_on(day: date, at: time, zone: str) -> datetime:
    """The occurrence for `day`, asked for from the previous local midnight."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day - timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    due = next_due_utc(at, tz, start)
    while local_date_of(due, tz, at) < day:
        due = next_due_utc(at, tz, due)
    return due


# --------------------------------------------------------------------------------------------
# Ordinary days and the "strictly after" rule


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        ("Europe/Berlin", date(2024, 1, 15), time(9, 0), utc(2024, 1, 15, 8, 0)),
        ("Europe/Berlin", date(2024, 7, 15), time(9, 0), utc(2024, 7, 15, 7, 0)),
        ("America/New_York", date(2024, 1, 15), time(21, 0), utc(2024, 1, 16, 2, 0)),
        ("America/New_York", date(2024, 7, 15), time(21, 0), utc(2024, 7, 16, 1, 0)),
        ("Australia/Sydney", date(2024, 1, 15), time(9, 0), utc(2024, 1, 14, 22, 0)),
        ("Australia/Sydney", date(2024, 7, 15), time(9, 0), utc(2024, 7, 14, 23, 0)),
        ("Asia/Kolkata", date(2024, 3, 1), time(9, 0), utc(2024, 3, 1, 3, 30)),
        ("Asia/Kathmandu", date(2024, 3, 1), time(9, 0), utc(2024, 3, 1, 3, 15)),
        ("Australia/Lord_Howe", date(2024, 1, 15), time(9, 0), utc(2024, 1, 14, 22, 0)),
        ("Australia/Lord_Howe", date(2024, 7, 15), time(9, 0), utc(2024, 7, 14, 22, 30)),
        ("Etc/GMT-2", date(2024, 1, 15), time(9, 0), utc(2024, 1, 15, 7, 0)),
        ("Etc/GMT-2", date(2024, 7, 15), time(9, 0), utc(2024, 7, 15, 7, 0)),
    ],
)
def test_ordinary_days(zone: str, day: date, at: time, expected: datetime) -> None:
    assert due_on(day, at, zone) == expected


def test_result_is_utc_and_strictly_after() -> None:
    tz = ZoneInfo("Europe/Berlin")
    due = next_due_utc(time(9, 0), tz, utc(2024, 1, 15, 7, 59))
    assert due == utc(2024, 1, 15, 8, 0)
    assert due.tzinfo is UTC
    assert next_due_utc(time(9, 0), tz, due) == utc(2024, 1, 16, 8, 0)
    assert next_due_utc(time(9, 0), tz, due - timedelta(microseconds=1)) == due


def test_after_may_be_in_any_zone() -> None:
    tz = ZoneInfo("Asia/Tokyo")
    after = datetime(2024, 5, 1, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles"))  # 00:00 Tokyo
    assert next_due_utc(time(7, 30), tz, after) == utc(2024, 5, 1, 22, 30)


def test_naive_after_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_due_utc(time(9, 0), ZoneInfo("UTC"), datetime(2024, 1, 1))  # noqa: DTZ001


def test_aware_local_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_due_utc(time(9, 0, tzinfo=UTC), ZoneInfo("UTC"), utc(2024, 1, 1))


# --------------------------------------------------------------------------------------------
# Spring forward: a missing local time fires when the clocks jump


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected_utc", "expected_local"),
    [
        # Berlin 2024-03-31: 02:00 -> 03:00
        ("Europe/Berlin", date(2024, 3, 31), time(2, 0), utc(2024, 3, 31, 1), time(3, 0)),
        ("Europe/Berlin", date(2024, 3, 31), time(2, 30), utc(2024, 3, 31, 1), time(3, 0)),
        ("Europe/Berlin", date(2024, 3, 31), time(2, 59), utc(2024, 3, 31, 1), time(3, 0)),
        ("Europe/Berlin", date(2024, 3, 31), time(3, 0), utc(2024, 3, 31, 1), time(3, 0)),
        ("Europe/Berlin", date(2024, 3, 31), time(1, 59), utc(2024, 3, 31, 0, 59), time(1, 59)),
        # New York 2024-03-10: 02:00 -> 03:00
        ("America/New_York", date(2024, 3, 10), time(2, 30), utc(2024, 3, 10, 7), time(3, 0)),
        # Sydney 2024-10-06: 02:00 -> 03:00 (southern hemisphere: DST starts in October)
        ("Australia/Sydney", date(2024, 10, 6), time(2, 30), utc(2024, 10, 5, 16), time(3, 0)),
        # Lord Howe 2024-10-06: 02:00 -> 02:30 (a 30-minute shift)
        (
            "Australia/Lord_Howe",
            date(2024, 10, 6),
            time(2, 15),
            utc(2024, 10, 5, 15, 30),
            time(2, 30),
        ),
        # Moscow 2011-03-27: 02:00 -> 03:00, then stayed on +04 for good
        ("Europe/Moscow", date(2011, 3, 27), time(2, 30), utc(2011, 3, 26, 23), time(3, 0)),
        # São Paulo 2018-11-04: DST began at midnight, 00:00 -> 01:00
        ("America/Sao_Paulo", date(2018, 11, 4), time(0, 30), utc(2018, 11, 4, 3), time(1, 0)),
    ],
)
def test_missing_local_time_fires_at_the_jump(
    zone: str, day: date, at: time, expected_utc: datetime, expected_local: time
) -> None:
    tz = ZoneInfo(zone)
    due = due_on(day, at, zone)
    assert due == expected_utc
    assert local_reading(due, tz) == datetime.combine(day, expected_local)
    assert local_date_of(due, tz, at) == day


def test_day_after_a_gap_is_back_to_normal() -> None:
    tz = ZoneInfo("Europe/Berlin")
    gap_day = due_on(date(2024, 3, 31), time(2, 30), "Europe/Berlin")
    following = next_due_utc(time(2, 30), tz, gap_day)
    assert local_reading(following, tz) == datetime.combine(date(2024, 4, 1), time(2, 30))


# --------------------------------------------------------------------------------------------
# Fall back: a repeated local time fires once, at its first occurrence


@pytest.mark.parametrize(
    ("zone", "day", "at", "first"),
    [
        ("Europe/Berlin", date(2024, 10, 27), time(2, 30), utc(2024, 10, 27, 0, 30)),
        ("America/New_York", date(2024, 11, 3), time(1, 30), utc(2024, 11, 3, 5, 30)),
        ("Australia/Sydney", date(2024, 4, 7), time(2, 30), utc(2024, 4, 6, 15, 30)),
        # Lord Howe 2024-04-07: 02:00 -> 01:30, so 01:45 happens twice, 30 minutes apart
        ("Australia/Lord_Howe", date(2024, 4, 7), time(1, 45), utc(2024, 4, 6, 14, 45)),
        # Moscow 2014-10-26: 02:00 (+04) -> 01:00 (+03) for good
        ("Europe/Moscow", date(2014, 10, 26), time(1, 30), utc(2014, 10, 25, 21, 30)),
    ],
)
def test_repeated_local_time_fires_once(zone: str, day: date, at: time, first: datetime) -> None:
    tz = ZoneInfo(zone)
    due = due_on(day, at, zone)
    assert due == first
    following = next_due_utc(at, tz, due)
    assert local_reading(following, tz) == datetime.combine(day + timedelta(days=1), at)
    assert local_date_of(following, tz, at) == day + timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Zones whose rules changed


def test_moscow_offsets_before_and_after_rule_changes() -> None:
    zone = "Europe/Moscow"
    assert due_on(date(2010, 1, 15), time(9, 0), zone) == utc(2010, 1, 15, 6)  # +03, DST era
    assert due_on(date(2010, 7, 15), time(9, 0), zone) == utc(2010, 7, 15, 5)  # +04 summer
    assert due_on(date(2013, 1, 15), time(9, 0), zone) == utc(2013, 1, 15, 5)  # +04 all year
    assert due_on(date(2015, 1, 15), time(9, 0), zone) == utc(2015, 1, 15, 6)  # +03 all year


def test_sao_paulo_has_no_gap_after_dst_was_abolished() -> None:
    # In 2019 Brazil dropped DST: 00:30 on the first Sunday of November now exists.
    assert due_on(date(2019, 11, 3), time(0, 30), "America/Sao_Paulo") == utc(2019, 11, 3, 3, 30)
    assert due_on(date(2020, 1, 15), time(9, 0), "America/Sao_Paulo") == utc(2020, 1, 15, 12)


def test_a_skipped_calendar_day() -> None:
    # Samoa skipped 2011-12-30 entirely (UTC-10 -> UTC+14). Its 09:00 fires when the clocks
    # jump, at 00:00 on the 31st, and still belongs to the 30th.
    tz = ZoneInfo("Pacific/Apia")
    at = time(9, 0)
    dec_29 = due_on(date(2011, 12, 29), at, "Pacific/Apia")
    dec_30 = next_due_utc(at, tz, dec_29)
    dec_31 = next_due_utc(at, tz, dec_30)
    assert local_reading(dec_30, tz) == datetime.combine(date(2011, 12, 31), time(0, 0))
    assert local_date_of(dec_30, tz, at) == date(2011, 12, 30)
    assert local_reading(dec_31, tz) == datetime.combine(date(2011, 12, 31), time(9, 0))
    assert local_date_of(dec_31, tz, at) == date(2011, 12, 31)


def test_occurrence_utc_matches_next_due_utc() -> None:
    tz = ZoneInfo("Europe/Berlin")
    assert occurrence_utc(date(2024, 3, 31), time(2, 30), tz) == utc(2024, 3, 31, 1)


# --------------------------------------------------------------------------------------------
# A year of daily occurrences, checked against the definition


YEAR_ZONES = [
    ("Europe/Berlin", 2024),
    ("America/New_York", 2024),
    ("Australia/Sydney", 2024),
    ("Asia/Kolkata", 2024),
    ("Asia/Kathmandu", 2024),
    ("Australia/Lord_Howe", 2024),
    ("Europe/Moscow", 2014),
    ("Europe/Moscow", 2011),
    ("America/Sao_Paulo", 2018),
    ("Europe/Dublin", 2024),  # "negative DST" in the tz database
    ("Pacific/Chatham", 2024),  # +12:45 / +13:45
    ("Etc/GMT-2", 2024),
]
YEAR_TIMES = [time(0, 0), time(0, 30), time(1, 45), time(2, 15), time(2, 30), time(9, 0)]


def expected_instants(day: date, at: time, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants at which the clock in `tz` reads `at` on `day` (0, 1 or 2)."""
    wanted = datetime.combine(day, at)
    candidates = {wanted.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)}
    return sorted(c for c in candidates if local_reading(c, tz) == wanted)


@pytest.mark.parametrize(("zone", "year"), YEAR_ZONES)
def test_a_year_of_daily_occurrences(zone: str, year: int) -> None:
    tz = ZoneInfo(zone)
    for at in YEAR_TIMES:
        day = date(year, 1, 1)
        due = next_due_utc(at, tz, datetime.combine(day, time(0), tzinfo=tz) - timedelta(days=1))
        while local_date_of(due, tz, at) < day:  # skip the occurrence for Dec 31 before
            due = next_due_utc(at, tz, due)
        while day.year == year:
            assert local_date_of(due, tz, at) == day, (zone, at, day)
            wanted = datetime.combine(day, at)
            instants = expected_instants(day, at, tz)
            if instants:  # exists once or twice: the first one
                assert due == instants[0], (zone, at, day)
            else:  # in a gap: the moment the clock jumps past it, on a whole minute
                just_before = due - timedelta(microseconds=1)
                assert local_reading(just_before, tz) < wanted, (zone, at, day)
                assert local_reading(due, tz) > wanted, (zone, at, day)
                assert local_reading(due, tz).time().replace(hour=0, minute=0) == time(0)
            following = next_due_utc(at, tz, due)
            assert following > due
            due, day = following, day + timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Random instants


ZONES = st.sampled_from(
    [
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "America/Sao_Paulo",
        "Europe/Moscow",
        "Pacific/Chatham",
        "America/St_Johns",
    ]
)
INSTANTS = st.datetimes(
    min_value=datetime(2005, 1, 1),  # noqa: DTZ001
    max_value=datetime(2035, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=300, deadline=None)
@given(zone=ZONES, at=st.times(), after=INSTANTS)
def test_next_due_is_the_first_occurrence_after(zone: str, at: time, after: datetime) -> None:
    tz = ZoneInfo(zone)
    due = next_due_utc(at, tz, after)
    assert due > after
    assert due - after <= timedelta(days=1, hours=3)
    day = local_date_of(due, tz, at)
    assert occurrence_utc(day, at, tz) == due
    assert occurrence_utc(day - timedelta(days=1), at, tz) <= after
    assert next_due_utc(at, tz, due - timedelta(microseconds=1)) == due


# --------------------------------------------------------------------------------------------
# Lateness and expiry


def test_budgets() -> None:
    assert timedelta(hours=2) == TIP_BUDGET
    assert timedelta(hours=6) == REMINDER_BUDGET
    assert timedelta(minutes=5) == LATE_NOTICE
    assert budget_for("tip") == TIP_BUDGET
    assert budget_for("reminder") == REMINDER_BUDGET
    assert budget_for("snooze") == REMINDER_BUDGET
    with pytest.raises(ValueError, match="unknown"):
        budget_for("newsletter")


def test_lateness_is_signed() -> None:
    due = utc(2024, 1, 1, 9)
    assert lateness(due, utc(2024, 1, 1, 9, 7)) == timedelta(minutes=7)
    assert lateness(due, utc(2024, 1, 1, 8, 50)) == timedelta(minutes=-10)
    with pytest.raises(ValueError, match="aware"):
        lateness(due, datetime(2024, 1, 1, 9))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("kind", "late_by", "expired"),
    [
        ("tip", timedelta(0), False),
        ("tip", TIP_BUDGET, False),
        ("tip", TIP_BUDGET + timedelta(seconds=1), True),
        ("reminder", TIP_BUDGET + timedelta(seconds=1), False),
        ("reminder", REMINDER_BUDGET, False),
        ("reminder", REMINDER_BUDGET + timedelta(seconds=1), True),
        ("snooze", REMINDER_BUDGET + timedelta(seconds=1), True),
        ("tip", -timedelta(hours=5), False),
    ],
)
def test_is_expired(kind: str, late_by: timedelta, expired: bool) -> None:
    due = utc(2024, 1, 1, 9)
    assert is_expired(kind, due, due + late_by) is expired


def test_is_late() -> None:
    due = utc(2024, 1, 1, 9)
    assert not is_late(due, due)
    assert not is_late(due, due + LATE_NOTICE)
    assert is_late(due, due + LATE_NOTICE + timedelta(seconds=1))
    assert not is_late(due, due - timedelta(hours=1))
    # the same instant expressed in another zone
    assert is_late(due, (due + timedelta(minutes=6)).astimezone(ZoneInfo("Asia/Kolkata")))
