"""Paid broadcasts: the settings, the per-second cap, the flag on scheduled sends only, and the
database work of many sends done in groups (what lets 1000 a second through one database)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pydantic import ValidationError

from bot.__main__ import settings_problems
from bot.app import max_per_second
from bot.config import Settings
from bot.context import BotApp
from bot.delivery.batches import GroupCommit
from bot.delivery.sender import workers_for
from bot.domain.vocabulary import DeliveryStatus
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.schedules import add_reminder, add_tip, add_user, courier, deliveries, running

PG_URL = "postgresql+asyncpg://bot@localhost/bot"


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make(
        telegram_bot_token="123456:TEST-TOKEN",
        database_url=db_url,
        chart_workers=0,
        paid_broadcast=True,
        send_rate=1000,
    )


def test_more_than_30_a_second_needs_paid_broadcast() -> None:
    with pytest.raises(ValidationError) as caught:
        make(send_rate=31)
    problem = settings_problems(caught.value)
    assert "SEND_RATE" in problem
    assert "PAID_BROADCAST=true" in problem
    assert "30" in problem
    assert make(send_rate=30).send_rate == 30


def test_paid_broadcast_allows_up_to_1000_a_second_and_refuses_more() -> None:
    assert make(paid_broadcast=True, send_rate=1000).send_rate == 1000
    with pytest.raises(ValidationError) as caught:
        make(paid_broadcast=True, send_rate=1001)
    assert "at most 1000" in settings_problems(caught.value)


def test_the_cap_follows_send_rate_only_when_paid() -> None:
    assert max_per_second(make(send_rate=28)) == 30
    assert max_per_second(make(send_rate=28, database_url=PG_URL)) == 29
    assert max_per_second(make(paid_broadcast=True, send_rate=28)) == 30
    assert max_per_second(make(paid_broadcast=True, send_rate=500)) == 500
    assert max_per_second(make(paid_broadcast=True, send_rate=1000)) == 1000
    assert max_per_second(make(paid_broadcast=True, send_rate=1000, database_url=PG_URL)) == 999


def test_sends_under_way_follow_the_rate() -> None:
    # Little's law: 1000/s at a 200 ms round trip needs 200 under way; 28/s at 500 ms, 14.
    assert workers_for(1000, 8) >= 200 + 8
    assert workers_for(28, 8) >= 14 + 8
    assert workers_for(28, 8) < workers_for(1000, 8)


async def test_scheduled_sends_are_paid_broadcasts_and_replies_are_not(
    app: BotApp, clock: FakeClock, fake: FakeRequest, chat: Chat
) -> None:
    await add_user(app, 1)
    await add_tip(app, 1, due=clock() - timedelta(minutes=1))
    await add_reminder(app, 1, due=clock() - timedelta(minutes=1))
    async with running(app) as eng:
        await eng.tick()
        await eng.drain()
    scheduled = fake.sent(1)
    assert len(scheduled) == 2
    assert all(params.get("allow_paid_broadcast") is True for params in scheduled)
    fake.clear()
    await chat.send("/food almonds")
    replies = fake.sent(chat.user_id)
    assert replies
    assert all("allow_paid_broadcast" not in params for params in replies)


async def test_many_due_rows_share_their_transactions(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    due = clock() - timedelta(minutes=1)
    for user_id in range(1, 201):
        await add_user(app, user_id)
        await add_tip(app, user_id, due=due)
    sender = courier(app).sender
    async with running(app) as eng:
        await eng.tick()
        await eng.drain()
    rows = await deliveries(app)
    assert len(rows) == 200
    assert {row.status for row in rows} == {DeliveryStatus.SENT}
    assert all(row.tip_id for row in rows)  # each tip chosen (and its rotation moved on)
    assert len(fake.sent()) == 200
    # Every step ran for all 200 rows, in far fewer transactions than rows.
    for group in (sender._checks, sender._marks, sender._outcomes):
        assert group.items == 200
        assert group.groups < 100, (group.groups, group.items)


async def test_a_group_gives_each_caller_its_own_result_in_few_flushes() -> None:
    flushed: list[list[int]] = []

    async def flush(items: list[int]) -> list[int]:
        flushed.append(items)
        await asyncio.sleep(0.001)
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = GroupCommit(flush)
    results = await asyncio.gather(*(group.submit(n) for n in range(50)))
    assert results == [n * 10 for n in range(50)]
    assert sorted(item for items in flushed for item in items) == list(range(50))
    assert len(flushed) <= 2  # the first alone at most, then everyone who arrived meanwhile


async def test_a_failed_flush_fails_only_its_own_group() -> None:
    calls = 0

    async def flush(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")
        return items

    group: GroupCommit[int, int] = GroupCommit(flush)
    with pytest.raises(RuntimeError):
        await group.submit(1)
    assert await group.submit(2) == 2


async def test_an_abandoned_item_is_left_out_of_its_group() -> None:
    flushed: list[int] = []

    async def flush(items: list[int]) -> list[None]:
        flushed.extend(items)
        return [None] * len(items)

    group: GroupCommit[int, None] = GroupCommit(flush, skip_abandoned=True)
    gone = asyncio.ensure_future(group.submit(1))
    stays = asyncio.ensure_future(group.submit(2))
    gone.cancel()
    await stays
    assert flushed == [2]
