from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.context import BotApp
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.schedules import running


@pytest.fixture(autouse=True)
def monday_morning(clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # Mon 08:00 in Berlin


async def deliver_and_answer(
    app: BotApp, chat: Chat, clock: FakeClock, at: datetime, button: str | None
) -> None:
    clock.set(at)
    async with running(app) as engine:
        await engine.tick()
        await engine.drain()
    if button is not None:
        await chat.press(chat.button(button))


async def test_without_reminders_it_explains_how_stats_start(chat: Chat) -> None:
    reply = await chat.send("/stats")
    assert "No stats yet" in reply
    assert "/remind 21:00" in reply


async def test_a_new_reminder_has_no_data_yet(chat: Chat) -> None:
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/remind 21:00 glycinate")
    reply = await chat.send("/stats")
    assert "21:00 glycinate" in reply
    assert "No data yet" in reply
    assert "%" not in reply


async def test_adherence_and_streak_follow_the_answers(
    app: BotApp, chat: Chat, clock: FakeClock
) -> None:
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/remind 21:00 glycinate")
    await chat.send("/remind 8:00 citrate")
    monday_21 = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    # The 08:00 citrate reminder is never delivered in this test: only 21:00 times are reached.
    for day, button in enumerate(["Taken", "Skip", "Taken", "Taken", None]):
        await deliver_and_answer(app, chat, clock, monday_21 + timedelta(days=day), button)

    clock.set(datetime(2026, 3, 6, 20, 30, tzinfo=UTC))  # Friday, today's not answered yet
    reply = await chat.send("/stats")
    assert "21:00 glycinate" in reply
    assert "Last 7 days: taken on 3 of 4 days (75%)" in reply
    assert "Last 30 days: taken on 3 of 4 days (75%)" in reply
    assert "Current streak: 2 days in a row" in reply
    assert "Today's reminder is waiting for your answer." in reply
    citrate = reply.split("08:00 citrate", 1)[1].split("21:00 glycinate", 1)[0]
    assert "No data yet" in citrate

    clock.set(datetime(2026, 3, 7, 9, 0, tzinfo=UTC))  # Saturday: Friday went unanswered
    reply = await chat.send("/stats")
    assert "Last 7 days: taken on 3 of 5 days (60%)" in reply
    assert "Current streak: none yet" in reply

    await deliver_and_answer(app, chat, clock, datetime(2026, 3, 7, 20, 1, tzinfo=UTC), "Taken")
    reply = await chat.send("/stats")
    assert "Last 7 days: taken on 4 of 6 days (67%)" in reply
    assert "Current streak: 1 day" in reply


async def test_a_paused_reminder_is_marked(chat: Chat) -> None:
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/remind 21:00 glycinate")
    await chat.send("/reminders")
    await chat.press(chat.button("Pause 1"))
    reply = await chat.send("/stats")
    assert "21:00 glycinate · ⏸ paused" in reply
