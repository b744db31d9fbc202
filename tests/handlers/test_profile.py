from __future__ import annotations

import pytest

from bot.context import BotApp, deps_of
from bot.db.models import User
from tests.support.chat import Chat

FOOTER = "not medical advice. Ask a doctor or pharmacist"


async def stored(app: BotApp, chat: Chat) -> tuple[int | None, str | None, str | None]:
    async with deps_of(app).sessions() as session:
        user = await session.get(User, chat.user_id)
        assert user is not None
        return user.age, user.sex, user.life_stage


@pytest.mark.parametrize(
    ("command", "who", "rda", "limit", "columns"),
    [
        ("/profile 35 f", "female, age group 31-50 years", 320, 350, (35, "f", None)),
        ("/profile 30 f pregnant", "pregnant, age group 19-30 years", 350, 350,
         (30, "f", "pregnant")),
        ("/profile 16 m", "male, age group 14-18 years", 410, 350, (16, "m", None)),
        ("/profile 25 f breastfeeding", "breastfeeding, age group 19-30 years", 310, 350,
         (25, "f", "lactating")),
        ("/profile 6", "age group 4-8 years", 130, 110, (6, None, None)),
    ],
)  # fmt: skip
async def test_one_line_sets_the_profile_and_answers_with_its_figures(
    app: BotApp,
    chat: Chat,
    command: str,
    who: str,
    rda: int,
    limit: int,
    columns: tuple[int, str | None, str | None],
) -> None:
    reply = await chat.send(command)
    assert reply.startswith(f"✅ Saved. Your profile: {who}.")
    assert f"(RDA): {rda} mg a day" in reply
    assert f"Upper limit for magnesium from supplements: {limit} mg a day" in reply
    assert "Source: " in reply
    assert FOOTER in reply
    assert await stored(app, chat) == columns
    assert chat.buttons() == [("✏️ Change", "prof:edit"), ("🗑 Remove", "prof:clear")]

    again = await chat.send("/profile")
    assert again.startswith(f"👤 Your profile: {who}.")
    assert f"{rda} mg a day" in again


async def test_the_buttons_ask_age_then_sex_then_pregnancy(app: BotApp, chat: Chat) -> None:
    reply = await chat.send("/profile")
    assert "How old are you?" in reply
    assert "/profile 35 f" in reply
    labels = [label for label, _ in chat.buttons()]
    assert labels == [
        "1-3 years",
        "4-8 years",
        "9-13 years",
        "14-18 years",
        "19-30 years",
        "31-50 years",
        "51 years and older",
    ]
    await chat.press(chat.button("31-50"))
    assert "which one are you?" in chat.fake.last_edit_text()
    await chat.press(chat.button("Female"))
    assert "pregnant or breastfeeding?" in chat.fake.last_edit_text()
    assert [label for label, _ in chat.buttons()] == ["🤰 Pregnant", "🍼 Breastfeeding", "Neither"]
    await chat.press(chat.button("Pregnant"))
    text = chat.fake.last_edit_text()
    assert "Saved. Your profile: pregnant, age group 31-50 years." in text
    assert "360 mg a day" in text
    assert FOOTER in text
    assert await stored(app, chat) == (31, "f", "pregnant")


async def test_a_child_needs_no_sex_and_a_man_no_pregnancy(app: BotApp, chat: Chat) -> None:
    await chat.send("/profile")
    await chat.press(chat.button("4-8"))
    assert "Saved. Your profile: age group 4-8 years." in chat.fake.last_edit_text()
    assert await stored(app, chat) == (4, None, None)
    await chat.press("prof:edit")
    await chat.press(chat.button("51 years"))
    await chat.press(chat.button("Male"))
    assert "male, age group 51 years and older" in chat.fake.last_edit_text()
    assert await stored(app, chat) == (51, "m", None)
    await chat.press("prof:edit")
    await chat.press(chat.button("51 years"))
    await chat.press(chat.button("Female"))  # no pregnancy figures after 50: saved at once
    assert "female, age group 51 years and older" in chat.fake.last_edit_text()


async def test_an_adult_without_a_sex_is_asked_for_it(app: BotApp, chat: Chat) -> None:
    reply = await chat.send("/profile 35")
    assert "which one are you?" in reply
    await chat.press("prof:sex:35:m")
    assert "male, age group 31-50 years" in chat.fake.last_edit_text()
    assert await stored(app, chat) == (35, "m", None)


async def test_clear_removes_it(app: BotApp, chat: Chat) -> None:
    assert "no profile" in await chat.send("/profile clear")
    await chat.send("/profile 35 f")
    reply = await chat.send("/profile clear")
    assert "profile is removed" in reply
    assert "420 mg" in reply
    assert await stored(app, chat) == (None, None, None)
    await chat.send("/profile 35 f")
    await chat.press("prof:clear")
    assert "profile is removed" in chat.fake.last_edit_text()
    assert await stored(app, chat) == (None, None, None)


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("/profile 5 months", "Profiles start at 1 year"),
        ("/profile 200 f", "isn't an age I can use"),
        ("/profile pregnant 60", "pregnancy figures for ages 14 to 50 only"),
        ("/profile 30 m pregnant", "figures are for women"),
        ("/profile 30 <b>", "I couldn't read “30 <b>”"),
    ],
)
async def test_bad_input_says_what_would_work(
    app: BotApp, chat: Chat, command: str, says: str
) -> None:
    reply = await chat.send(command)
    assert says in reply
    assert "/profile 35 f, /profile 30 f pregnant" in reply
    assert await stored(app, chat) == (None, None, None)


@pytest.mark.parametrize("data", ["prof:age:0", "prof:age:999", "prof:st:60:p", "prof:sex:0:f"])
async def test_forged_buttons_change_nothing(app: BotApp, chat: Chat, data: str) -> None:
    await chat.send("/profile")
    await chat.press(data)
    assert "out of date" in chat.fake.last_edit_text()
    assert await stored(app, chat) == (None, None, None)


async def test_intake_shows_the_profile_first_and_food_the_share_of_the_need(
    chat: Chat,
) -> None:
    table = await chat.send("/intake")
    assert "From your profile" not in table
    await chat.send("/profile 35 f")
    reply = await chat.send("/intake")
    first, second = reply.split("\n---\n")
    assert first.startswith("👤 For you, from your /profile: female, age group 31-50 years")
    assert "320 mg a day" in first
    assert FOOTER in first
    assert second.startswith("📏 How much magnesium you need each day")
    assert FOOTER in second

    almonds = await chat.send("/food almonds 50g")
    assert "That is 44% of your daily need (320 mg, from your /profile)." in almonds
    serving = await chat.send("/food almonds")
    assert "That is 25% of your daily need (320 mg" in serving  # 80 of 320 mg
    assert "daily need" not in await Chat(chat.app, chat.fake, user_id=6006).send("/food almonds")
