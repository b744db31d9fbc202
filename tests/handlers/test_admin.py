from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from bot.app import on_init
from bot.context import BotApp, deps_of
from bot.db.models import User
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.env import ADMIN_ID
from tests.support.fake_request import FakeRequest
from tests.support.schedules import running

OTHER_USER = 6001


async def test_anyone_else_gets_exactly_the_unknown_command_answer(
    app: BotApp, chat: Chat
) -> None:
    reply = await chat.send("/admin")
    expected = deps_of(app).content.texts.get("fallback.unknown_command", command="/admin")
    assert reply == expected
    assert "statistics" not in reply.lower()


async def test_admins_see_users_schedules_deliveries_and_the_dispatcher(
    app: BotApp, chat: Chat, fake: FakeRequest, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/subscribe 08:01")
    await chat.send("/remind 21:00 glycinate")
    await chat.send("/remind 8:00 citrate")
    await chat.send("/reminders")
    await chat.press(chat.button("Pause 2"))
    other = Chat(app, fake, user_id=OTHER_USER)
    await other.send("/start")
    async with deps_of(app).sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == OTHER_USER).values(blocked_at=clock()))

    admin = Chat(app, fake, user_id=ADMIN_ID)
    await admin.send("/timezone Europe/Berlin")
    reply = await admin.send("/admin")
    assert "Bot statistics" in reply
    assert "Users: 3 (1 blocked the bot)" in reply
    assert "Active daily-tip subscriptions: 1" in reply
    assert "Reminders: 1 active, 1 paused" in reply
    assert "Today's deliveries (UTC 2026-03-02):\n• none yet" in reply
    assert "Last dispatcher tick: not yet" in reply
    assert "Send queue: 0" in reply

    clock.set(datetime(2026, 3, 2, 7, 1, 5, tzinfo=UTC))  # the 08:01 tip is due
    async with running(app) as engine:
        await engine.tick()
        await engine.drain()
    clock.set(datetime(2026, 3, 2, 7, 1, 35, tzinfo=UTC))
    reply = await admin.send("/admin")
    assert "• sent: 1" in reply
    assert "Last dispatcher tick: Mon 2 Mar, 08:01 Europe/Berlin (30 s ago)" in reply


async def test_admin_says_whether_this_process_is_the_delivery_leader(
    app: BotApp, fake: FakeRequest
) -> None:
    admin = Chat(app, fake, user_id=ADMIN_ID)
    assert "This process: not the delivery leader" in await admin.send("/admin")
    if not deps_of(app).settings.is_sqlite:
        return  # PostgreSQL elects a leader: tests/delivery/test_leader.py
    await on_init(app)  # SQLite: the only process leads from the start
    assert "This process: delivery leader" in await admin.send("/admin")
