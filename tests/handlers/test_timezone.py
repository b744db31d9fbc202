from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.console.fake_api import strip_html
from bot.context import BotApp, deps_of
from bot.db.models import Reminder, TipSubscription, User
from bot.domain.timezones import COMMON_ZONES
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest


async def zone_of(app: BotApp, user_id: int) -> str | None:
    async with deps_of(app).sessions() as session:
        user = await session.get(User, user_id)
        return None if user is None else user.time_zone


def shown(fake: FakeRequest, chat: Chat, message_id: int) -> str:
    return strip_html(fake.api.messages[(chat.user_id, message_id)].text)


async def test_without_a_zone_it_explains_how_to_set_one(chat: Chat) -> None:
    reply = await chat.send("/timezone")
    assert "haven't set a time zone" in reply
    assert "/timezone Berlin" in reply
    assert "UTC+2" in reply
    assert "share your location" in reply
    data = [data for _, data in chat.buttons()]
    assert data == [f"tz:set:{zone}" for zone in COMMON_ZONES]
    assert ("Europe/Berlin (UTC+01:00)", "tz:set:Europe/Berlin") in chat.buttons()


async def test_an_iana_name_in_any_case_sets_the_zone(
    app: BotApp, chat: Chat, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 2, 8, 15, tzinfo=UTC))
    reply = await chat.send("/timezone europe/BERLIN")
    assert "Time zone set to Europe/Berlin (UTC+01:00)" in reply
    assert "It's 09:15 there now" in reply
    assert await zone_of(app, chat.user_id) == "Europe/Berlin"

    reply = await chat.send("/timezone")
    assert "Your time zone is Europe/Berlin (UTC+01:00). It's 09:15 there now." in reply
    assert "/timezone Berlin" in reply  # how to change it


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("UTC", "UTC"),
        ("UTC+2", "Etc/GMT-2"),
        ("GMT-5", "Etc/GMT+5"),
        ("new york", "America/New_York"),
        ("Berlin", "Europe/Berlin"),
        ("Asia/Kolkata", "Asia/Kolkata"),
    ],
)
async def test_offsets_and_cities_map_to_zones(
    app: BotApp, chat: Chat, typed: str, zone: str
) -> None:
    reply = await chat.send(f"/timezone {typed}")
    assert f"Time zone set to {zone}" in reply
    assert await zone_of(app, chat.user_id) == zone


async def test_a_misspelt_city_gets_did_you_mean_buttons(
    app: BotApp, chat: Chat, fake: FakeRequest
) -> None:
    reply = await chat.send("/timezone berln")
    assert "Did you mean" in reply
    assert "berln" in reply
    assert await zone_of(app, chat.user_id) is None
    data = chat.button("Europe/Berlin")
    assert data == "tz:set:Europe/Berlin"
    for _, button_data in chat.buttons():
        assert len(button_data.encode()) <= 64

    message_id = chat.last_message_id()
    await chat.press(data)
    assert fake.of("answerCallbackQuery")
    assert await zone_of(app, chat.user_id) == "Europe/Berlin"
    assert "Time zone set to Europe/Berlin" in shown(fake, chat, message_id)


async def test_an_unknown_place_says_so_and_offers_common_zones(app: BotApp, chat: Chat) -> None:
    reply = await chat.send("/timezone xyzzyq")
    assert "don't know a time zone or city called “xyzzyq”" in reply
    assert len(chat.buttons()) == len(COMMON_ZONES)
    assert await zone_of(app, chat.user_id) is None


async def test_a_forged_zone_button_is_answered_politely(
    app: BotApp, chat: Chat, fake: FakeRequest
) -> None:
    await chat.send("/timezone")
    message_id = chat.last_message_id()
    await chat.press("tz:set:Mars/Olympus")
    assert await zone_of(app, chat.user_id) is None
    assert "isn't available any more" in shown(fake, chat, message_id)
    assert "went wrong" not in " ".join(fake.sent_texts())


async def test_a_shared_location_sets_the_zone(app: BotApp, chat: Chat) -> None:
    reply = await chat.send_location(40.7128, -74.0060)
    assert "Time zone set to America/New_York (UTC-05:00)" in reply
    assert await zone_of(app, chat.user_id) == "America/New_York"


async def test_changing_the_zone_recomputes_every_schedule_from_local_time(
    app: BotApp, chat: Chat, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # 08:00 in Berlin, 02:00 in New York
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/subscribe 09:00")
    await chat.send("/remind 21:00 glycinate")
    await chat.send("/remind 22:00 citrate")
    async with deps_of(app).sessions() as session, session.begin():
        citrate = await session.scalar(select(Reminder).where(Reminder.label == "citrate"))
        assert citrate is not None
        citrate_id = citrate.id
    await chat.send("/reminders")
    await chat.press(f"rmd:pause:{citrate_id}")

    reply = await chat.send("/timezone America/New_York")
    assert "each one still comes at its local time" in reply

    async with deps_of(app).sessions() as session:
        sub = await session.scalar(select(TipSubscription))
        reminders = {r.label: r for r in await session.scalars(select(Reminder))}
    assert sub is not None
    assert sub.local_time == "09:00"
    assert sub.next_due_utc == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 EST
    glycinate = reminders["glycinate"]
    assert glycinate.local_time == "21:00"
    assert glycinate.next_due_utc == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # 21:00 EST
    assert reminders["citrate"].next_due_utc is None  # paused: stays without a time

    reply = await chat.send("/reminders")
    assert "next: Mon 2 Mar, 21:00 America/New_York" in reply


async def test_the_settings_button_opens_the_zone_panel(
    app: BotApp, chat: Chat, fake: FakeRequest
) -> None:
    await chat.send("/timezone Asia/Kolkata")
    await chat.send("/settings")
    message_id = chat.last_message_id()
    await chat.press(chat.button("Time zone"))
    text = shown(fake, chat, message_id)
    assert "Your time zone is Asia/Kolkata (UTC+05:30)" in text
    assert "tz:set:Europe/Berlin" in [data for _, data in fake.buttons()]
