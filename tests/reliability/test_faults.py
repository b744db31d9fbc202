"""Blocked users, floods and downtime, at the scale of a few hundred deliveries.

The engine runs on a fake clock and the rate limiter on virtual time, so nothing waits on the
wall clock; the Bot API answers come from the fake request, with failures injected.
"""

from __future__ import annotations

import collections
import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.context import BotApp, deps_of
from bot.db.models import Delivery, User
from bot.delivery.ratelimit import PriorityRateLimiter
from tests.support.clock import FakeClock
from tests.support.fake_request import BLOCKED, FakeRequest, flood
from tests.support.schedules import (
    add_reminder,
    add_tip,
    add_user,
    deliveries,
    limiter_of,
    running,
)
from tests.support.timer import record_grants

Answer = tuple[int, dict[str, Any]]
BERLIN = ZoneInfo("Europe/Berlin")  # the zone add_user gives


def delivered_per_chat(fake: FakeRequest) -> collections.Counter[int]:
    """Messages that reached each chat (refused calls are not in the fake API's store)."""
    return collections.Counter(chat for chat, _ in fake.api.messages)


def attempts_per_chat(fake: FakeRequest) -> collections.Counter[int]:
    return collections.Counter(int(p["chat_id"]) for p in fake.sent())


def max_in_one_second(times: list[float]) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def test_ten_percent_blocked_users_the_rest_delivered_the_blocked_never_retried(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    users = list(range(1000, 1200))
    blocked = set(users[::10])  # 10 %
    for user_id in users:
        await add_user(app, user_id)
        await add_tip(app, user_id, due=clock())
        await add_reminder(app, user_id, due=clock())
    for user_id in blocked:
        fake.fail_chat(user_id, BLOCKED)

    async with running(app) as engine:
        await engine.tick()
        await engine.drain()
        first_day = attempts_per_chat(fake)
        clock.advance(days=1)  # the next day: the blocked users get nothing, not even a try
        fake.clear()
        await engine.tick()
        await engine.drain()

    delivered = delivered_per_chat(fake)  # both days
    assert all(delivered[u] == 4 for u in users if u not in blocked)  # tip + reminder a day
    assert not any(delivered[u] for u in blocked)
    assert not any(attempts_per_chat(fake)[u] for u in blocked)
    assert all(1 <= first_day[u] <= 2 for u in blocked)  # at most one try per delivery
    rows = await deliveries(app)
    for row in rows:
        if row.user_id in blocked:
            assert row.status == "blocked"
            assert row.attempts <= 1  # never retried
        else:
            assert (row.status, row.attempts) == ("sent", 1)
    assert len(rows) == 2 * 2 * (len(users) - len(blocked)) + 2 * len(blocked)
    async with deps_of(app).sessions() as session:
        marked = set(await session.scalars(select(User.id).where(User.blocked_at.is_not(None))))
    assert marked == blocked


async def test_random_429s_everything_delivered_and_nothing_sent_during_a_pause(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    users = list(range(2000, 2150))
    for user_id in users:
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=clock())
        if user_id % 2:
            await add_tip(app, user_id, due=clock())
    rng = random.Random(429)
    limiter: PriorityRateLimiter = limiter_of(app)
    paused_until = [float("-inf")]
    violations: list[tuple[float, float]] = []
    floods = itertools.count()

    def flaky(endpoint: str, params: dict[str, Any]) -> Answer | None:
        if endpoint != "sendMessage":
            return None
        now = limiter.timer.now()
        if now < paused_until[0]:
            violations.append((now, paused_until[0]))
        if rng.random() < 0.15:
            next(floods)
            retry_after = rng.randint(1, 5)
            paused_until[0] = max(paused_until[0], now + retry_after)
            return flood(retry_after)
        return None

    fake.responders.append(flaky)
    async with running(app) as engine:
        grant_times = record_grants(limiter)
        await engine.tick()
        await engine.drain()

    assert next(floods) > 20  # the test really flooded
    assert violations == []  # no message reached the server while a pause was in force
    delivered = delivered_per_chat(fake)
    assert all(delivered[u] == (2 if u % 2 else 1) for u in users)  # each exactly once
    rows = await deliveries(app)
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}  # 429 is no attempt
    assert max_in_one_second(grant_times) <= 30


@pytest.mark.parametrize("hours", [3, 7])
async def test_downtime_late_reminders_say_so_old_ones_expire_tips_come_without_a_burst(
    app: BotApp, clock: FakeClock, fake: FakeRequest, hours: int
) -> None:
    stop = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    restart = stop + timedelta(hours=hours)
    clock.set(stop - timedelta(minutes=1))
    reminder_due: dict[int, datetime] = {}
    tip_due: dict[int, datetime] = {}
    user_id = 3000
    for minutes in range(10, hours * 60, 20):  # a reminder every 20 minutes of the outage
        user_id += 1
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=stop + timedelta(minutes=minutes))
        reminder_due[user_id] = stop + timedelta(minutes=minutes)
    for minutes in range(5, hours * 60, 30):  # 20 tips every 30 minutes
        for _ in range(20):
            user_id += 1
            await add_user(app, user_id)
            await add_tip(app, user_id, due=stop + timedelta(minutes=minutes))
            tip_due[user_id] = stop + timedelta(minutes=minutes)

    limiter = limiter_of(app)
    async with running(app) as engine:
        await engine.tick()  # running: nothing is due yet
        await engine.drain()
    assert fake.sent() == []
    clock.set(restart)  # the bot was down for `hours`
    async with running(app) as engine:
        grant_times = record_grants(limiter)
        await engine.tick()
        await engine.drain()

    rows = {row.user_id: row for row in await deliveries(app)}
    for user, due in reminder_due.items():
        if restart - due > timedelta(hours=6):
            assert rows[user].status == "expired"
            assert fake.sent(user) == []
        else:
            assert rows[user].status == "sent"
            [text] = fake.sent_texts(user)
            assert f"late: due at {due.astimezone(BERLIN):%H:%M} (Europe/Berlin)" in text
    for user, due in tip_due.items():
        expected = "expired" if restart - due > timedelta(hours=2) else "sent"
        assert rows[user].status == expected
        assert len(fake.sent(user)) == (expected == "sent")
    assert any(row.status == "expired" for row in rows.values())
    assert any(row.kind == "tip" and row.status == "sent" for row in rows.values())

    # No burst: sends are spaced at SEND_RATE, never more than 30 in any second.
    times = grant_times
    assert len(times) == len(fake.sent())
    interval = 1 / deps_of(app).settings.send_rate
    assert all(b - a >= interval - 1e-9 for a, b in itertools.pairwise(times))
    assert max_in_one_second(times) <= 30
    async with deps_of(app).sessions() as session:
        total = await session.scalar(select(func.count()).select_from(Delivery))
    assert total == len(reminder_due) + len(tip_due)  # one row per due item, none twice
