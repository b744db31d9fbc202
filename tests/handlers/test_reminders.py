from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.console.fake_api import strip_html
from bot.context import BotApp, deps_of
from bot.db.models import Delivery, Dose, Reminder
from bot.db.schedule_repo import DoseRepo
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.schedules import running

OTHER_USER = 6001


async def listed_reminder(app: BotApp, chat: Chat, args: str) -> tuple[Reminder, int]:
    """Create one reminder with `/remind args`, show /reminders; return it and the list's id."""
    await chat.send(f"/remind {args}")
    [row] = await all_rows(app, Reminder)
    await chat.send("/reminders")
    return row, chat.last_message_id()


async def all_rows(app: BotApp, model: Any) -> list[Any]:
    async with deps_of(app).sessions() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


async def reminder(app: BotApp, reminder_id: int) -> Reminder | None:
    async with deps_of(app).sessions() as session:
        return await session.get(Reminder, reminder_id)


def shown(fake: FakeRequest, chat: Chat, message_id: int) -> str:
    return strip_html(fake.api.messages[(chat.user_id, message_id)].text)


def last_reply(chat: Chat) -> str:
    return chat.fake.sent_texts(chat.user_id)[-1]


@pytest.fixture(autouse=True)
def monday_morning(clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # Mon 08:00 in Berlin


@pytest.fixture
async def berlin(chat: Chat) -> Chat:
    await chat.send("/timezone Europe/Berlin")
    return chat


async def deliver_due(app: BotApp, clock: FakeClock, at: datetime) -> None:
    """Move the clock and let the real dispatcher and sender deliver what is due."""
    clock.set(at)
    async with running(app) as engine:
        await engine.tick()
        await engine.drain()


# --------------------------------------------------------------------------------------------
# /remind


async def test_remind_without_arguments_shows_usage(chat: Chat) -> None:
    reply = await chat.send("/remind")
    for example in (
        "/remind 21:00 magnesium",
        "/remind 08:00 20:00 magnesium citrate 200 mg",
        "/remind mon,wed,fri 08:00 magnesium",
        "/remind every 2 days 21:00 magnesium",
        "/remind 21:00 magnesium for 30 days",
        "until 2027-01-31",
        "/remind once tomorrow 09:00 blood test",
        "once 2026-12-24 09:00",
        "in 30 min",
    ):
        assert example in reply
    assert "9pm" in reply
    assert "up to 10" in reply
    assert "/stock" in reply


@pytest.mark.parametrize("args", ["25:99", "abc", "25:99 glycinate", "9 glycinate"])
async def test_an_invalid_time_names_the_accepted_formats(
    app: BotApp, berlin: Chat, args: str
) -> None:
    reply = await berlin.send(f"/remind {args}")
    assert f"couldn't read “{args.split()[0]}” as a time" in reply
    for example in ("9:00", "21:00", "9pm", "9:30 am"):
        assert example in reply
    assert await all_rows(app, Reminder) == []


@pytest.mark.parametrize(
    ("args", "local_time", "label"),
    [
        ("9:00", "09:00", ""),
        ("21:00 magnesium glycinate 200 mg", "21:00", "magnesium glycinate 200 mg"),
        ("9pm citrate", "21:00", "citrate"),
        ("9:30 am with breakfast", "09:30", "with breakfast"),
    ],
)
async def test_accepted_time_formats(
    app: BotApp, berlin: Chat, args: str, local_time: str, label: str
) -> None:
    await berlin.send(f"/remind {args}")
    [row] = await all_rows(app, Reminder)
    assert (row.local_time, row.label, row.active) == (local_time, label, True)


async def test_a_reminder_answers_with_its_next_time_in_the_users_zone(
    app: BotApp, berlin: Chat
) -> None:
    reply = await berlin.send("/remind 21:00 magnesium glycinate 200 mg")
    assert "Reminder set: magnesium glycinate 200 mg every day at 21:00 (Europe/Berlin)" in reply
    assert "The next one comes Mon 2 Mar, 21:00 Europe/Berlin." in reply
    assert berlin.buttons() == [("📋 My reminders", "rmd:list")]
    [row] = await all_rows(app, Reminder)
    assert row.next_due_utc == datetime(2026, 3, 2, 20, 0, tzinfo=UTC)

    reply = await berlin.send("/remind 7:15")  # no label: the default one
    assert "Reminder set: magnesium every day at 07:15" in reply
    assert "Tue 3 Mar, 07:15 Europe/Berlin" in reply


async def test_the_eleventh_reminder_is_refused_kindly(app: BotApp, berlin: Chat) -> None:
    for hour in range(10):
        reply = await berlin.send(f"/remind {hour + 8}:00 dose {hour}")
        assert "Reminder set" in reply
    reply = await berlin.send("/remind 22:00 one more")
    assert "You already have 10 reminders" in reply
    assert "/reminders" in reply
    assert len(await all_rows(app, Reminder)) == 10


async def test_without_a_zone_it_asks_first_and_creates_the_reminder_after(
    app: BotApp, chat: Chat
) -> None:
    reply = await chat.send("/remind 9pm magnesium citrate")
    assert "First, which time zone are you in?" in reply
    assert "21:00" in reply
    assert await all_rows(app, Reminder) == []

    reply = await chat.send_location(52.52, 13.405)
    assert "Time zone set to Europe/Berlin" in reply
    assert "Reminder set: magnesium citrate every day at 21:00 (Europe/Berlin)" in reply
    [row] = await all_rows(app, Reminder)
    assert row.next_due_utc == datetime(2026, 3, 2, 20, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# /reminders and its buttons


async def test_the_list_shows_next_times_and_paused_ones(
    app: BotApp, berlin: Chat, fake: FakeRequest
) -> None:
    await berlin.send("/remind 21:00 glycinate")
    await berlin.send("/remind 8:00 citrate")
    [glycinate, citrate] = await all_rows(app, Reminder)

    reply = await berlin.send("/reminders")
    assert "Your reminders (2 of 10)" in reply
    assert "1. citrate · every day at 08:00 · next: Tue 3 Mar, 08:00 Europe/Berlin" in reply
    assert "2. glycinate · every day at 21:00 · next: Mon 2 Mar, 21:00 Europe/Berlin" in reply
    assert "Europe/Berlin" in reply
    assert berlin.buttons() == [
        ("✏️ Change 1", f"rmd:edit:{citrate.id}"),
        ("⏸ Pause 1", f"rmd:pause:{citrate.id}"),
        ("🗑 Delete 1", f"rmd:del:{citrate.id}"),
        ("✏️ Change 2", f"rmd:edit:{glycinate.id}"),
        ("⏸ Pause 2", f"rmd:pause:{glycinate.id}"),
        ("🗑 Delete 2", f"rmd:del:{glycinate.id}"),
    ]

    listing = berlin.last_message_id()
    await berlin.press(f"rmd:pause:{citrate.id}")
    text = shown(fake, berlin, listing)
    assert "Paused: citrate (every day at 08:00)" in text
    assert "1. citrate · every day at 08:00 · ⏸ paused" in text
    assert ("▶️ Resume 1", f"rmd:resume:{citrate.id}") in fake.buttons()
    row = await reminder(app, citrate.id)
    assert row is not None
    assert not row.active
    assert row.next_due_utc is None

    await berlin.press(f"rmd:resume:{citrate.id}")
    assert "Resumed: citrate. The next one comes Tue 3 Mar, 08:00 Europe/Berlin." in shown(
        fake, berlin, listing
    )
    row = await reminder(app, citrate.id)
    assert row is not None
    assert row.active
    assert row.next_due_utc == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)


async def test_the_reminders_menu_button_lists_them(berlin: Chat) -> None:
    await berlin.send("/remind 21:00 glycinate")
    await berlin.send("/start")
    await berlin.press("menu:reminders")
    assert "glycinate · every day at 21:00" in last_reply(berlin)


async def test_an_empty_list_explains_how_to_add_one(chat: Chat) -> None:
    reply = await chat.send("/reminders")
    assert "no reminders yet" in reply
    assert "/remind 21:00" in reply


async def test_delete_asks_to_confirm_and_a_stale_confirm_is_polite(
    app: BotApp, berlin: Chat, fake: FakeRequest
) -> None:
    row, listing = await listed_reminder(app, berlin, "21:00 glycinate")

    await berlin.press(f"rmd:del:{row.id}")
    assert "Delete the reminder glycinate (every day at 21:00)?" in shown(fake, berlin, listing)
    assert fake.buttons() == [
        ("🗑 Yes, delete", f"rmd:delok:{row.id}"),
        ("↩️ No, keep it", "rmd:list"),
    ]
    await berlin.press("rmd:list")
    assert "1. glycinate · every day at 21:00" in shown(fake, berlin, listing)
    assert await reminder(app, row.id) is not None

    await berlin.press(f"rmd:del:{row.id}")
    await berlin.press(f"rmd:delok:{row.id}")
    assert "Deleted: glycinate (every day at 21:00)." in shown(fake, berlin, listing)
    assert "no reminders yet" in shown(fake, berlin, listing)
    assert await reminder(app, row.id) is None

    await berlin.press(f"rmd:delok:{row.id}")  # pressed again on an old screen
    assert "doesn't exist any more" in shown(fake, berlin, listing)
    assert not any("went wrong" in text for text in fake.sent_texts())


async def test_change_time_takes_the_next_text_message(
    app: BotApp, berlin: Chat, fake: FakeRequest
) -> None:
    row, listing = await listed_reminder(app, berlin, "21:00 glycinate")

    await berlin.press(f"rmd:time:{row.id}")
    assert "Send me the new time for glycinate (now 21:00)" in shown(fake, berlin, listing)
    assert fake.buttons() == [("✖️ Cancel", "rmd:cancel")]

    reply = await berlin.send("whenever")
    assert "couldn't read “whenever” as a time" in reply
    assert berlin.buttons() == [("✖️ Cancel", "rmd:cancel")]

    reply = await berlin.send("8:30 pm")
    assert "glycinate now comes every day at 20:30." in reply
    assert "The next one comes Mon 2 Mar, 20:30 Europe/Berlin." in reply
    changed = await reminder(app, row.id)
    assert changed is not None
    assert changed.local_time == "20:30"
    assert changed.next_due_utc == datetime(2026, 3, 2, 19, 30, tzinfo=UTC)

    reply = await berlin.send("9:00")  # no longer waiting for a time
    assert "now comes" not in reply
    changed = await reminder(app, row.id)
    assert changed is not None
    assert changed.local_time == "20:30"


async def test_change_time_can_be_cancelled_by_button_or_by_a_command(
    app: BotApp, berlin: Chat, fake: FakeRequest
) -> None:
    row, listing = await listed_reminder(app, berlin, "21:00 glycinate")

    await berlin.press(f"rmd:time:{row.id}")
    await berlin.press("rmd:cancel")
    assert "OK, nothing changed." in shown(fake, berlin, listing)
    assert "now comes" not in await berlin.send("8:00")

    await berlin.press(f"rmd:time:{row.id}", message_id=listing)
    await berlin.send("/stats")
    assert "now comes" not in await berlin.send("8:00")
    unchanged = await reminder(app, row.id)
    assert unchanged is not None
    assert unchanged.local_time == "21:00"


async def test_a_paused_reminder_keeps_its_pause_when_the_time_changes(
    app: BotApp, berlin: Chat
) -> None:
    await berlin.send("/remind 21:00 glycinate")
    [row] = await all_rows(app, Reminder)
    await berlin.send("/reminders")
    await berlin.press(f"rmd:pause:{row.id}")
    await berlin.press(f"rmd:time:{row.id}")
    reply = await berlin.send("7am")
    assert "is now set for every day at 07:00. It is still paused" in reply
    changed = await reminder(app, row.id)
    assert changed is not None
    assert not changed.active
    assert changed.next_due_utc is None


async def test_nobody_can_touch_someone_elses_reminder(
    app: BotApp, berlin: Chat, fake: FakeRequest
) -> None:
    await berlin.send("/remind 21:00 glycinate")
    [row] = await all_rows(app, Reminder)
    other = Chat(app, fake, user_id=OTHER_USER)
    await other.send("/reminders")
    for data in (
        f"rmd:pause:{row.id}",
        f"rmd:time:{row.id}",
        f"rmd:del:{row.id}",
        f"rmd:delok:{row.id}",
        "rmd:pause:999999",
    ):
        await other.press(data)
        assert "doesn't exist any more" in shown(fake, other, other.last_message_id()), data
    assert "now comes" not in await other.send("8:00")
    untouched = await reminder(app, row.id)
    assert untouched is not None
    assert untouched.active
    assert untouched.local_time == "21:00"
    assert not any("went wrong" in text for text in fake.sent_texts())


# --------------------------------------------------------------------------------------------
# Taken / Snooze / Skip on a delivered reminder


async def test_taken_records_the_dose_once_and_shows_the_choice(
    app: BotApp, berlin: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await berlin.send("/remind 21:00 glycinate")
    await deliver_due(app, clock, datetime(2026, 3, 2, 20, 0, 2, tzinfo=UTC))
    [delivery] = await all_rows(app, Delivery)
    message = berlin.last_message_id()
    assert "Reminder: glycinate" in shown(fake, berlin, message)

    clock.set(datetime(2026, 3, 2, 20, 3, tzinfo=UTC))
    taken = berlin.button("Taken")
    assert taken == f"rem:taken:{delivery.id}"
    fake.clear()
    await berlin.press(taken, message_id=message)
    # The press is answered before anything else happens.
    assert [name for name, _ in fake.calls][:1] == ["answerCallbackQuery"]
    [dose] = await all_rows(app, Dose)
    assert (dose.delivery_id, dose.status, dose.local_date.isoformat()) == (
        delivery.id,
        "taken",
        "2026-03-02",
    )
    assert dose.at_utc == clock()
    text = shown(fake, berlin, message)
    assert "Reminder: glycinate" in text
    assert "✅ Taken at 21:03 (Europe/Berlin)" in text
    assert fake.api.messages[(berlin.user_id, message)].reply_markup is None

    # A repeated press (a slow network, a second tap) records nothing new.
    clock.advance(minutes=5)
    await berlin.press(f"rem:taken:{delivery.id}", message_id=message)
    await berlin.press(f"rem:skip:{delivery.id}", message_id=message)
    assert len(await all_rows(app, Dose)) == 1
    text = shown(fake, berlin, message)
    assert "✅ Taken at 21:03 (Europe/Berlin)" in text
    assert "already answered" in text
    assert not any("went wrong" in t for t in fake.sent_texts())


async def test_skip_records_a_skipped_dose(
    app: BotApp, berlin: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await berlin.send("/remind 21:00 glycinate")
    await deliver_due(app, clock, datetime(2026, 3, 2, 20, 0, tzinfo=UTC))
    message = berlin.last_message_id()
    await berlin.press(berlin.button("Skip"))
    [dose] = await all_rows(app, Dose)
    assert dose.status == "skipped"
    assert "⏭ Skipped at 21:00 (Europe/Berlin)" in shown(fake, berlin, message)


@pytest.mark.parametrize(
    ("label", "minutes", "back_at"), [("15 min", 15, "21:15"), ("1 h", 60, "22:00")]
)
async def test_snooze_sends_one_extra_reminder_and_leaves_the_series(
    app: BotApp,
    berlin: Chat,
    clock: FakeClock,
    fake: FakeRequest,
    label: str,
    minutes: int,
    back_at: str,
) -> None:
    await berlin.send("/remind 21:00 glycinate")
    [row] = await all_rows(app, Reminder)
    await deliver_due(app, clock, datetime(2026, 3, 2, 20, 0, tzinfo=UTC))
    message = berlin.last_message_id()

    await berlin.press(berlin.button(f"Snooze {label}"))
    [dose] = await all_rows(app, Dose)
    assert dose.status == "snoozed"
    assert f"Snoozed: I'll remind you again at {back_at} (Europe/Berlin)." in shown(
        fake, berlin, message
    )
    [original, snooze] = await all_rows(app, Delivery)
    assert (snooze.kind, snooze.item_id, snooze.status) == ("snooze", original.id, "scheduled")
    assert snooze.due_utc == clock() + timedelta(minutes=minutes)
    series = await reminder(app, row.id)
    assert series is not None
    assert series.next_due_utc == datetime(2026, 3, 3, 20, 0, tzinfo=UTC)  # tomorrow, unmoved

    # Snoozing twice from the same message schedules nothing more.
    await berlin.press(f"rem:snooze15:{original.id}", message_id=message)
    assert len(await all_rows(app, Delivery)) == 2
    assert "already answered" in shown(fake, berlin, message)

    # The extra reminder comes, and can be answered on its own.
    await deliver_due(app, clock, snooze.due_utc)
    again = berlin.last_message_id()
    assert again != message
    assert "glycinate" in shown(fake, berlin, again)
    await berlin.press(berlin.button("Taken"))
    doses = await all_rows(app, Dose)
    assert [(d.delivery_id, d.status) for d in doses] == [
        (original.id, "snoozed"),
        (snooze.id, "taken"),
    ]


async def test_dose_buttons_of_someone_else_or_of_nothing_are_polite(
    app: BotApp, berlin: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await berlin.send("/remind 21:00 glycinate")
    await deliver_due(app, clock, datetime(2026, 3, 2, 20, 0, tzinfo=UTC))
    [delivery] = await all_rows(app, Delivery)

    other = Chat(app, fake, user_id=OTHER_USER)
    await other.send("/start")
    for data in (f"rem:taken:{delivery.id}", f"rem:snooze15:{delivery.id}", "rem:skip:424242"):
        await other.press(data)
        assert "doesn't exist any more" in shown(fake, other, other.last_message_id())
    assert await all_rows(app, Dose) == []
    assert len(await all_rows(app, Delivery)) == 1  # no snooze was scheduled


async def test_a_press_after_the_reminder_was_deleted_is_polite(
    app: BotApp, berlin: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await berlin.send("/remind 21:00 glycinate")
    [row] = await all_rows(app, Reminder)
    await deliver_due(app, clock, datetime(2026, 3, 2, 20, 0, tzinfo=UTC))
    message = berlin.last_message_id()
    await berlin.send("/reminders")
    await berlin.press(f"rmd:delok:{row.id}")

    await berlin.press(f"rem:taken:{(await all_rows(app, Delivery))[0].id}", message_id=message)
    assert "doesn't exist any more" in shown(fake, berlin, message)
    assert await all_rows(app, Dose) == []


async def test_a_tip_delivery_id_on_a_dose_button_is_refused(
    app: BotApp, berlin: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await berlin.send("/subscribe 09:00")
    await deliver_due(app, clock, datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    [tip] = await all_rows(app, Delivery)
    assert tip.kind == "tip"
    await berlin.press(f"rem:taken:{tip.id}")
    assert "doesn't exist any more" in shown(fake, berlin, berlin.last_message_id())
    assert await all_rows(app, Dose) == []


async def test_a_press_racing_another_one_is_reported_as_already_answered(
    app: BotApp, berlin: Chat, clock: FakeClock, fake: FakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    await berlin.send("/remind 21:00 glycinate")
    await deliver_due(app, clock, datetime(2026, 3, 2, 20, 0, tzinfo=UTC))
    message = berlin.last_message_id()
    taken = berlin.button("Taken")
    await berlin.press(taken)

    # The second press reads "no answer yet" (as if both ran at once) and hits the UNIQUE row.
    original = DoseRepo.for_delivery
    calls = []

    async def blind_once(self: DoseRepo, delivery_id: int) -> Dose | None:
        calls.append(delivery_id)
        return None if len(calls) == 1 else await original(self, delivery_id)

    monkeypatch.setattr(DoseRepo, "for_delivery", blind_once)
    await berlin.press(taken.replace("taken", "skip"), message_id=message)
    assert len(calls) == 2
    [dose] = await all_rows(app, Dose)
    assert dose.status == "taken"
    text = shown(fake, berlin, message)
    assert "✅ Taken at 21:00 (Europe/Berlin)" in text
    assert "already answered" in text
    assert not any("went wrong" in t for t in fake.sent_texts())


async def test_forged_ids_too_large_for_the_database_are_answered_politely(
    app: BotApp, berlin: Chat, fake: FakeRequest
) -> None:
    await berlin.send("/remind 21:00 glycinate")
    huge = 91113293284  # beyond 32 bits: PostgreSQL would refuse it as a query argument
    for data in (
        f"rem:taken:{huge}",
        f"rem:snooze60:{huge}",
        f"rmd:pause:{huge}",
        f"rmd:delok:{huge}",
        f"rmd:time:{huge}",
    ):
        fake.clear()
        await berlin.press(data)
        assert len(fake.of("answerCallbackQuery")) == 1, data
        assert not any("went wrong" in text for text in fake.sent_texts()), data
    assert await all_rows(app, Dose) == []
