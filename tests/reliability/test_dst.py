"""DST: ten zones, 400 simulated days, every daily reminder once a day at the right minute.

The reminders are set with the real commands (/timezone, /remind) and delivered by the
dispatcher and the sender on a fake clock. The expected instants come from an oracle written
independently of `bot.domain.schedule`: it tries both folds of the wall time and, when
neither exists (the spring-forward gap), walks forward one local minute at a time.
"""

from __future__ import annotations

import collections
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.context import BotApp, deps_of
from bot.db.models import Delivery, Reminder
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.schedules import running

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


def exists(naive: datetime, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants at which a clock in `tz` shows `naive` (0, 1 or 2 of them)."""
    found = set()
    for fold in (0, 1):
        instant = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == naive:
            found.add(instant)
    return sorted(found)


def oracle(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """When the reminder of local `day` must fire: the first occurrence, or after the gap."""
    naive = datetime.combine(day, wall)
    while not (instants := exists(naive, tz)):
        naive += timedelta(minutes=1)
    return instants[0]


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
            instant = oracle(day, wall, tz)
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
