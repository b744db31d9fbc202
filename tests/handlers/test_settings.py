from __future__ import annotations

from datetime import UTC, datetime

from bot.console.fake_api import strip_html
from bot.context import BotApp
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest

BUTTONS = [
    ("🌍 Time zone", "tz:menu"),
    ("💡 Daily tip", "menu:subscribe"),
    ("⏰ Reminders", "menu:reminders"),
    ("🔒 Hide labels in reminders", "set:labels:hide"),
]


async def test_a_new_user_sees_what_is_not_set_yet(chat: Chat) -> None:
    reply = await chat.send("/settings")
    assert "Time zone: not set yet" in reply
    assert "Daily tip: off" in reply
    assert "Reminders: none yet" in reply
    assert chat.buttons() == BUTTONS


async def test_everything_in_one_place(chat: Chat, clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/subscribe 7:30")
    await chat.send("/remind 21:00 glycinate")
    await chat.send("/remind 8:00 citrate")
    await chat.send("/reminders")
    await chat.press(chat.button("Pause 1"))

    reply = await chat.send("/settings")
    assert "Time zone: Europe/Berlin (UTC+01:00, now 08:00)" in reply
    assert "Daily tip: on, every day at 07:30; next: Tue 3 Mar, 07:30 Europe/Berlin" in reply
    assert "Reminders: 2 (1 active, 1 paused)" in reply
    assert chat.buttons() == BUTTONS


async def test_the_buttons_lead_to_each_setting(
    app: BotApp, chat: Chat, fake: FakeRequest, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/subscribe")
    await chat.send("/remind 21:00 glycinate")
    await chat.send("/settings")
    panel = chat.last_message_id()

    await chat.press("menu:subscribe", message_id=panel)
    text = strip_html(fake.api.messages[(chat.user_id, panel)].text)
    assert "You get a tip every day at 09:00 (Europe/Berlin)" in text

    await chat.press("menu:reminders", message_id=panel)
    assert (
        "1. glycinate · every day at 21:00 · next: Mon 2 Mar, 21:00 Europe/Berlin"
        in (fake.sent_texts(chat.user_id)[-1])
    )

    await chat.press("tz:menu", message_id=panel)
    text = strip_html(fake.api.messages[(chat.user_id, panel)].text)
    assert "Your time zone is Europe/Berlin" in text
