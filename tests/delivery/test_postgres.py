"""Two dispatchers (two processes' worth of engines) on one PostgreSQL database at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import insert

from bot.app import build_application
from bot.config import Settings
from bot.content import Content
from bot.context import BotApp, deps_of
from bot.db.models import Delivery, Reminder, TipSubscription, User
from tests.support.clock import FakeClock
from tests.support.env import POSTGRES_URL
from tests.support.fake_request import FakeRequest
from tests.support.schedules import age_leases, courier, deliveries, running

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL.startswith("postgresql"),
        reason="set TEST_DATABASE_URL to a PostgreSQL URL",
    ),
]

USERS = 150


async def seed(app: BotApp, clock: FakeClock) -> None:
    """USERS users, each with a daily tip and a reminder due now, and half with a due snooze."""
    now = clock()
    local = now.astimezone(None).strftime("%H:%M")  # the zone below is UTC
    ids = range(1, USERS + 1)
    async with deps_of(app).sessions() as session, session.begin():
        await session.execute(
            insert(User),
            [
                {"id": i, "chat_id": i, "first_name": "", "time_zone": "UTC", "created_at": now}
                for i in ids
            ],
        )
        await session.execute(
            insert(TipSubscription),
            [
                {
                    "user_id": i,
                    "local_time": local,
                    "active": True,
                    "next_due_utc": now,
                    "rotation": "",
                    "cursor": 0,
                    "created_at": now,
                }
                for i in ids
            ],
        )
        await session.execute(
            insert(Reminder),
            [
                {
                    "user_id": i,
                    "label": f"dose {i}",
                    "local_time": local,
                    "active": True,
                    "next_due_utc": now,
                    "created_at": now,
                }
                for i in ids
            ],
        )
        await session.execute(
            insert(Delivery),
            [
                {
                    "kind": "snooze",
                    "item_id": 100_000 + i,
                    "user_id": i,
                    "chat_id": i,
                    "local_date": now.date(),
                    "scheduled_utc": now - timedelta(hours=1),
                    "due_utc": now - timedelta(seconds=i),
                    "status": "scheduled",
                    "attempts": 0,
                    "reminder_id": i,
                    "label": f"dose {i}",
                }
                for i in ids
                if i % 2 == 0
            ],
        )


def received(*fakes: FakeRequest) -> Counter[tuple[int, str]]:
    """(chat, kind of message) -> how many times the fake servers received it."""
    counts: Counter[tuple[int, str]] = Counter()
    for fake in fakes:
        for (chat_id, _), message in fake.api.messages.items():
            kind = "tip" if "Tip of the day" in message.text else "reminder"
            if "Snoozed" in message.text:
                kind = "snooze"
            counts[(chat_id, kind)] += 1
    return counts


async def test_two_dispatchers_racing_deliver_every_due_item_exactly_once(
    app: BotApp, settings: Settings, clock: FakeClock, content: Content, fake: FakeRequest
) -> None:
    await seed(app, clock)
    fake_b = FakeRequest()
    app_b = build_application(settings, request=fake_b, clock=clock, content=content)
    async with app_b:
        engines = (courier(app), courier(app_b))
        for eng in engines:
            eng.dispatcher.batch = 9  # many small claims, so the two really interleave
            eng.dispatcher.high_water = 10_000
        async with running(app), running(app_b):
            for _ in range(3):  # both start, tick, and recover at the same moment
                await asyncio.gather(*(eng.tick() for eng in engines))
                await asyncio.gather(*(eng.dispatcher.recover() for eng in engines))
            await asyncio.gather(*(eng.drain() for eng in engines))
            clock.advance(minutes=10)
            await age_leases(app, minutes=10)  # leases ran out: recovery finds nothing left
            assert await engines[0].dispatcher.recover() == 0
        await deps_of(app_b).engine.dispose()

    counts = received(fake, fake_b)
    expected = {(i, "tip") for i in range(1, USERS + 1)}
    expected |= {(i, "reminder") for i in range(1, USERS + 1)}
    expected |= {(i, "snooze") for i in range(2, USERS + 1, 2)}
    assert set(counts) == expected
    assert set(counts.values()) == {1}  # nothing twice, nothing lost
    rows = await deliveries(app)
    assert len(rows) == len(expected)
    assert {row.status for row in rows} == {"sent"}
    # Both workers took part (each sent a share of the messages).
    assert len(fake.api.messages) > 0
    assert len(fake_b.api.messages) > 0
