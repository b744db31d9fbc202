"""Questions the bot waits for (which zone? which new time?) live in the database.

Each flow is interrupted by a restart: a new application on the same database (and the same
Telegram, so old messages and their buttons are still there) gets the answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_application, on_shutdown
from bot.config import Settings
from bot.content import Content
from bot.context import BotApp, deps_of
from bot.db.models import Pending, Reminder, TipSubscription
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest


@pytest.fixture(autouse=True)
def monday_morning(clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # Mon 08:00 in Berlin


Restart = Callable[[], AbstractAsyncContextManager[Chat]]


@pytest.fixture
def restarted(
    settings: Settings, fake: FakeRequest, clock: FakeClock, content: Content
) -> Restart:
    """Start a fresh application on the same database and the same (fake) Telegram."""

    @asynccontextmanager
    async def restart() -> AsyncIterator[Chat]:
        app = build_application(settings, request=fake, clock=clock, content=content)
        async with app:
            yield Chat(app, fake)
        await on_shutdown(app)

    return restart


async def rows(app: BotApp, model: type[Any]) -> list[Any]:
    async with deps_of(app).sessions() as session:
        return list(await session.scalars(select(model)))


async def test_the_zone_question_survives_a_restart(
    app: BotApp,
    chat: Chat,
    fake: FakeRequest,
    restarted: Restart,
) -> None:
    assert "which time zone" in (await chat.send("/remind 21:00 magnesium")).lower()
    async with restarted() as again:
        await again.send("/timezone Europe/Berlin")
        assert "21:00" in fake.sent_texts(again.user_id)[-1]
        [reminder] = await rows(again.app, Reminder)
        assert (reminder.local_time, reminder.label) == ("21:00", "magnesium")
        assert await rows(again.app, Pending) == []


async def test_an_old_zone_button_after_a_restart_still_finishes_the_request(
    app: BotApp,
    chat: Chat,
    fake: FakeRequest,
    restarted: Restart,
) -> None:
    await chat.send("/subscribe 08:30")
    asked = chat.last_message_id()
    async with restarted() as again:
        await again.press("tz:set:Europe/Berlin", asked)
        [subscription] = await rows(again.app, TipSubscription)
        assert subscription.active
        assert subscription.local_time == "08:30"
        assert "08:30" in fake.sent_texts(again.user_id)[-1]


async def test_a_typed_city_after_a_restart_answers_the_zone_question(
    app: BotApp,
    chat: Chat,
    fake: FakeRequest,
    restarted: Restart,
) -> None:
    await chat.send("/remind 9pm zinc")
    async with restarted() as again:
        await again.send("Berlin")
        [reminder] = await rows(again.app, Reminder)
        assert (reminder.local_time, reminder.label) == ("21:00", "zinc")


async def test_the_new_time_question_survives_a_restart(
    app: BotApp,
    chat: Chat,
    fake: FakeRequest,
    restarted: Restart,
) -> None:
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/remind 21:00 magnesium")
    [reminder] = await rows(app, Reminder)
    await chat.send("/reminders")
    await chat.press(f"rmd:time:{reminder.id}")
    async with restarted() as again:
        answer = await again.send("22:15")
        assert "22:15" in answer
        [moved] = await rows(again.app, Reminder)
        assert moved.local_time == "22:15"


async def test_an_expired_zone_question_is_said_so_and_not_acted_on(
    app: BotApp, chat: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await chat.send("/remind 21:00 magnesium")
    clock.advance(hours=25)
    await chat.send("/timezone Europe/Berlin")
    said = fake.sent_texts(chat.user_id)[-1]
    assert "more than a day" in said
    assert "/remind 21:00 magnesium" in said
    assert await rows(app, Reminder) == []


async def test_an_expired_new_time_question_is_said_so_and_changes_nothing(
    app: BotApp, chat: Chat, clock: FakeClock
) -> None:
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/remind 21:00 magnesium")
    [reminder] = await rows(app, Reminder)
    await chat.send("/reminders")
    await chat.press(f"rmd:time:{reminder.id}")
    clock.advance(hours=25)
    answer = await chat.send("22:15")
    assert "more than a day ago" in answer
    [same] = await rows(app, Reminder)
    assert same.local_time == "21:00"


async def test_a_second_request_for_the_same_reminder_replaces_the_first(
    app: BotApp, chat: Chat
) -> None:
    await chat.send("/remind 21:00 magnesium")
    await chat.send("/remind 21:00 magnesium")
    await chat.send("/subscribe 08:00")
    assert len(await rows(app, Pending)) == 2
    await chat.send("/timezone Europe/Berlin")
    assert len(await rows(app, Reminder)) == 1
    assert len(await rows(app, TipSubscription)) == 1


async def test_nothing_is_kept_in_memory_per_user(app: BotApp, fake: FakeRequest) -> None:
    for user_id in range(7001, 7031):
        chat = Chat(app, fake, user_id=user_id)
        await chat.send("/start")
        await chat.send("/fact")
        await chat.press("fact:next")
        await chat.send("/remind 21:00 magnesium")
        await chat.press("tz:set:Europe/Berlin")
        [reminder] = [r for r in await rows(app, Reminder) if r.user_id == user_id]
        await chat.send("/reminders")
        await chat.press(f"rmd:time:{reminder.id}")
        await chat.send("21:30")
        await chat.send("almonds")
    assert len(app.user_data) == 0
    assert len(app.chat_data) == 0
