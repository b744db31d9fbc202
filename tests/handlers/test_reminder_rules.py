"""Reminders that fit real regimens, through PTB's real dispatch path and the real dispatcher.

Every form /remind understands, what it says to input it cannot use, the list and the
per-reminder panel, courses, one-offs, tablets and hidden labels.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.console.fake_api import strip_html
from bot.context import BotApp, deps_of
from bot.db.models import Delivery, Dose, Pending, Reminder, User
from bot.domain.vocabulary import QuestionKind
from bot.services import questions
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.schedules import running

MONDAY_8 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Mon 2 Mar, 08:00 in Berlin (UTC+1)


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A March 2026 moment given in Berlin time (UTC+1 until the 29th)."""
    return datetime(2026, 3, day, hour - 1, minute, tzinfo=UTC)


@pytest.fixture(autouse=True)
def monday_morning(clock: FakeClock) -> None:
    clock.set(MONDAY_8)


@pytest.fixture
async def ada(chat: Chat) -> Chat:
    await chat.send("/timezone Europe/Berlin")
    return chat


async def rows(app: BotApp, model: Any, **where: Any) -> list[Any]:
    async with deps_of(app).sessions() as session:
        stmt = select(model).filter_by(**where).order_by(model.id)
        return list(await session.scalars(stmt))


async def the_reminder(app: BotApp) -> Reminder:
    [reminder] = await rows(app, Reminder)
    return reminder


async def deliver_at(app: BotApp, clock: FakeClock, moment: datetime) -> None:
    """Move the clock and let the real dispatcher and sender send what is due."""
    clock.set(moment)
    async with running(app) as engine:
        await engine.tick()
        await engine.drain()


def shown(chat: Chat, message_id: int) -> str:
    return strip_html(chat.fake.api.messages[(chat.user_id, message_id)].text)


def reminder_messages(fake: FakeRequest, user_id: int) -> list[dict[str, Any]]:
    """The reminder messages sent (those with a Taken button)."""
    return [
        params
        for params in fake.sent(user_id)
        if any(data.startswith("rem:taken:") for _, data in fake.buttons(params))
    ]


# --------------------------------------------------------------------------------------------
# What /remind understands


@pytest.mark.parametrize(
    ("args", "said", "columns"),
    [
        (
            "21:00 magnesium",
            "Reminder set: magnesium every day at 21:00 (Europe/Berlin).\n"
            "The next one comes Mon 2 Mar, 21:00 Europe/Berlin.",
            ("21:00", 127, 1, None, None, False),
        ),
        (
            "08:00 20:00 magnesium citrate 200 mg",
            "Reminder set: magnesium citrate 200 mg every day at 08:00 and 20:00"
            " (Europe/Berlin).\n"
            "The next one comes Mon 2 Mar, 20:00 Europe/Berlin.\n"
            "Each time comes as its own message, with its own ✅ Taken.",
            ("08:00,20:00", 127, 1, None, None, False),
        ),
        (
            "mon,wed,fri 08:00 magnesium",
            "Reminder set: magnesium Mon, Wed, Fri at 08:00 (Europe/Berlin).\n"
            "The next one comes Wed 4 Mar, 08:00 Europe/Berlin.",
            ("08:00", 0b10101, 1, None, None, False),
        ),
        (
            "weekdays 7:30 am zinc",
            "Reminder set: zinc weekdays at 07:30 (Europe/Berlin).",
            ("07:30", 0b11111, 1, None, None, False),
        ),
        (
            "every 2 days 21:00 magnesium",
            "Reminder set: magnesium every 2 days at 21:00 (Europe/Berlin).\n"
            "The next one comes Mon 2 Mar, 21:00 Europe/Berlin.",
            ("21:00", 127, 2, date(2026, 3, 2), None, False),
        ),
        (
            "21:00 magnesium for 30 days",
            "Reminder set: magnesium every day at 21:00, until 31 Mar (Europe/Berlin).\n"
            "The next one comes Mon 2 Mar, 21:00 Europe/Berlin.\n"
            "After the last one I'll tell you the course is complete.",
            ("21:00", 127, 1, None, date(2026, 3, 31), False),
        ),
        (
            "21:00 magnesium until 2027-01-31",
            "Reminder set: magnesium every day at 21:00, until 31 Jan 2027 (Europe/Berlin).",
            ("21:00", 127, 1, None, date(2027, 1, 31), False),
        ),
        (
            "once tomorrow 09:00 blood test",
            "Reminder set: blood test once, Tue 3 Mar at 09:00 (Europe/Berlin).\n"
            "The next one comes Tue 3 Mar, 09:00 Europe/Berlin.\n"
            "Once you answer it, or a day after its time, it is removed.",
            ("09:00", 127, 1, date(2026, 3, 3), None, True),
        ),
        (
            "once 2026-12-24 09:00 gift",
            "Reminder set: gift once, Thu 24 Dec at 09:00 (Europe/Berlin).\n"
            "The next one comes Thu 24 Dec, 09:00 Europe/Berlin.",
            ("09:00", 127, 1, date(2026, 12, 24), None, True),
        ),
        (
            "in 30 min tea",
            "Reminder set: tea once, Mon 2 Mar at 08:30 (Europe/Berlin).\n"
            "The next one comes Mon 2 Mar, 08:30 Europe/Berlin.",
            ("08:30", 127, 1, date(2026, 3, 2), None, True),
        ),
    ],
)
async def test_every_form_of_the_table_sets_its_reminder(
    app: BotApp, ada: Chat, args: str, said: str, columns: tuple[Any, ...]
) -> None:
    reply = await ada.send(f"/remind {args}")
    assert said in reply
    assert ada.buttons() == [("📋 My reminders", "rmd:list")]
    row = await the_reminder(app)
    stored = (row.local_time, row.weekdays, row.every_days, row.anchor_date, row.until_date)
    assert (*stored, row.once) == columns


@pytest.mark.parametrize(
    ("args", "said", "example"),
    [
        ("every 0 days", "I couldn't use “every 0 days”", "/remind every 2 days 21:00 magnesium"),
        ("mon,xyz 08:00", "I don't know “xyz” as a day of the week", "/remind mon,wed,fri 08:00"),
        ("once 2020-01-01 09:00 test", "“2020-01-01 09:00” has already passed", "once tomorrow"),
        ("once today 07:00 test", "“today 07:00” has already passed", "once tomorrow 09:00"),
        ("21:00 x for 0 days", "I couldn't use “for 0 days” as a course", "for 30 days"),
        ("21:00 x until 2027-02-30", "I couldn't use “2027-02-30” as a date", "2026-12-24"),
        ("mon,wed", "At what time?", "/remind mon,wed,fri 08:00 magnesium"),
        ("in 30 parsecs", "I couldn't read “in 30 parsecs”", "/remind in 30 min tea"),
        ("1am 2am 3am 4am 5am", "more than 4 times a day", "/remind 08:00 14:00 20:00"),
        ("once tomorrow 09:00 21:00", "A one-off reminder comes once", "once tomorrow 09:00"),
    ],
)
async def test_unclear_or_impossible_input_names_the_part_and_gives_an_example(
    app: BotApp, ada: Chat, args: str, said: str, example: str
) -> None:
    reply = await ada.send(f"/remind {args}")
    assert said in reply
    assert example in reply
    assert await rows(app, Reminder) == []


async def test_a_rule_asked_before_the_zone_is_set_once_it_is_chosen(
    app: BotApp, chat: Chat, clock: FakeClock
) -> None:
    reply = await chat.send("/remind mon,wed,fri 08:00 magnesium")
    assert "First, which time zone are you in?" in reply
    assert "08:00" in reply
    reply = await chat.send("/remind in 30 min tea")
    assert "(in 30 min)" in reply
    clock.advance(minutes=10)  # "in 30 min" counts from when it was asked
    reply = await chat.send("/timezone Europe/Berlin")
    assert "Reminder set: magnesium Mon, Wed, Fri at 08:00 (Europe/Berlin)" in reply
    assert "Reminder set: tea once, Mon 2 Mar at 08:30" in reply
    weekly, tea = await rows(app, Reminder)
    assert weekly.weekdays == 0b10101
    assert tea.next_due_utc == MONDAY_8 + timedelta(minutes=30)


async def test_a_zone_question_from_before_rules_still_completes(
    app: BotApp, chat: Chat, clock: FakeClock
) -> None:
    await chat.send("/start")
    async with deps_of(app).sessions() as session, session.begin():
        old = {
            "action": "remind",
            "time": "21:00",
            "label": "zinc",
            "command": "/remind 21:00 zinc",
        }
        await questions.ask(session, chat.user_id, QuestionKind.ZONE, old, clock(), key="remind:")
    reply = await chat.send("/timezone Europe/Berlin")
    assert "Reminder set: zinc every day at 21:00 (Europe/Berlin)" in reply


# --------------------------------------------------------------------------------------------
# How each kind comes


async def test_several_times_a_day_come_as_their_own_messages_each_with_taken(
    app: BotApp, ada: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await ada.send("/remind 08:00 20:00 citrate")
    for moment in (berlin(2, 20), berlin(3, 8), berlin(3, 20)):
        await deliver_at(app, clock, moment)
        await ada.press(ada.button("Taken"))
    _, morning, evening = await rows(app, Delivery)
    assert (morning.scheduled_utc, evening.scheduled_utc) == (berlin(3, 8), berlin(3, 20))
    assert morning.local_date == evening.local_date == date(2026, 3, 3)
    doses = await rows(app, Dose)
    assert [(d.delivery_id, d.status) for d in doses][1:] == [
        (morning.id, "taken"),
        (evening.id, "taken"),
    ]
    assert len(reminder_messages(fake, ada.user_id)) == 3


async def test_after_a_downtime_a_later_time_of_the_day_still_comes(
    app: BotApp, ada: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await ada.send("/remind 09:00 12:00 iron")
    clock.set(berlin(2, 13))  # down from 08:30 to 13:00: both of today's times were missed
    async with running(app) as engine:
        await engine.tick()  # 09:00, four hours late: sent, and says so
        await engine.drain()
        clock.advance(seconds=5)
        await engine.tick()  # 12:00, an hour late: not lost
        await engine.drain()
    texts = [text for text in fake.sent_texts(ada.user_id) if "Reminder: iron" in text]
    assert len(texts) == 2
    assert "late: due at 09:00" in texts[0]
    assert "late: due at 12:00" in texts[1]
    assert (await the_reminder(app)).next_due_utc == berlin(3, 9)


@pytest.mark.parametrize(
    ("args", "days"),
    [
        ("mon,wed,fri 08:00 x", [4, 6, 9, 11, 13]),  # today's 08:00 is now: not again
        ("every 3 days 08:00 x", [3, 6, 9, 12]),
        ("08:00 x for 4 days", [3, 4, 5, 6]),
        ("weekends 08:00 x", [7, 8]),
    ],
)
async def test_each_kind_comes_on_its_days_only(
    app: BotApp, ada: Chat, clock: FakeClock, fake: FakeRequest, args: str, days: list[int]
) -> None:
    await ada.send(f"/remind {args}")
    for day in range(2, 14):
        await deliver_at(app, clock, berlin(day, 8))
    sent = await rows(app, Delivery, status="sent")
    assert [row.local_date.day for row in sent] == days
    assert len(reminder_messages(fake, ada.user_id)) == len(days)


async def test_a_course_says_its_last_one_and_then_that_it_is_complete(
    app: BotApp, ada: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await ada.send("/remind 21:00 magnesium for 2 days")
    await deliver_at(app, clock, berlin(2, 21))
    assert "last reminder" not in fake.sent_texts(ada.user_id)[-1]
    await deliver_at(app, clock, berlin(3, 21))
    message = ada.last_message_id()
    assert "This is the last reminder of your course" in shown(ada, message)
    assert (await the_reminder(app)).next_due_utc is None
    await ada.press(ada.button("Taken"))
    assert "That was the last one: your course is complete." in shown(ada, message)

    reply = await ada.send("/reminders")
    assert "1. magnesium · every day at 21:00, until 3 Mar · 🏁 course complete" in reply
    await deliver_at(app, clock, berlin(4, 21))
    assert len(await rows(app, Delivery)) == 2

    await ada.press(f"rmd:course:{(await the_reminder(app)).id}")  # go on: a new course
    reply = await ada.send("3 days")  # from the next one: Thursday (it is Wednesday, 21:00)
    assert "magnesium now comes every day at 21:00, until 7 Mar." in reply
    assert "The next one comes Thu 5 Mar, 21:00 Europe/Berlin." in reply


async def test_a_one_off_is_removed_once_it_is_answered(
    app: BotApp, ada: Chat, clock: FakeClock
) -> None:
    await ada.send("/remind once tomorrow 09:00 blood test")
    await deliver_at(app, clock, berlin(3, 9))
    message = ada.last_message_id()
    assert "Reminder: blood test" in shown(ada, message)
    reply = await ada.send("/reminders")
    assert "blood test · once, Tue 3 Mar at 09:00 · sent, removed once answered" in reply
    [delivery] = await rows(app, Delivery)
    await ada.press(f"rem:taken:{delivery.id}", message_id=message)
    text = shown(ada, message)
    assert "✅ Taken at 09:00 (Europe/Berlin)" in text
    assert "This one-off reminder is done, so I removed it" in text
    assert await rows(app, Reminder) == []
    assert "no reminders yet" in await ada.send("/reminders")


async def test_an_unanswered_one_off_is_removed_a_day_after_its_time(
    app: BotApp, ada: Chat, clock: FakeClock
) -> None:
    await ada.send("/remind once tomorrow 09:00 blood test")
    await deliver_at(app, clock, berlin(3, 9))
    reminder = await the_reminder(app)
    assert reminder.next_due_utc == berlin(4, 9)  # one day to answer it
    await deliver_at(app, clock, berlin(4, 8, 59))
    assert len(await rows(app, Reminder)) == 1
    await deliver_at(app, clock, berlin(4, 9))
    assert await rows(app, Reminder) == []
    assert len(await rows(app, Delivery)) == 1  # it came once


async def test_a_one_off_that_expired_unsent_is_removed(
    app: BotApp, ada: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await ada.send("/remind once tomorrow 09:00 blood test")
    await deliver_at(app, clock, berlin(3, 15, 1))  # the bot was down for over 6 hours
    assert reminder_messages(fake, ada.user_id) == []
    assert [row.status for row in await rows(app, Delivery)] == ["expired"]
    assert await rows(app, Reminder) == []


@pytest.mark.parametrize(
    ("args", "first", "series_next"),
    [
        ("mon,wed 21:00 x", berlin(2, 21), berlin(4, 21)),
        ("every 2 days 21:00 x", berlin(2, 21), berlin(4, 21)),
        ("21:00 22:00 x", berlin(2, 21), berlin(2, 22)),
        ("21:00 x for 2 days", berlin(2, 21), berlin(3, 21)),
        ("once today 21:00 x", berlin(2, 21), berlin(3, 21)),  # the one-off's day to answer
    ],
)
async def test_snooze_skip_and_taken_work_for_every_kind_and_a_snooze_never_moves_the_series(
    app: BotApp,
    ada: Chat,
    clock: FakeClock,
    fake: FakeRequest,
    args: str,
    first: datetime,
    series_next: datetime,
) -> None:
    await ada.send(f"/remind {args}")
    await deliver_at(app, clock, first)
    await ada.press(ada.button("Snooze 15 min"))
    assert (await the_reminder(app)).next_due_utc == series_next
    await deliver_at(app, clock, first + timedelta(minutes=15))
    assert "Snoozed reminder: x" in fake.sent_texts(ada.user_id)[-1]
    assert (await the_reminder(app)).next_due_utc == series_next
    await ada.press(ada.button("Skip"))
    doses = await rows(app, Dose)
    assert [d.status for d in doses] == (["snoozed", "skipped"] if "once" not in args else [])
    once = "once" in args
    assert (await rows(app, Reminder) == []) is once  # a one-off ends with the answer


# --------------------------------------------------------------------------------------------
# /reminders and the panel


async def test_the_list_shows_each_rule_in_words_with_its_next_time_and_tablets(
    app: BotApp, ada: Chat
) -> None:
    await ada.send("/remind mon,wed,fri 08:00 magnesium")
    await ada.send("/remind every 2 days 21:00 citrate")
    await ada.send("/remind 22:00 zinc until 2027-01-31")
    await ada.send("/stock 60")  # several reminders: it asks which
    await ada.press(ada.button("citrate"))
    reply = await ada.send("/reminders")
    assert "1. magnesium · Mon, Wed, Fri at 08:00 · next: Wed 4 Mar, 08:00 Europe/Berlin" in reply
    assert "2. citrate · every 2 days at 21:00 · next: Mon 2 Mar, 21:00 Europe/Berlin" in reply
    assert "💊 60 left, about 120 days" in reply
    assert "3. zinc · every day at 22:00, until 31 Jan 2027 · next: Mon 2 Mar, 22:00" in reply


async def test_the_panel_changes_times_days_label_and_course_at_once(
    app: BotApp, ada: Chat, fake: FakeRequest
) -> None:
    await ada.send("/remind tue 09:00 magnesium")
    reminder = await the_reminder(app)
    await ada.send("/reminders")
    listing = ada.last_message_id()
    await ada.press(f"rmd:edit:{reminder.id}")
    text = shown(ada, listing)
    assert "magnesium" in text
    assert "⏰ Tue at 09:00" in text
    assert "Next: Tue 3 Mar, 09:00 Europe/Berlin" in text
    assert "💊 Tablets: not counted" in text
    assert [data for _, data in fake.buttons()] == [
        f"rmd:time:{reminder.id}",
        f"rmd:days:{reminder.id}",
        f"rmd:label:{reminder.id}",
        f"rmd:course:{reminder.id}",
        f"rmd:stock:{reminder.id}",
        f"rmd:pause:{reminder.id}",
        f"rmd:del:{reminder.id}",
        "rmd:list",
    ]

    await ada.press(f"rmd:days:{reminder.id}", message_id=listing)
    assert "On which days should magnesium come (now Tue at 09:00)?" in shown(ada, listing)
    reply = await ada.send("mon,xyz")
    assert "I couldn't read “mon,xyz” as days" in reply
    reply = await ada.send("weekdays")
    assert "magnesium now comes weekdays at 09:00." in reply
    assert "The next one comes Mon 2 Mar, 09:00 Europe/Berlin." in reply  # today, still ahead

    await ada.press(f"rmd:time:{reminder.id}", message_id=listing)
    reply = await ada.send("08:00 20:00")
    assert "magnesium now comes weekdays at 08:00 and 20:00." in reply
    assert "The next one comes Mon 2 Mar, 20:00 Europe/Berlin." in reply  # today still

    await ada.press(f"rmd:label:{reminder.id}", message_id=listing)
    reply = await ada.send("magnesium citrate 200 mg")
    assert "is now called magnesium citrate 200 mg" in reply

    await ada.press(f"rmd:course:{reminder.id}", message_id=listing)
    assert "(now no end)" in shown(ada, listing)
    reply = await ada.send("until 2026-03-20")
    assert "now comes weekdays at 08:00 and 20:00, until 20 Mar." in reply
    await ada.press(f"rmd:course:{reminder.id}", message_id=listing)
    assert "(now until 20 Mar)" in shown(ada, listing)
    reply = await ada.send("no end")
    assert "now comes weekdays at 08:00 and 20:00." in reply

    changed = await the_reminder(app)
    assert (changed.local_time, changed.weekdays, changed.label, changed.until_date) == (
        "08:00,20:00",
        0b11111,
        "magnesium citrate 200 mg",
        None,
    )
    assert changed.next_due_utc == berlin(2, 20)
    assert await rows(app, Pending) == []


async def test_a_one_off_panel_offers_its_time_and_label_only(app: BotApp, ada: Chat) -> None:
    await ada.send("/remind once tomorrow 09:00 blood test")
    reminder = await the_reminder(app)
    await ada.send("/reminders")
    await ada.press(f"rmd:edit:{reminder.id}")
    labels = [label for label, _ in ada.buttons()]
    assert "🕒 Time" in labels
    assert "📅 Days" not in labels
    assert "🏁 Course" not in labels
    await ada.press(f"rmd:days:{reminder.id}")  # an old screen, or a forged press
    reply = await ada.send("weekdays")
    assert "That reminder comes only once" in reply
    await ada.press(f"rmd:time:{reminder.id}")
    reply = await ada.send("07:30")
    assert "blood test now comes once, Tue 3 Mar at 07:30." in reply


async def test_a_rule_changed_during_the_day_still_comes_later_that_day(
    app: BotApp, ada: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await ada.send("/remind tue 09:00 magnesium")
    reminder = await the_reminder(app)
    clock.set(berlin(2, 10))  # Monday, 10:00
    await ada.send("/reminders")
    await ada.press(f"rmd:days:{reminder.id}")
    await ada.send("mon,tue")
    await ada.press(f"rmd:time:{reminder.id}")
    reply = await ada.send("21:00")
    assert "The next one comes Mon 2 Mar, 21:00 Europe/Berlin." in reply
    await deliver_at(app, clock, berlin(2, 21))
    assert len(reminder_messages(fake, ada.user_id)) == 1
    assert [row.local_date for row in await rows(app, Delivery)] == [date(2026, 3, 2)]


async def test_changing_the_zone_keeps_local_times_days_and_the_series(
    app: BotApp, ada: Chat
) -> None:
    await ada.send("/remind mon,wed,fri 08:00 magnesium")
    await ada.send("/remind every 3 days 21:00 citrate")
    await ada.send("/timezone America/New_York")  # Monday 02:00 there
    weekly, every3 = await rows(app, Reminder)
    new_york = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # Monday 08:00 EST
    assert weekly.next_due_utc == new_york
    assert every3.anchor_date == date(2026, 3, 2)
    assert every3.next_due_utc == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Mon 21:00 EST
    reply = await ada.send("/reminders")
    assert "magnesium · Mon, Wed, Fri at 08:00 · next: Mon 2 Mar, 08:00 America/New_York" in reply


# --------------------------------------------------------------------------------------------
# Tablets


async def test_taken_counts_the_tablets_down_warns_at_about_a_week_and_refills(
    app: BotApp, ada: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await ada.send("/remind 09:00 magnesium")
    reply = await ada.send("/stock 9")
    assert "magnesium: 9 tablets, 1 a dose. That lasts about 9 days" in reply
    await deliver_at(app, clock, berlin(2, 9))
    message = ada.last_message_id()
    assert "tablets" not in shown(ada, message)  # 9 days: nothing to say yet
    await ada.press(ada.button("Taken"))
    assert "💊 8 tablets left, about 8 days." in shown(ada, message)
    await deliver_at(app, clock, berlin(3, 9))
    await ada.press(ada.button("Taken"))
    message = ada.last_message_id()
    assert "About 7 days of tablets left (7): time to refill." in shown(ada, message)
    assert ada.buttons() == [("🔄 Refilled", f"rem:refill:{(await rows(app, Delivery))[-1].id}")]

    await deliver_at(app, clock, berlin(4, 9))
    message = ada.last_message_id()
    assert "About 7 days of tablets left (7): time to refill." in shown(ada, message)
    labels = [label for label, _ in ada.buttons()]
    assert labels[:4] == ["✅ Taken", "⏭ Skip", "⏰ Snooze 15 min", "⏰ Snooze 1 h"]
    assert labels[4:] == ["🔄 Refilled"]
    refill = ada.button("Refilled")
    assert "💊 7 left, about 7 days: time to refill" in await ada.send("/reminders")

    await ada.press(refill, message_id=message)
    text = shown(ada, message)
    assert "Refilled: 9 tablets." in text
    assert "time to refill" not in text
    assert [label for label, _ in fake.buttons(fake.edits()[-1])] == labels[:4]  # still open
    assert (await the_reminder(app)).stock == 9


async def test_out_of_tablets_says_so(app: BotApp, ada: Chat, clock: FakeClock) -> None:
    await ada.send("/remind 08:00 20:00 iron")
    reply = await ada.send("/stock 1 2")
    assert "iron: 1 tablets, 2 a dose" in reply
    assert "not enough for one dose" in reply
    await deliver_at(app, clock, berlin(2, 20))
    assert "You're out of tablets for this one." in shown(ada, ada.last_message_id())
    await ada.press(ada.button("Taken"))
    assert (await the_reminder(app)).stock == 0
    assert "none left: time to refill" in await ada.send("/reminders")


async def test_stock_asks_which_reminder_and_explains_itself(
    app: BotApp, chat: Chat, fake: FakeRequest
) -> None:
    assert "no reminders to count tablets for" in await chat.send("/stock 60")
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/remind 08:00 magnesium")
    await chat.send("/remind 21:00 zinc")
    reply = await chat.send("/stock 60 2")
    assert "Which reminder are these 60 tablets for?" in reply
    magnesium, zinc = await rows(app, Reminder)
    assert chat.buttons() == [
        ("1. magnesium", f"stk:{magnesium.id}:60:2"),
        ("2. zinc", f"stk:{zinc.id}:60:2"),
    ]
    await chat.press(f"stk:{zinc.id}:60:2")
    assert "zinc: 60 tablets, 2 a dose. That lasts about 30 days" in shown(
        chat, chat.last_message_id()
    )
    reply = await chat.send("/stock")
    assert "/stock 60 2" in reply
    assert "magnesium: not counted" in reply
    assert "zinc: 60 left, about 30 days" in reply
    assert "couldn't read “lots” as a number of tablets" in await chat.send("/stock lots")
    await chat.send("/stock off")
    await chat.press(f"stk:{zinc.id}:off")
    assert "zinc: I no longer count its tablets." in shown(chat, chat.last_message_id())
    assert (await rows(app, Reminder))[1].stock is None
    other = Chat(app, fake, user_id=6001)
    await other.send("/start")
    await other.press(f"stk:{magnesium.id}:10:1")  # not theirs
    assert "doesn't exist any more" in shown(other, other.last_message_id())
    assert (await rows(app, Reminder))[0].stock is None


async def test_the_panel_counts_tablets_too(app: BotApp, ada: Chat) -> None:
    await ada.send("/remind every 2 days 21:00 magnesium")
    reminder = await the_reminder(app)
    await ada.send("/reminders")
    await ada.press(f"rmd:stock:{reminder.id}")
    reply = await ada.send("lots")
    assert "couldn't read “lots” as a number of tablets" in reply
    reply = await ada.send("6")
    assert "magnesium: 6 tablets, 1 a dose. That lasts about 12 days" in reply
    stored = await the_reminder(app)
    assert (stored.stock, stored.stock_refill, stored.per_dose) == (6, 6, 1)


# --------------------------------------------------------------------------------------------
# Privacy


async def test_hidden_labels_stay_off_the_notification_and_show_in_the_chat(
    app: BotApp, ada: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await ada.send("/remind 21:00 magnesium citrate")
    reply = await ada.send("/settings")
    assert "Reminder labels: shown in notifications" in reply
    await ada.press("set:labels:hide")
    panel = shown(ada, ada.last_message_id())
    assert "From now on, reminder notifications don't show their label." in panel
    assert "Reminder labels: hidden in notifications" in panel
    assert ("🔓 Show labels in reminders", "set:labels:show") in ada.buttons()
    user = (await rows(app, User))[0]
    assert user.hide_labels

    await deliver_at(app, clock, berlin(2, 21))
    message = ada.last_message_id()
    notification = shown(ada, message)
    assert notification == "⏰ Time for your reminder"
    delivery = (await rows(app, Delivery))[0]
    assert ada.buttons()[-1] == ("👁 Show", f"rem:show:{delivery.id}")
    await ada.press(f"rem:show:{delivery.id}", message_id=message)
    assert "Reminder: magnesium citrate" in shown(ada, message)
    assert [label for label, _ in ada.buttons()] == [
        "✅ Taken",
        "⏭ Skip",
        "⏰ Snooze 15 min",
        "⏰ Snooze 1 h",
    ]
    await ada.press(f"rem:taken:{delivery.id}", message_id=message)
    assert "✅ Taken at 21:00" in shown(ada, message)

    await ada.send("/settings")
    await ada.press("set:labels:show")
    await deliver_at(app, clock, berlin(3, 21))
    assert "Reminder: magnesium citrate" in shown(ada, ada.last_message_id())


async def test_a_show_or_refill_press_of_someone_else_is_polite(
    app: BotApp, ada: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await ada.send("/remind 21:00 magnesium")
    await deliver_at(app, clock, berlin(2, 21))
    [delivery] = await rows(app, Delivery)
    other = Chat(app, fake, user_id=6001)
    await other.send("/start")
    for data in (f"rem:show:{delivery.id}", f"rem:refill:{delivery.id}", "rem:show:424242"):
        await other.press(data)
        assert "doesn't exist any more" in shown(other, other.last_message_id())
    assert not any("Reminder:" in text for text in fake.sent_texts(other.user_id))
    assert not any("Reminder:" in str(edit["text"]) for edit in fake.edits())


async def test_a_one_off_whose_time_passed_while_waiting_for_the_zone_is_not_set(
    app: BotApp, chat: Chat, clock: FakeClock
) -> None:
    await chat.send("/remind once today 09:00 blood test")
    clock.set(berlin(2, 10))
    reply = await chat.send("/timezone Europe/Berlin")
    assert "“today 09:00” has already passed" in reply
    assert await rows(app, Reminder) == []
