"""Promises at the edges: a schedule moved the same day, ids that are never reused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_application, on_shutdown
from bot.config import Settings
from bot.content import Content
from bot.context import BotApp, deps_of
from bot.db.delivery_repo import DeliveryRepo
from bot.db.models import Delivery, Reminder
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest, flood
from tests.support.schedules import (
    add_reminder,
    add_tip,
    add_user,
    age_leases,
    limiter_of,
    running,
)
from tests.support.schedules import courier as courier_of

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


# --- `sending` means on the wire; leases in database time; a 429 pause outlives a restart ----


async def restart(
    settings: Settings, fake: FakeRequest, clock: FakeClock, content: Content
) -> BotApp:
    return build_application(settings, request=fake, clock=clock, content=content)


async def test_a_tip_waiting_for_its_slot_stays_claimed_and_is_sent_after_a_stop(
    app: BotApp,
    clock: FakeClock,
    fake: FakeRequest,
    settings: Settings,
    content: Content,
) -> None:
    await add_user(app, 1)
    await add_tip(app, 1, due=clock())
    limiter = limiter_of(app)
    gate, waiting = asyncio.Event(), asyncio.Event()
    acquire = limiter.acquire

    async def slow_slot(*args: Any, **kwargs: Any) -> None:
        waiting.set()
        await gate.wait()  # a long 429 pause, a long queue: the slot is not granted yet
        await acquire(*args, **kwargs)

    limiter.acquire = slow_slot  # type: ignore[method-assign]
    async with running(app) as courier:
        await courier.tick()
        await asyncio.wait_for(waiting.wait(), timeout=10)  # the send waits for its slot
        assert [row.status for row in await rows(app)] == ["claimed"]  # not on the wire
    assert [row.status for row in await rows(app)] == ["claimed"]  # stopped while waiting

    await age_leases(app, minutes=10)  # back after the lease (PostgreSQL waits that long)
    again = await restart(settings, fake, clock, content)
    async with again, running(again) as courier:
        await courier.drain()
    [row] = await rows(app)
    assert row.status == "sent"  # a tip that never went out is sent, not closed as unknown
    assert len(fake.sent(1)) == 1
    await on_shutdown(again)


async def test_a_worker_whose_clock_runs_ahead_does_not_take_live_rows(
    app: BotApp, clock: FakeClock, fake: FakeRequest, settings: Settings, content: Content
) -> None:
    for user_id in (1, 2):
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=clock())
    await courier_of(app).tick()  # worker A claims both and holds them
    ahead = FakeClock(clock() + timedelta(minutes=30))  # worker B's clock is 30 minutes ahead
    other = build_application(settings, request=FakeRequest(), clock=ahead, content=content)
    async with other:
        assert await courier_of(other).dispatcher.recover() == 0  # A's leases are fresh
        await age_leases(app, minutes=10)  # A stops renewing for 10 minutes (database time)
        assert await courier_of(other).dispatcher.recover() == 2
    await on_shutdown(other)


async def test_a_worker_renews_the_rows_it_still_holds(
    app: BotApp, clock: FakeClock, settings: Settings, content: Content
) -> None:
    for user_id in (1, 2):
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=clock())
    mine = courier_of(app)
    await mine.tick()  # claimed, queued, not sent (the sender is not running)
    await age_leases(app, minutes=10)  # a long wait, say a 429 pause
    await mine.dispatcher.renew()
    other = build_application(settings, request=FakeRequest(), clock=clock, content=content)
    async with other:
        assert await courier_of(other).dispatcher.recover() == 0  # still A's: it renewed them
    await on_shutdown(other)


async def test_a_429_pause_is_kept_across_a_restart(
    app: BotApp, clock: FakeClock, fake: FakeRequest, settings: Settings, content: Content
) -> None:
    await add_user(app, 1)
    await add_reminder(app, 1, due=clock())
    fake.fail_chat(1, flood(600), times=1)
    limiter_of(app).max_retries = 0
    async with running(app) as courier:
        await courier.tick()
        for _ in range(1000):  # database work runs in a thread: wait in real time
            if limiter_of(app).floods:
                break
            await asyncio.sleep(0.01)
    assert limiter_of(app).floods == 1

    clock.advance(seconds=60)  # restarted a minute into Telegram's 10-minute pause
    again = await restart(settings, fake, clock, content)
    async with again:
        await courier_of(again).start()
        assert 500 < limiter_of(again).paused_for <= 540
        await courier_of(again).stop()
    await on_shutdown(again)


async def add_old_rows(app: BotApp, chat: Chat, reminder_id: int, statuses: list[str]) -> None:
    old = berlin_time(2, 9) - timedelta(days=100)
    async with deps_of(app).sessions() as session, session.begin():
        for n, status in enumerate(statuses):
            session.add(
                Delivery(
                    kind="snooze" if status == "scheduled" else "reminder",
                    item_id=reminder_id + 1000 + n,
                    user_id=chat.user_id,
                    chat_id=chat.user_id,
                    local_date=old.date(),
                    scheduled_utc=old,
                    due_utc=old,
                    status=status,
                    attempts=1,
                    reminder_id=reminder_id,
                    label="",
                )
            )


async def test_idle_ticks_delete_old_finished_deliveries_and_stats_stay_the_same(
    app: BotApp, berlin: Chat, clock: FakeClock
) -> None:
    await berlin.send("/remind 09:00 glycinate")
    for day in range(2, 6):  # four mornings delivered and taken
        await deliver_at(app, clock, berlin_time(day, 9))
        [row] = await rows(app, kind="reminder", local_date=berlin_time(day, 9).date())
        await berlin.press(f"rem:taken:{row.id}", row.message_id)
    before = await berlin.send("/stats")
    [reminder] = await all_reminders(app)
    await add_old_rows(app, berlin, reminder.id, ["sent", "expired", "failed"])
    clock.set(berlin_time(5, 12))
    async with running(app) as courier:
        report = await courier.tick()  # nothing due: an idle tick
    assert report.pruned == 3
    assert [row.due_utc >= berlin_time(2, 8) for row in await rows(app)] == [True] * 4
    assert await berlin.send("/stats") == before


async def test_pruning_never_deletes_an_open_row(
    app: BotApp, berlin: Chat, clock: FakeClock
) -> None:
    await berlin.send("/remind 09:00 glycinate")
    [reminder] = await all_reminders(app)
    await add_old_rows(app, berlin, reminder.id, ["claimed", "sending", "scheduled", "sent"])
    async with deps_of(app).sessions() as session, session.begin():
        deleted = await DeliveryRepo(session).prune(clock(), limit=10)
    assert deleted == 1
    assert sorted(row.status for row in await rows(app)) == ["claimed", "scheduled", "sending"]


async def all_reminders(app: BotApp) -> list[Reminder]:
    async with deps_of(app).sessions() as session:
        return list(await session.scalars(select(Reminder)))
