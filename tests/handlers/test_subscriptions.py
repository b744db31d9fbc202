from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.console.fake_api import strip_html
from bot.content import Content
from bot.context import BotApp, deps_of
from bot.db.models import Reminder, TipSubscription
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest


async def subscription(app: BotApp) -> TipSubscription | None:
    async with deps_of(app).sessions() as session:
        return await session.scalar(select(TipSubscription))


def shown(fake: FakeRequest, chat: Chat, message_id: int) -> str:
    return strip_html(fake.api.messages[(chat.user_id, message_id)].text)


@pytest.fixture(autouse=True)
def monday_morning(clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # Mon 08:00 in Berlin


async def test_subscribe_answers_with_the_exact_next_time_in_the_users_zone(
    app: BotApp, chat: Chat
) -> None:
    await chat.send("/timezone Europe/Berlin")
    reply = await chat.send("/subscribe")
    assert "every day at 09:00 (Europe/Berlin)" in reply
    assert "The first one arrives Mon 2 Mar, 09:00 Europe/Berlin." in reply
    sub = await subscription(app)
    assert sub is not None
    assert sub.active
    assert sub.local_time == "09:00"
    assert sub.next_due_utc == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def test_subscribe_the_day_before_spring_forward(
    app: BotApp, chat: Chat, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))  # Sat; clocks go forward on Sunday
    await chat.send("/timezone Europe/Berlin")
    reply = await chat.send("/subscribe 09:00")
    assert "The first one arrives Sun 29 Mar, 09:00 Europe/Berlin." in reply
    sub = await subscription(app)
    assert sub is not None
    assert sub.next_due_utc == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # CEST, UTC+2

    # 02:30 does not exist that night: it comes when the clocks jump, at 03:00.
    reply = await chat.send("/subscribe 2:30 am")
    assert "now comes at 02:30 instead of 09:00" in reply
    assert "The next one arrives Sun 29 Mar, 03:00 Europe/Berlin." in reply
    sub = await subscription(app)
    assert sub is not None
    assert sub.next_due_utc == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


async def test_resubscribing_changes_the_time_and_a_bare_subscribe_keeps_it(
    app: BotApp, chat: Chat
) -> None:
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/subscribe")
    reply = await chat.send("/subscribe 7:30 pm")
    assert "now comes at 19:30 instead of 09:00 (Europe/Berlin)" in reply
    assert "Mon 2 Mar, 19:30 Europe/Berlin" in reply
    reply = await chat.send("/subscribe")
    assert "already subscribed" in reply
    assert "19:30" in reply
    async with deps_of(app).sessions() as session:
        rows = list(await session.scalars(select(TipSubscription)))
    assert len(rows) == 1
    assert rows[0].local_time == "19:30"
    assert rows[0].next_due_utc == datetime(2026, 3, 2, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", ["25:99", "abc", "9"])
async def test_an_invalid_time_names_the_accepted_formats(
    app: BotApp, chat: Chat, value: str
) -> None:
    await chat.send("/timezone Europe/Berlin")
    reply = await chat.send(f"/subscribe {value}")
    assert f"couldn't read “{value}” as a time" in reply
    for example in ("9:00", "21:00", "9pm", "9:30 am"):
        assert example in reply
    assert await subscription(app) is None


async def test_without_a_zone_it_asks_first_and_subscribes_once_one_is_chosen(
    app: BotApp, chat: Chat, fake: FakeRequest
) -> None:
    reply = await chat.send("/subscribe 8:00")
    assert "First, which time zone are you in?" in reply
    assert "08:00" in reply
    assert "tz:set:Europe/Berlin" in [data for _, data in chat.buttons()]
    assert await subscription(app) is None

    await chat.press("tz:set:Europe/Berlin")
    assert "every day at 08:00 (Europe/Berlin)" in fake.sent_texts(chat.user_id)[-1]
    assert "Tue 3 Mar, 08:00 Europe/Berlin" in fake.sent_texts(chat.user_id)[-1]
    sub = await subscription(app)
    assert sub is not None
    assert sub.active
    assert sub.local_time == "08:00"
    assert sub.next_due_utc == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)

    # The pending request was used up: a later zone change doesn't subscribe again.
    reply = await chat.send("/timezone Europe/London")
    assert "Subscribed" not in reply


@pytest.mark.parametrize("how", ["command", "typed city", "location"])
async def test_the_zone_first_flow_completes_however_the_zone_is_given(
    app: BotApp, chat: Chat, how: str
) -> None:
    await chat.send("/subscribe")
    if how == "command":
        reply = await chat.send("/timezone Asia/Tokyo")
    elif how == "typed city":
        reply = await chat.send("tokyo")
    else:
        reply = await chat.send_location(35.68, 139.69)
    assert "Time zone set to Asia/Tokyo" in reply
    assert "every day at 09:00 (Asia/Tokyo)" in reply
    assert "Tue 3 Mar, 09:00 Asia/Tokyo" in reply
    sub = await subscription(app)
    assert sub is not None
    assert sub.active


async def test_unsubscribe_says_so_also_when_not_subscribed(app: BotApp, chat: Chat) -> None:
    reply = await chat.send("/unsubscribe")
    assert "aren't subscribed" in reply
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/subscribe")
    reply = await chat.send("/unsubscribe")
    assert "Daily tips stopped" in reply
    sub = await subscription(app)
    assert sub is not None
    assert not sub.active
    assert sub.next_due_utc is None
    reply = await chat.send("/unsubscribe")
    assert "aren't subscribed" in reply


async def test_tip_now_follows_the_users_own_rotation_without_repeats(
    app: BotApp, chat: Chat, content: Content
) -> None:
    reply = await chat.send("/tip")
    by_text = {tip.text: tip for tip in content.tips}
    first = next(tip for text, tip in by_text.items() if text in reply)
    assert f"Source: {content.source_names(first)}" in reply
    assert chat.buttons() == [
        ("💡 Another tip", "tip:next"),
        ("🔔 Send me a tip every day", "sub:on"),
    ]
    sub = await subscription(app)
    assert sub is not None
    assert not sub.active
    assert sub.cursor == 1
    assert sub.next_due_utc is None

    seen = [first.id]
    for _ in range(len(content.tips) - 1):
        await chat.press("tip:next")
        text = chat.fake.sent_texts(chat.user_id)[-1]
        seen.append(next(tip.id for t, tip in by_text.items() if t in text))
    assert sorted(seen) == sorted(tip.id for tip in content.tips)


async def test_the_stop_button_unsubscribes_and_keeps_only_another_tip(
    app: BotApp, chat: Chat, fake: FakeRequest
) -> None:
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/subscribe")
    await chat.send("/tip")
    assert ("🔕 Stop daily tips", "tip:stop") in chat.buttons()
    tip_message = chat.last_message_id()
    await chat.press("tip:stop")
    assert "Daily tips stopped" in fake.sent_texts(chat.user_id)[-1]
    markup = fake.api.messages[(chat.user_id, tip_message)].reply_markup
    assert markup == {
        "inline_keyboard": [[{"text": "💡 Another tip", "callback_data": "tip:next"}]]
    }
    sub = await subscription(app)
    assert sub is not None
    assert not sub.active

    await chat.press("tip:stop", message_id=tip_message)  # stale press
    assert "aren't subscribed" in fake.sent_texts(chat.user_id)[-1]


async def test_the_daily_tip_menu_from_start(app: BotApp, chat: Chat, fake: FakeRequest) -> None:
    await chat.send("/start")
    menu = chat.last_message_id()
    await chat.press("menu:subscribe")
    assert "Daily tip" in shown(fake, chat, menu)
    assert ("🔔 Send me a tip every day", "sub:on") in chat.buttons()

    await chat.press("sub:on", message_id=menu)
    assert "which time zone" in fake.sent_texts(chat.user_id)[-1]
    await chat.press("tz:set:Europe/Berlin")
    assert "every day at 09:00 (Europe/Berlin)" in fake.sent_texts(chat.user_id)[-1]

    await chat.press("menu:subscribe", message_id=menu)
    text = shown(fake, chat, menu)
    assert "You get a tip every day at 09:00 (Europe/Berlin)" in text
    assert "Mon 2 Mar, 09:00 Europe/Berlin" in text
    assert ("🔕 Stop daily tips", "tip:stop") in chat.buttons()


async def test_several_requests_can_wait_for_the_zone(app: BotApp, chat: Chat) -> None:
    await chat.send("/subscribe 8:00")
    await chat.send("/subscribe 7:00")  # replaces the first
    await chat.send("/remind 21:00 glycinate")
    await chat.send("/remind 21:00 glycinate")  # the same request twice
    await chat.send("/remind 9pm zinc")
    reply = await chat.send("/timezone Europe/Berlin")
    assert "every day at 07:00 (Europe/Berlin)" in reply
    assert "Reminder set: glycinate" in reply
    assert "Reminder set: zinc" in reply
    async with deps_of(app).sessions() as session:
        labels = sorted(r.label for r in await session.scalars(select(Reminder)))
    assert labels == ["glycinate", "zinc"]
    sub = await subscription(app)
    assert sub is not None
    assert sub.local_time == "07:00"
