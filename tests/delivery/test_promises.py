"""Promises at the edges: a schedule moved the same day, ids that are never reused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.context import BotApp, deps_of
from bot.db.models import Delivery, Reminder
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.schedules import running

OTHER_USER = 6002


def berlin_time(day: int, hour: int, minute: int = 0) -> datetime:
    """A March 2026 moment given in Berlin time (UTC+1 then)."""
    return datetime(2026, 3, day, hour - 1, minute, tzinfo=UTC)


async def deliver_at(app: BotApp, clock: FakeClock, moment: datetime) -> None:
    clock.set(moment)
    async with running(app) as courier:
        await courier.tick()
        await courier.drain()


async def rows(app: BotApp, **where: object) -> list[Delivery]:
    async with deps_of(app).sessions() as session:
        stmt = select(Delivery).filter_by(**where).order_by(Delivery.id)
        return list(await session.scalars(stmt))


@pytest.fixture
async def berlin(chat: Chat, clock: FakeClock) -> Chat:
    clock.set(berlin_time(2, 8))  # Mon 08:00 in Berlin
    await chat.send("/timezone Europe/Berlin")
    return chat


async def test_a_reminder_moved_to_later_the_same_day_still_comes(
    app: BotApp, berlin: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await berlin.send("/remind 09:00 glycinate")
    await deliver_at(app, clock, berlin_time(2, 9))
    [first] = await rows(app, kind="reminder", status="sent")

    clock.set(berlin_time(2, 10))  # after today's message: move it to the evening
    async with deps_of(app).sessions() as session:
        [reminder] = list(await session.scalars(select(Reminder)))
    await berlin.send("/reminders")
    await berlin.press(f"rmd:time:{reminder.id}")
    answer = await berlin.send("21:00")
    assert "21:00" in answer
    assert "Mon 2 Mar" in answer  # the next one is today, at the new time

    await deliver_at(app, clock, berlin_time(2, 21))
    sent = await rows(app, kind="reminder", status="sent")
    assert sent[0].id == first.id
    assert len(sent) == 2  # the moved occurrence came too
    assert sent[0].local_date == sent[1].local_date
    assert sum("glycinate" in text for text in fake.sent_texts(berlin.user_id)[-2:]) >= 1


async def test_a_daily_tip_moved_to_later_the_same_day_still_comes(
    app: BotApp, berlin: Chat, clock: FakeClock
) -> None:
    await berlin.send("/subscribe 08:30")
    await deliver_at(app, clock, berlin_time(2, 8, 30))
    assert len(await rows(app, kind="tip", status="sent")) == 1

    clock.set(berlin_time(2, 12))
    answer = await berlin.send("/subscribe 20:00")
    assert "Mon 2 Mar" in answer
    await deliver_at(app, clock, berlin_time(2, 20))
    assert len(await rows(app, kind="tip", status="sent")) == 2


async def test_the_same_occurrence_is_still_claimed_only_once(
    app: BotApp, berlin: Chat, clock: FakeClock
) -> None:
    await berlin.send("/remind 09:00 glycinate")
    clock.set(berlin_time(2, 9))
    async with running(app) as courier:
        await courier.tick()
        async with deps_of(app).sessions() as session, session.begin():
            [reminder] = list(await session.scalars(select(Reminder)))
            reminder.next_due_utc = berlin_time(2, 9)  # as if the move on were lost in a crash
        report = await courier.tick()
        await courier.drain()
    assert report.conflicts == 1
    assert len(await rows(app, kind="reminder")) == 1


async def test_a_deleted_reminders_id_and_history_never_pass_to_another_user(
    app: BotApp, berlin: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await berlin.send("/remind 09:00 glycinate")
    await deliver_at(app, clock, berlin_time(2, 9))
    [delivery] = await rows(app, kind="reminder")
    await berlin.press(f"rem:taken:{delivery.id}", delivery.message_id)
    assert "1 of 1 days" in await berlin.send("/stats")
    async with deps_of(app).sessions() as session:
        [mine] = list(await session.scalars(select(Reminder)))
    await berlin.send("/reminders")
    await berlin.press(f"rmd:del:{mine.id}")
    await berlin.press(f"rmd:delok:{mine.id}")

    other = Chat(app, fake, user_id=OTHER_USER)
    await other.send("/timezone Europe/Berlin")
    await other.send("/remind 09:00 zinc")
    async with deps_of(app).sessions() as session:
        [theirs] = list(await session.scalars(select(Reminder)))
    assert theirs.id != mine.id  # never reused, even for the newest row
    stats = await other.send("/stats")
    assert "1 of 1 days" not in stats
    assert "No data yet" in stats
