from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from bot.charts import ABOVE_LIMIT_COLOR, FOOD_COLOR
from bot.console.fake_api import UploadedFile
from bot.context import BotApp
from tests.handlers.test_diary import deliver_reminder
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.test_charts import pixels_of

FOOTER = "not medical advice. Ask a doctor or pharmacist"


@pytest.fixture(autouse=True)
def monday_morning(clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # Mon 08:00 in Berlin


@pytest.fixture
async def berlin(chat: Chat) -> Chat:
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/profile 35 f")
    return chat


def last_photo(fake: FakeRequest, chat: Chat) -> tuple[bytes, str]:
    params = fake.files("sendPhoto", chat.user_id)[-1]
    upload = params["photo"]
    assert isinstance(upload, UploadedFile)
    assert upload.filename.endswith(".png")
    return upload.data, str(params["caption"])


async def test_week_sends_a_png_chart_with_its_figures_in_the_caption(
    app: BotApp, berlin: Chat, fake: FakeRequest, clock: FakeClock
) -> None:
    await berlin.send("/log almonds 50g")  # Monday: 141 mg food
    await berlin.send("/log yesterday supplement 400 mg")  # Sunday: above the limit
    await berlin.send("/log yesterday pumpkin seeds 2")  # Sunday: 312 mg food, 712 together
    reply = await berlin.send("/week")
    assert reply.startswith("[photo]\n📊 Your magnesium, last 7 days")
    assert "(Tue 24 Feb – Mon 2 Mar, Europe/Berlin)" in reply
    assert "Average on the 2 of 7 days with entries: 427 mg a day" in reply  # (141 + 712) / 2
    assert "(food 227 mg, supplements 200 mg)" in reply
    assert "Days at your 320 mg RDA, food and supplements together: 1 of 7." in reply
    assert "above the 350 mg upper limit on 1 of these days" in reply
    assert FOOTER in reply
    png, caption = last_photo(fake, berlin)
    assert "<b>" in caption  # HTML, checked by the fake API
    image = Image.open(io.BytesIO(png))
    image.verify()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert 700 <= image.size[0] <= 1300
    assert 500 <= image.size[1] <= 900
    assert pixels_of(png, FOOD_COLOR) > 5000  # the food bars
    assert pixels_of(png, ABOVE_LIMIT_COLOR) > 3000  # Sunday's supplement bar, in red


async def test_the_chart_shows_doses_from_reminders(
    app: BotApp, berlin: Chat, fake: FakeRequest, clock: FakeClock
) -> None:
    await deliver_reminder(app, berlin, clock, "glycinate")
    await berlin.press(berlin.button("Taken"))
    reply = await berlin.send("/week")
    assert "Doses from your reminders: 1 taken, 0 skipped." in reply
    assert "Nothing logged in these 7 days yet" in reply


async def test_month_covers_thirty_days_and_the_picture_is_wider(
    berlin: Chat, fake: FakeRequest
) -> None:
    await berlin.send("/log almonds 50g")
    week = await berlin.send("/week")
    week_png, _ = last_photo(fake, berlin)
    month = await berlin.send("/month")
    month_png, _ = last_photo(fake, berlin)
    assert "last 7 days" in week
    assert "last 30 days" in month
    assert "(Sun 1 Feb – Mon 2 Mar, Europe/Berlin)" in month
    assert "Average on the 1 of 30 days with entries: 141 mg a day" in month
    assert Image.open(io.BytesIO(month_png)).size[0] > Image.open(io.BytesIO(week_png)).size[0]


async def test_without_a_profile_the_caption_uses_the_daily_value(chat: Chat) -> None:
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/log pumpkin seeds 3")  # 468 mg
    reply = await chat.send("/week")
    assert "Days at the 420 mg adult Daily Value, food and supplements together: 1 of 7." in reply
    assert "Set /profile for your own target." in reply


async def test_without_a_zone_there_is_nothing_to_chart(chat: Chat, fake: FakeRequest) -> None:
    reply = await chat.send("/week")
    assert "nothing to chart yet" in reply
    assert fake.files("sendPhoto") == []


async def test_asking_again_sends_the_same_chart_without_drawing_it_again(
    berlin: Chat, fake: FakeRequest, caplog: pytest.LogCaptureFixture
) -> None:
    await berlin.send("/log almonds 50g")
    with caplog.at_level("INFO", logger="bot.charts"):
        await berlin.send("/week")
        await berlin.send("/week extra words are ignored")
    drawn = [r for r in caplog.records if r.getMessage().startswith("Rendered a 7-day chart")]
    assert len(drawn) == 1
    first, second = fake.files("sendPhoto", berlin.user_id)[-2:]
    assert first["photo"].data == second["photo"].data
