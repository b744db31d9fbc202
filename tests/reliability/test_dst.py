"""DST: ten zones, 400 simulated days, every rule kind at the right local minute on its days.

Reminders are set with the real commands (/timezone, /remind). The first test has a daily
reminder per zone delivered by the dispatcher and the sender on a fake clock, end to end. The
second gives every zone one reminder of each kind (days of the week, every N days, several
times a day, a course that ends part-way, a one-off on a DST change day) and runs the
dispatcher's claim at every expected instant, checking what it claims (the sender is the same
for every kind, and the first test covers it).

The expected instants come from an oracle written independently of `bot.domain`: it decides
from the command's words which local dates a reminder comes on, tries both folds of each wall
time and, when neither exists (the spring-forward gap), walks forward one local minute at a
time.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.context import BotApp, deps_of
from bot.db.models import Delivery, Reminder
from bot.delivery.dispatcher import claim_due
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.schedules import running
from tests.support.wall_clock import fires_at, instants

DAYS = 400
START = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
# (zone, local time): both hemispheres, half-hour and 45-minute offsets, 30-minute DST,
# transitions at midnight, zones without DST and one whose rules changed (Morocco's Ramadan).
ZONES = (
    ("Europe/Berlin", "02:30"),  # gap in March, repeated in October
    ("America/New_York", "02:30"),
    ("Australia/Sydney", "02:30"),  # southern hemisphere: repeated in April, gap in October
    ("America/Santiago", "00:30"),  # the clocks jump at midnight
    ("Asia/Kolkata", "09:00"),  # +05:30, no DST
    ("Asia/Kathmandu", "21:15"),  # +05:45, no DST
    ("Australia/Lord_Howe", "02:15"),  # DST of 30 minutes
    ("Pacific/Chatham", "02:50"),  # +12:45 / +13:45
    ("America/St_Johns", "01:30"),  # -03:30, repeated hour in November
    ("Africa/Casablanca", "02:30"),  # rules changed in 2018; an hour back during Ramadan
)
USER_BASE = 8100


async def test_ten_zones_four_hundred_days_each_reminder_once_a_day_at_its_minute(
    app: BotApp, fake: FakeRequest, clock: FakeClock
) -> None:
    clock.set(START)
    for n, (zone, at) in enumerate(ZONES):
        chat = Chat(app, fake, user_id=USER_BASE + n)
        await chat.send(f"/timezone {zone}")
        await chat.send(f"/remind {at} dst check")
    sessions = deps_of(app).sessions
    async with sessions() as session:
        reminders = {r.user_id: r for r in await session.scalars(select(Reminder))}
    assert len(reminders) == len(ZONES)

    end = START + timedelta(days=DAYS)
    expected: dict[tuple[int, date], datetime] = {}  # (reminder, local date) -> instant
    for n, (zone, at) in enumerate(ZONES):
        tz, wall = ZoneInfo(zone), time(int(at[:2]), int(at[3:]))
        reminder = reminders[USER_BASE + n]
        assert reminder.local_time == at
        first = START.astimezone(tz).date() - timedelta(days=1)
        for offset in range(DAYS + 3):
            day = first + timedelta(days=offset)
            instant = fires_at(day, wall, tz)
            if START < instant <= end:
                expected[(reminder.id, day)] = instant

    ticks = sorted(set(expected.values()))
    async with running(app) as engine:
        for tick in ticks:
            clock.set(tick)
            await engine.tick()
            await engine.drain()

    async with sessions() as session:
        rows = list(await session.scalars(select(Delivery).order_by(Delivery.id)))
    per_day = collections.Counter((row.item_id, row.local_date) for row in rows)
    assert [key for key, n in per_day.items() if n > 1] == []  # never twice a day
    assert set(per_day) == set(expected)  # every day of every zone, nothing else
    wrong = [
        (row.item_id, row.local_date, row.due_utc, expected[(row.item_id, row.local_date)])
        for row in rows
        if row.due_utc != expected[(row.item_id, row.local_date)]
    ]
    assert wrong == []  # each at its local minute
    assert {row.status for row in rows} == {"sent"}
    assert all(row.sent_at == row.due_utc for row in rows)  # sent on its own tick, not later
    for n in range(len(ZONES)):
        user = USER_BASE + n
        sent = [
            p
            for p in fake.sent(user)
            if any(d.startswith("rem:taken:") for _, d in fake.buttons(p))
        ]
        assert len(sent) == sum(1 for (item, _) in expected if item == reminders[user].id)
        assert not any("late" in str(p["text"]) for p in sent)
    assert len(rows) > 3900  # 10 zones x ~400 days


# --------------------------------------------------------------------------------------------
# Every rule kind

KINDS_USER_BASE = 8200
COURSE_END = date(2026, 7, 19)  # a Sunday, after the northern spring and the southern autumn
WEEKDAYS = (0, 2, 4, 6)  # mon,wed,fri,sun: most clock changes happen on a Sunday
EVERY = 3
CLAIM_EVERY = timedelta(hours=4)


def hhmm(value: str) -> time:
    return time(int(value[:2]), int(value[3:]))


def twelve_hours_on(at: str) -> str:
    """The twice-a-day reminder's second time: half a day after the zone's time."""
    return f"{(int(at[:2]) + 12) % 24:02d}:{at[3:]}"


def first_change(tz: ZoneInfo) -> date | None:
    """The first local date of 2026 on which the zone's UTC offset changes (None: never)."""
    day = date(2026, 1, 1)
    while day.year == 2026:
        noon = datetime.combine(day, time(12), tzinfo=tz)
        if (noon - timedelta(days=1)).utcoffset() != noon.utcoffset():
            return day - timedelta(days=1) if instants(datetime.combine(day, time(0)), tz) else day
        day += timedelta(days=1)
    return None


@dataclass(frozen=True)
class Kind:
    """One reminder kind: its /remind words, its times, and on which local days it comes."""

    label: str
    command: Callable[[str], str]  # the zone's time -> the words after /remind
    walls: Callable[[str], tuple[str, ...]]
    comes_on: Callable[[date, date], bool]  # (local day, first day of the series) -> comes?


KINDS = (
    Kind(
        "days",
        lambda at: f"mon,wed,fri,sun {at} days",
        lambda at: (at,),
        lambda day, _: day.weekday() in WEEKDAYS,
    ),
    Kind(
        "every",
        lambda at: f"every {EVERY} days {at} every",
        lambda at: (at,),
        lambda day, first: day >= first and (day - first).days % EVERY == 0,
    ),
    Kind(
        "twice",
        lambda at: f"{at} {twelve_hours_on(at)} twice",
        lambda at: (at, twelve_hours_on(at)),
        lambda day, _: True,
    ),
    Kind(
        "course",
        lambda at: f"{at} course until {COURSE_END.isoformat()}",
        lambda at: (at,),
        lambda day, _: day <= COURSE_END,
    ),
)


async def test_ten_zones_four_hundred_days_every_rule_kind_claimed_at_its_minute_on_its_days(
    app: BotApp, fake: FakeRequest, clock: FakeClock
) -> None:
    clock.set(START)
    expected: dict[tuple[str, str], dict[datetime, date]] = {}  # (zone, kind) -> instant: day
    for n, (zone, at) in enumerate(ZONES):
        chat = Chat(app, fake, user_id=KINDS_USER_BASE + n)
        await chat.send(f"/timezone {zone}")
        tz = ZoneInfo(zone)
        start_day = START.astimezone(tz).date()
        # A series starts on the first local date whose time is still ahead at START.
        first = (
            start_day if fires_at(start_day, hhmm(at), tz) > START else start_day + timedelta(1)
        )
        for kind in KINDS:
            assert "Reminder set" in await chat.send(f"/remind {kind.command(at)}")
            expected[(zone, kind.label)] = {
                fires_at(day, hhmm(wall), tz): day
                for offset in range(-1, DAYS + 3)
                if kind.comes_on(day := start_day + timedelta(days=offset), first)
                for wall in kind.walls(at)
            }
        change = first_change(tz)
        if change is not None:  # a one-off on the day the clocks change, at the zone's time
            assert "Reminder set" in await chat.send(
                f"/remind once {change.isoformat()} {at} once"
            )
            expected[(zone, "once")] = {fires_at(change, hhmm(at), tz): change}
    end = START + timedelta(days=DAYS)
    for occurrences in expected.values():  # the claims below run until `end` and two days more
        for instant in [i for i in occurrences if not START < i <= end + timedelta(days=2)]:
            del occurrences[instant]

    sessions = deps_of(app).sessions
    async with sessions() as session:
        owners = {r.id: (r.user_id, r.label) for r in await session.scalars(select(Reminder))}
    # A claim every four hours: each row is claimed up to four hours after it is due, well
    # within the lateness budget, and is recorded with the instant it was due at. That instant
    # comes from the reminder's rule alone, so it is what an exact tick would have recorded.
    tick = START
    while tick <= end + timedelta(days=2):
        async with sessions() as session, session.begin():
            assert not (await claim_due(session, tick, limit=1000, owner="test")).full
        tick += CLAIM_EVERY

    async with sessions() as session:
        rows = list(await session.scalars(select(Delivery).order_by(Delivery.id)))
        left = {r.label for r in await session.scalars(select(Reminder))}
    got: dict[tuple[str, str], dict[datetime, date]] = collections.defaultdict(dict)
    for row in rows:
        user, label = owners[row.item_id]
        key = (ZONES[user - KINDS_USER_BASE][0], label)
        assert row.scheduled_utc not in got[key]  # never twice
        assert row.due_utc == row.scheduled_utc
        got[key][row.scheduled_utc] = row.local_date
    wrong = {
        key: (got[key], instants) for key, instants in expected.items() if got[key] != instants
    }
    assert wrong == {}  # every kind, every zone: each occurrence at its minute on its day
    assert set(got) == set(expected)
    assert {row.status for row in rows} == {"claimed"}
    assert "once" not in left  # each one-off was removed a day after it came
    counts = collections.Counter(label for _, label in expected)
    assert counts["once"] == sum(1 for zone, _ in ZONES if first_change(ZoneInfo(zone)))
    sizes = {key: len(instants) for key, instants in expected.items()}
    assert all(sizes[(zone, "twice")] >= 2 * DAYS - 2 for zone, _ in ZONES)
    assert all(sizes[(zone, "course")] < 220 for zone, _ in ZONES)  # it ended in July
