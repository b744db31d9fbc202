from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_application
from bot.config import Settings
from bot.console.fake_api import strip_html
from bot.content import Content
from bot.context import BotApp, deps_of
from bot.db.models import DiaryEntry, Dose
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.schedules import running

FOOTER = "not medical advice. Ask a doctor or pharmacist"
WARNING = "above the upper limit for supplements (350 mg a day); talk to a doctor or pharmacist"
MONDAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def monday_morning(clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # Mon 08:00 in Berlin


@pytest.fixture
async def berlin(chat: Chat) -> Chat:
    await chat.send("/timezone Europe/Berlin")
    return chat


async def entries(app: BotApp, user_id: int | None = None) -> list[DiaryEntry]:
    async with deps_of(app).sessions() as session:
        stmt = select(DiaryEntry).order_by(DiaryEntry.id)
        if user_id is not None:
            stmt = stmt.where(DiaryEntry.user_id == user_id)
        return list(await session.scalars(stmt))


def figures(entry: DiaryEntry) -> tuple[Any, ...]:
    return (entry.local_date, entry.kind, entry.mg, entry.food_id, entry.label, entry.amount)


def shown(fake: FakeRequest, chat: Chat, message_id: int) -> str:
    return strip_html(fake.api.messages[(chat.user_id, message_id)].text)


# --------------------------------------------------------------------------------------------
# /log and /today


async def test_almonds_then_today_shows_141_of_320_mg(app: BotApp, berlin: Chat) -> None:
    await berlin.send("/profile 35 f")
    reply = await berlin.send("/log almonds 50g")
    assert reply.startswith("📒 Logged for today: Almonds, dry roasted, 50 g: about 141 mg")
    assert "🥗 Food: 141 mg of your 320 mg (44%)" in reply
    assert "████░░░░░░" in reply
    assert "Supplements" not in reply  # none today: the food reply stays short
    assert "Source: NIH ODS health professional fact sheet" in reply
    assert berlin.buttons() == [("↩️ Undo", f"dia:undo:{(await entries(app))[0].id}")]
    [entry] = await entries(app)
    assert figures(entry) == (MONDAY, "food", 141.1, "almonds", "Almonds, dry roasted", "g50")

    today = await berlin.send("/today")
    assert today.startswith("📒 Today, Mon 2 Mar (Europe/Berlin)")
    assert "🥗 Food: 141 mg of your 320 mg (44%)" in today
    assert "💊 Supplements: 0 mg of the 350 mg upper limit for supplements (0%)" in today
    assert "1. 08:00 🥗 Almonds, dry roasted, 50 g: 141 mg" in today
    assert "above the upper limit" not in today
    assert FOOTER in today
    assert berlin.buttons() == [("🗑 1", f"dia:del:{entry.id}")]


async def test_a_supplement_above_the_limit_is_warned_about(app: BotApp, berlin: Chat) -> None:
    await berlin.send("/profile 35 f")
    reply = await berlin.send("/log supplement 400 mg")
    assert reply.startswith("📒 Logged for today: 💊 supplement, 400 mg of magnesium")
    assert "💊 Supplements: 400 mg of the 350 mg upper limit for supplements (114%)" in reply
    assert f"⚠️ 400 mg from supplements is {WARNING}" in reply
    assert FOOTER in reply
    assert "Food and Nutrition Board UL" in reply  # the limit's source
    today = await berlin.send("/today")
    assert WARNING in today
    assert "🥗 Food: 0 mg of your 320 mg (0%)" in today  # supplements never count as food
    assert "Food and supplements together: 400 mg, 125% of your 320 mg." in today


async def test_within_the_limit_there_is_no_warning_and_food_never_counts_toward_it(
    berlin: Chat,
) -> None:
    await berlin.send("/log supplement 350 mg")
    reply = await berlin.send("/log pumpkin seeds 500g")  # a lot of food magnesium
    assert "above the upper limit" not in reply
    today = await berlin.send("/today")
    assert "💊 Supplements: 350 mg of the 350 mg upper limit for supplements (100%)" in today
    assert "above the upper limit" not in today


async def test_without_a_profile_the_adult_daily_value_and_it_says_so(berlin: Chat) -> None:
    reply = await berlin.send("/log almonds 50g")
    assert "🥗 Food: 141 mg of the 420 mg adult Daily Value (34%)" in reply
    assert "Without a profile I measure against the adult Daily Value" in reply
    today = await berlin.send("/today")
    assert "of the 420 mg adult Daily Value" in today
    assert "Set /profile for your own target." in today
    assert "of the 350 mg upper limit" in today


@pytest.mark.parametrize(
    ("command", "mg", "amount", "shows"),
    [
        ("/log banana 2", 64, "s2", "Banana, 2 × 1 medium: about 64 mg"),
        ("/log spinach", 78, "", "Spinach, boiled, ½ cup: about 78 mg"),
        ("/log pumpkin seeds 1.5", 234, "s1.5", "1.5 × 1 ounce (28 g): about 234 mg"),
        ("/log almond 1 oz", 80, "g28.3", "28.3 g: about 80 mg"),
    ],
)
async def test_amounts_and_servings(
    app: BotApp, berlin: Chat, command: str, mg: float, amount: str, shows: str
) -> None:
    reply = await berlin.send(command)
    assert shows in reply
    [entry] = await entries(app)
    assert entry.mg == pytest.approx(mg, abs=0.5)
    assert entry.amount == amount


@pytest.mark.parametrize(
    ("command", "label"),
    [
        ("/log glycinate 200mg", "glycinate"),
        ("/log magnesium citrate 200 mg", "magnesium citrate"),
        ("/log supplement 200 mg evening", "evening"),
    ],
)
async def test_supplement_labels(app: BotApp, berlin: Chat, command: str, label: str) -> None:
    reply = await berlin.send(command)
    assert f"💊 {label}, 200 mg of magnesium from a supplement" in reply
    assert FOOTER in reply
    [entry] = await entries(app)
    assert (entry.kind, entry.mg, entry.label, entry.food_id) == ("supplement", 200, label, None)


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("/log almonds -5", "A food entry holds more than 0 and up to 5000 g"),
        ("/log almonds 6000g", "couldn't log “6000g” as an amount"),
        ("/log banana 51", "or up to 50 servings"),
        ("/log supplement -200 mg", "more than 0 and at most 2000 mg"),
        ("/log supplement 5000 mg", "I can't log “5000 mg”"),
        ("/log supplement", "Add one amount in mg"),
        ("/log almonds 50mg", "mg amounts are for supplements"),
        ("/log 50g", "Which food?"),
        ("/log qwertyuiop", "I couldn't find a food like “qwertyuiop”"),
        ("/log", "Entries go to today"),
    ],
)
async def test_bad_input_names_the_limits_and_stores_nothing(
    app: BotApp, berlin: Chat, command: str, says: str
) -> None:
    reply = await berlin.send(command)
    assert says in reply
    assert "went wrong" not in reply
    assert await entries(app) == []


async def test_the_usage_says_how_to_log_yesterday(berlin: Chat) -> None:
    reply = await berlin.send("/log")
    assert "/log almonds 50g" in reply
    assert "/log supplement 200 mg" in reply
    assert "/log yesterday spinach" in reply
    assert "Older days can't be changed" in reply


async def test_yesterday_is_the_only_other_day(app: BotApp, berlin: Chat) -> None:
    reply = await berlin.send("/log yesterday spinach")
    assert reply.startswith("📒 Logged for yesterday: Spinach, boiled")
    [entry] = await entries(app)
    assert entry.local_date == date(2026, 3, 1)
    assert "Nothing logged for this day yet" in await berlin.send("/today")
    yesterday = await berlin.send("/today yesterday")
    assert yesterday.startswith("📒 Yesterday, Sun 1 Mar (Europe/Berlin)")
    assert "Spinach, boiled, ½ cup: 78 mg" in yesterday
    assert "/today yesterday" in await berlin.send("/today last week")


async def test_today_is_the_local_date_in_the_users_zone(app: BotApp, chat: Chat) -> None:
    await chat.send("/timezone Pacific/Honolulu")  # 07:00 UTC Monday is 21:00 Sunday there
    await chat.send("/log banana")
    [entry] = await entries(app)
    assert entry.local_date == date(2026, 3, 1)
    assert (await chat.send("/today")).startswith("📒 Today, Sun 1 Mar (Pacific/Honolulu)")


async def test_did_you_mean_buttons_log_the_food_they_name(app: BotApp, berlin: Chat) -> None:
    reply = await berlin.send("/log yesterday beans 100g")
    assert "Which one did you mean? Tapping one logs it." in reply
    buttons = berlin.buttons()
    assert 2 <= len(buttons) <= 3
    assert all(data.startswith("dia:log:") and data.endswith(":g100:y") for _, data in buttons)
    assert await entries(app) == []
    assert ("📒 Kidney beans, canned", "dia:log:kidney_beans:g100:y") in buttons
    await berlin.press("dia:log:black_beans:g100:y")
    [entry] = await entries(app)
    assert (entry.label, entry.local_date, entry.amount) == (
        "Black beans, cooked",
        date(2026, 3, 1),
        "g100",
    )
    assert "Logged for yesterday: Black beans, cooked, 100 g" in berlin.fake.sent_texts()[-1]
    # Kidney beans have no gram weight in the sources: the choice says so, and logs nothing.
    await berlin.press("dia:log:kidney_beans:g100:y")
    assert "I can't log grams of Kidney beans" in berlin.fake.sent_texts()[-1]
    assert len(await entries(app)) == 1


async def test_every_food_answer_has_a_log_this_button(app: BotApp, berlin: Chat) -> None:
    await berlin.send("/food almonds 50g")
    assert ("📒 Log this", "dia:log:almonds:g50") in berlin.buttons()
    await berlin.press("dia:log:almonds:g50")
    assert (
        "Logged for today: Almonds, dry roasted, 50 g: about 141 mg"
        in (berlin.fake.sent_texts(berlin.user_id)[-1])
    )
    await berlin.send("spinach")  # plain text looks a food up too
    assert ("📒 Log this", "dia:log:spinach") in berlin.buttons()
    await berlin.send("/food raisins 100g")  # no gram weight known: the button logs a serving
    assert ("📒 Log this", "dia:log:raisins") in berlin.buttons()
    assert [e.mg for e in await entries(app)] == [141.1]


async def test_without_a_zone_log_asks_for_it_then_logs(app: BotApp, chat: Chat) -> None:
    reply = await chat.send("/log almonds 50g")
    assert "which time zone are you in?" in reply
    assert await entries(app) == []
    await chat.press("tz:set:Europe/Berlin")
    assert "Logged for today: Almonds, dry roasted, 50 g" in chat.fake.sent_texts()[-1]
    [entry] = await entries(app)
    assert entry.local_date == MONDAY

    # A "Log this" press without a zone waits for it the same way.
    other = Chat(chat.app, chat.fake, user_id=6006)
    await other.send("/food banana")
    await other.press("dia:log:banana")
    assert "which time zone" in other.fake.sent_texts(other.user_id)[-1]
    await other.send("/timezone Europe/Berlin")
    assert "Logged for today: Banana" in other.fake.sent_texts(other.user_id)[-1]


async def test_nothing_is_lost_on_restart(
    app: BotApp, berlin: Chat, settings: Settings, fake: FakeRequest, clock: FakeClock,
    content: Content,
) -> None:  # fmt: skip
    await berlin.send("/profile 35 f")
    await berlin.send("/log almonds 50g")
    await berlin.send("/log supplement 200 mg")
    restarted = build_application(settings, request=fake, clock=clock, content=content)
    async with restarted:
        today = await Chat(restarted, fake, berlin.user_id).send("/today")
    await deps_of(restarted).engine.dispose()
    assert "🥗 Food: 141 mg of your 320 mg (44%)" in today
    assert "💊 Supplements: 200 mg of the 350 mg" in today


async def test_undo_and_delete(app: BotApp, berlin: Chat, fake: FakeRequest) -> None:
    await berlin.send("/log almonds 50g")
    await berlin.send("/log banana")
    await berlin.send("/log supplement 200 mg")
    reply = await berlin.send("/undo")
    assert reply.startswith("↩️ Removed from your diary: 💊 supplement, 200 mg (today).")
    assert [e.label for e in await entries(app)] == ["Almonds, dry roasted", "Banana"]

    await berlin.send("/today")
    listing = berlin.last_message_id()
    almonds, banana = await entries(app)
    await berlin.press(f"dia:del:{almonds.id}")
    text = shown(fake, berlin, listing)
    assert text.startswith("🗑 Deleted: Almonds, dry roasted, 50 g, 141 mg (today).")
    assert "1. 08:00 🥗 Banana, 1 medium: 32 mg" in text
    assert berlin.buttons() == [("🗑 1", f"dia:del:{banana.id}")]
    await berlin.press(f"dia:del:{almonds.id}")  # again: already gone
    assert "doesn't exist any more" in shown(fake, berlin, listing)

    await berlin.send("/log spinach")
    logged = berlin.last_message_id()
    [_, spinach] = await entries(app)
    await berlin.press(f"dia:undo:{spinach.id}")
    assert shown(fake, berlin, logged).startswith("↩️ Removed from your diary: Spinach, boiled")
    await berlin.send("/undo")
    assert "nothing to undo" in await berlin.send("/undo")
    assert await entries(app) == []


async def test_nobody_can_delete_someone_elses_entry(app: BotApp, berlin: Chat) -> None:
    await berlin.send("/log almonds 50g")
    [entry] = await entries(app)
    other = Chat(berlin.app, berlin.fake, user_id=6006)
    await other.send("/timezone Europe/Berlin")
    await other.send("/today")
    for data in (f"dia:del:{entry.id}", f"dia:undo:{entry.id}"):
        await other.press(data)
        assert "doesn't exist any more" in other.fake.last_edit_text()
    assert "nothing to undo" in await other.send("/undo")
    assert len(await entries(app)) == 1


async def test_a_day_holds_at_most_thirty_entries(app: BotApp, berlin: Chat) -> None:
    for _ in range(30):
        assert "Logged for today" in await berlin.send("/log banana")
    reply = await berlin.send("/log banana")
    assert "You already have 30 entries for today" in reply
    assert len(await entries(app)) == 30
    assert "Logged for yesterday" in await berlin.send("/log yesterday banana")


# --------------------------------------------------------------------------------------------
# Taken on a reminder


async def deliver_reminder(app: BotApp, chat: Chat, clock: FakeClock, label: str) -> int:
    await chat.send(f"/remind 21:00 {label}")
    clock.set(datetime(2026, 3, 2, 20, 0, tzinfo=UTC))
    async with running(app) as engine:
        await engine.tick()
        await engine.drain()
    return chat.last_message_id()


async def test_taken_logs_the_dose_a_label_names_with_an_undo(
    app: BotApp, berlin: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await berlin.send("/profile 35 f")
    await berlin.send("/log supplement 200 mg")  # then the reminder's 200 mg goes above 350
    message = await deliver_reminder(app, berlin, clock, "magnesium citrate 200 mg")
    await berlin.press(berlin.button("Taken"))
    text = shown(fake, berlin, message)
    assert "Reminder: magnesium citrate 200 mg" in text
    assert "✅ Taken at 21:00 (Europe/Berlin)" in text
    assert "Logged 200 mg in your diary as a supplement for today." in text
    assert "Supplements that day: 400 mg of the 350 mg upper limit." in text
    assert f"400 mg from supplements is {WARNING}" in text
    assert FOOTER in text
    _, logged = await entries(app)
    async with deps_of(app).sessions() as session:
        [dose] = list(await session.scalars(select(Dose)))
    assert (logged.kind, logged.mg, logged.dose_id, logged.local_date) == (
        "supplement",
        200,
        dose.id,
        MONDAY,
    )
    assert berlin.buttons() == [("↩️ Undo", f"dia:undo:{logged.id}")]
    assert "(Taken on a reminder)" in await berlin.send("/today")

    await berlin.press(f"rem:taken:{dose.delivery_id}", message_id=message)  # a second tap
    assert len(await entries(app)) == 2
    assert "Logged 200 mg" in shown(fake, berlin, message)

    await berlin.press(f"dia:undo:{logged.id}", message_id=message)
    text = shown(fake, berlin, message)
    assert "✅ Taken at 21:00 (Europe/Berlin)" in text
    assert "Removed from your diary: 200 mg. The dose stays recorded as taken." in text
    assert len(await entries(app)) == 1
    async with deps_of(app).sessions() as session:
        assert len(list(await session.scalars(select(Dose)))) == 1


@pytest.mark.parametrize("label", ["zinc 15 mg", "magnesium", "vitamin D"])
async def test_taken_logs_nothing_without_a_magnesium_dose(
    app: BotApp, berlin: Chat, clock: FakeClock, fake: FakeRequest, label: str
) -> None:
    message = await deliver_reminder(app, berlin, clock, label)
    await berlin.press(berlin.button("Taken"))
    assert "Logged" not in shown(fake, berlin, message)
    assert await entries(app) == []


async def test_skip_logs_nothing(app: BotApp, berlin: Chat, clock: FakeClock) -> None:
    await deliver_reminder(app, berlin, clock, "glycinate 200 mg")
    await berlin.press(berlin.button("Skip"))
    assert await entries(app) == []
