"""The dispatcher with a controllable clock: what is claimed, when, and what it looks like."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.app import build_application
from bot.config import Settings
from bot.content import Content
from bot.context import BotApp, deps_of
from bot.db.models import Delivery, Reminder, TipSubscription, User
from bot.delivery.dispatcher import claim_due
from bot.services.schedules import schedule_snooze
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.schedules import (
    add_reminder,
    add_tip,
    add_user,
    courier,
    deliveries,
    get,
    running,
    set_columns,
    wait_until,
)
from tests.support.updates import USER_ID

BERLIN = ZoneInfo("Europe/Berlin")


def at_utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


async def test_a_due_tip_is_sent_once_and_a_not_due_one_waits(
    app: BotApp, clock: FakeClock, fake: FakeRequest, content: Content
) -> None:
    await add_user(app, 1)
    sub_id = await add_tip(app, 1, "09:30")  # Berlin (UTC+1): 08:30 UTC today
    async with running(app) as eng:
        clock.set(at_utc(2026, 3, 2, 8, 29, 59))
        report = await eng.tick()
        await eng.drain()
        assert report.claimed == 0
        assert fake.sent(1) == []

        clock.set(at_utc(2026, 3, 2, 8, 30))
        report = await eng.tick()
        await eng.drain()
        assert report.claimed == 1
        await eng.tick()  # the same minute again: nothing new
        await eng.drain()

    [sent] = fake.sent(1)
    [row] = await deliveries(app)
    assert (row.kind, row.status, row.local_date) == ("tip", "sent", date(2026, 3, 2))
    assert row.message_id is not None
    assert row.sent_at == clock()
    assert row.attempts == 1
    tip = next(t for t in content.tips if t.id == row.tip_id)
    assert "Tip of the day" in fake.sent_texts(1)[0]
    assert content.source_names(tip) in fake.sent_texts(1)[0]
    assert fake.buttons(sent) == [
        ("💡 Another tip", "tip:next"),
        ("🔕 Stop daily tips", "tip:stop"),
    ]
    sub = await get(app, TipSubscription, sub_id)
    assert sub.next_due_utc == at_utc(2026, 3, 3, 8, 30)  # tomorrow, from the local time
    assert sub.cursor == 1
    assert row.tip_id in sub.rotation.split(",")


async def test_a_reminder_carries_its_label_and_buttons_with_the_delivery_id(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    reminder_id = await add_reminder(app, 1, "21:00", "magnesium <glycinate> & zinc")
    async with running(app) as eng:
        clock.set(at_utc(2026, 3, 2, 20, 0, 3))
        await eng.tick()
        await eng.drain()
    [row] = await deliveries(app)
    assert (row.kind, row.item_id, row.reminder_id) == ("reminder", reminder_id, reminder_id)
    assert row.label == "magnesium <glycinate> & zinc"
    [sent] = fake.sent(1)
    assert "magnesium &lt;glycinate&gt; &amp; zinc" in sent["text"]  # escaped HTML
    assert "late" not in fake.sent_texts(1)[0]
    assert fake.buttons(sent) == [
        ("✅ Taken", f"rem:taken:{row.id}"),
        ("⏭ Skip", f"rem:skip:{row.id}"),
        ("⏰ Snooze 15 min", f"rem:snooze15:{row.id}"),
        ("⏰ Snooze 1 h", f"rem:snooze60:{row.id}"),
    ]


async def test_no_tip_repeats_until_every_tip_was_seen(
    app: BotApp, clock: FakeClock, content: Content
) -> None:
    await add_user(app, 1)
    await add_tip(app, 1, "09:00")
    async with running(app) as eng:
        for day in range(len(content.tips) + 1):
            clock.set(at_utc(2026, 3, 3, 8, 0) + timedelta(days=day))
            await eng.tick()
            await eng.drain()
    shown = [row.tip_id or "" for row in await deliveries(app, status="sent")]
    assert len(shown) == len(content.tips) + 1
    assert sorted(shown[:-1]) == sorted(t.id for t in content.tips)
    assert shown[-1] != shown[-2]  # a new round never starts with the last tip


@pytest.mark.parametrize(
    ("zone", "at", "start"),
    [
        ("Europe/Berlin", "02:30", at_utc(2026, 1, 1)),  # spring gap and autumn repeat
        ("America/New_York", "02:30", at_utc(2026, 1, 1)),
        ("Australia/Sydney", "02:30", at_utc(2026, 1, 1)),  # southern hemisphere
        ("Asia/Kolkata", "21:00", at_utc(2026, 1, 1)),  # +05:30, no DST
        ("America/Sao_Paulo", "00:30", at_utc(2018, 6, 1)),  # midnight DST, abolished in 2019
    ],
)
async def test_a_daily_reminder_fires_once_per_local_day_for_a_year(
    app: BotApp, clock: FakeClock, zone: str, at: str, start: datetime
) -> None:
    tz = ZoneInfo(zone)
    wall = time(int(at[:2]), int(at[3:]))
    clock.set(start)
    await add_user(app, 1, zone=zone)  # the dispatcher's own claim, driven by the due times
    reminder_id = await add_reminder(app, 1, at)
    sessions = deps_of(app).sessions
    for _ in range(366):
        async with sessions() as session, session.begin():
            reminder = await session.get(Reminder, reminder_id)
            assert reminder is not None
            assert reminder.next_due_utc is not None
            due = reminder.next_due_utc
            early = await claim_due(session, due - timedelta(seconds=1), 10, owner="test")
            assert early.claimed == []  # never early
        async with sessions() as session, session.begin():
            assert len((await claim_due(session, due, 10, owner="test")).claimed) == 1
    rows = await deliveries(app)
    days = [row.local_date for row in rows]
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]  # each day once
    gaps = 0
    for row in rows:
        local = row.due_utc.astimezone(tz)
        assert local.date() == row.local_date or local.time() < wall  # gap across midnight
        if local.replace(tzinfo=None).time() == wall:
            first = datetime.combine(row.local_date, wall, tzinfo=tz).astimezone(UTC)
            assert row.due_utc == first  # a repeated hour fires at its first occurrence
        else:  # the time did not exist: the first valid minute after the jump
            gaps += 1
            before = (row.due_utc - timedelta(minutes=1)).astimezone(tz).replace(tzinfo=None)
            assert before < datetime.combine(row.local_date, wall)
            assert local.second == 0
    assert gaps <= 1


async def test_lateness_budget_expires_old_items_and_marks_late_reminders(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    for user_id in (1, 2, 3, 4):
        await add_user(app, user_id)
    due = at_utc(2026, 3, 2, 20, 0)  # 21:00 in Berlin
    await add_tip(app, 1, "21:00", due=due)
    await add_tip(app, 2, "21:00", due=due + timedelta(minutes=2))
    await add_reminder(app, 3, "21:00", due=due)
    await add_reminder(app, 4, due=due - timedelta(hours=3, minutes=59))
    async with running(app) as eng:
        clock.set(due + timedelta(hours=2, seconds=1))
        report = await eng.tick()
        await eng.drain()
    assert report.claimed == 3
    assert report.expired == 1
    assert fake.sent(1) == []  # the tip 2 h 0 min 1 s late: expired, not sent
    assert len(fake.sent(2)) == 1  # 1 h 58 min late: still sent
    assert "late: due at" not in fake.sent_texts(2)[0]  # (a tip itself may say "later")
    assert "late: due at 21:00 (Europe/Berlin)" in fake.sent_texts(3)[0]
    assert "late: due at 17:01 (Europe/Berlin)" in fake.sent_texts(4)[0]  # within 6 h
    statuses = {row.user_id: row.status for row in await deliveries(app)}
    assert statuses == {1: "expired", 2: "sent", 3: "sent", 4: "sent"}


async def test_a_reminder_over_six_hours_late_is_expired(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    due = at_utc(2026, 3, 2, 20, 0)
    await add_reminder(app, 1, "21:00", due=due)
    async with running(app) as eng:
        clock.set(due + timedelta(hours=6, seconds=1))
        await eng.tick()
        await eng.drain()
    assert fake.sent(1) == []
    [row] = await deliveries(app)
    assert row.status == "expired"


async def test_five_minutes_late_is_not_yet_late(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    due = at_utc(2026, 3, 2, 20, 0)
    await add_reminder(app, 1, "21:00", due=due)
    async with running(app) as eng:
        clock.set(due + timedelta(minutes=5))
        await eng.tick()
        await eng.drain()
    assert "late" not in fake.sent_texts(1)[0]


async def test_snooze_sends_one_extra_message_and_leaves_the_series_alone(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    reminder_id = await add_reminder(app, 1, "21:00")
    clock.set(at_utc(2026, 3, 2, 20, 0))
    async with running(app) as eng:
        await eng.tick()
        await eng.drain()
        [original] = await deliveries(app)
        sessions = deps_of(app).sessions
        async with sessions() as session, session.begin():
            snooze = await schedule_snooze(session, original.id, 15, clock())
            assert snooze is not None
            again = await schedule_snooze(session, original.id, 60, clock())
            assert again is None  # a repeated press creates nothing
        assert (snooze.kind, snooze.item_id, snooze.status) == ("snooze", original.id, "scheduled")
        assert snooze.reminder_id == reminder_id
        assert snooze.label == original.label
        assert snooze.due_utc == clock() + timedelta(minutes=15)

        clock.advance(minutes=14, seconds=59)
        await eng.tick()
        await eng.drain()
        assert len(fake.sent(1)) == 1
        clock.advance(seconds=1)
        await eng.tick()
        await eng.drain()
        assert len(fake.sent(1)) == 2
        await eng.tick()
        await eng.drain()
    assert len(fake.sent(1)) == 2
    assert "Snoozed reminder" in fake.sent_texts(1)[1]
    assert fake.buttons(fake.sent(1)[1])[0] == ("✅ Taken", f"rem:taken:{snooze.id}")
    reminder = await get(app, Reminder, reminder_id)
    assert reminder.next_due_utc == at_utc(2026, 3, 3, 20, 0)  # the daily series is unchanged
    statuses = [(row.kind, row.status) for row in await deliveries(app)]
    assert statuses == [("reminder", "sent"), ("snooze", "sent")]


async def test_snoozing_a_tip_or_a_missing_delivery_does_nothing(
    app: BotApp, clock: FakeClock
) -> None:
    await add_user(app, 1)
    await add_tip(app, 1, "09:00", due=clock())
    async with running(app) as eng:
        await eng.tick()
        await eng.drain()
    [tip] = await deliveries(app)
    async with deps_of(app).sessions() as session, session.begin():
        assert await schedule_snooze(session, tip.id, 15, clock()) is None
        assert await schedule_snooze(session, 9999, 15, clock()) is None


async def test_a_snooze_older_than_the_budget_expires(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    await add_reminder(app, 1, "21:00", due=clock())
    async with running(app) as eng:
        await eng.tick()
        await eng.drain()
        [original] = await deliveries(app)
        async with deps_of(app).sessions() as session, session.begin():
            await schedule_snooze(session, original.id, 60, clock())
        clock.advance(hours=7, minutes=1)
        await eng.tick()
        await eng.drain()
    assert len(fake.sent(1)) == 1
    assert [row.status for row in await deliveries(app, kind="snooze")] == ["expired"]


async def test_paused_items_are_not_claimed_and_resume_without_a_backlog(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    due = at_utc(2026, 3, 2, 20, 0)
    reminder_id = await add_reminder(app, 1, "21:00", active=False, due=due)
    await add_reminder(app, 1, "22:00", active=False, due=None)  # paused, no next time
    await set_columns(app, Reminder, reminder_id + 1, next_due_utc=None)
    async with running(app) as eng:
        for day in range(3):
            clock.set(due + timedelta(days=day, seconds=5))
            report = await eng.tick()
            await eng.drain()
            assert report.claimed == 0
        assert fake.sent(1) == []
        reminder = await get(app, Reminder, reminder_id)
        assert reminder.next_due_utc == due + timedelta(days=3)  # kept moving, one day ahead

        await set_columns(app, Reminder, reminder_id, active=True)  # resume
        clock.set(due + timedelta(days=3))
        await eng.tick()
        await eng.drain()
    assert len(fake.sent(1)) == 1
    assert [row.local_date for row in await deliveries(app)] == [date(2026, 3, 5)]


async def test_a_user_without_a_zone_is_not_scheduled(app: BotApp, clock: FakeClock) -> None:
    await add_user(app, 1)
    reminder_id = await add_reminder(app, 1, "21:00", due=clock())
    await set_columns(app, User, 1, time_zone=None)
    async with running(app) as eng:
        report = await eng.tick()
    assert report.claimed == 0
    assert report.skipped == 1
    assert (await get(app, Reminder, reminder_id)).next_due_utc is None


async def test_a_blocked_user_gets_nothing_and_start_resumes_without_a_burst(
    app: BotApp, clock: FakeClock, fake: FakeRequest, chat: Chat
) -> None:
    await add_user(app, USER_ID, blocked=True)
    due = at_utc(2026, 3, 2, 20, 0)
    await add_reminder(app, USER_ID, "21:00", due=due)
    await add_tip(app, USER_ID, "21:00", due=due)
    async with running(app) as eng:
        for day in range(3):  # three days blocked
            clock.set(due + timedelta(days=day))
            await eng.tick()
            await eng.drain()
        assert await deliveries(app) == []

        clock.set(due + timedelta(days=2, hours=12))
        await chat.send("/start")  # they unblocked the bot and wrote to it
        fake.clear()
        clock.set(due + timedelta(days=3))
        await eng.tick()
        await eng.drain()
    assert len(fake.sent(USER_ID)) == 2  # today's tip and reminder, no backlog
    assert {row.local_date for row in await deliveries(app)} == {date(2026, 3, 5)}


async def test_a_day_already_claimed_is_never_claimed_again(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    due = at_utc(2026, 3, 2, 20, 0)
    reminder_id = await add_reminder(app, 1, "21:00", due=due)
    async with running(app) as eng:
        clock.set(due)
        await eng.tick()
        await eng.drain()
        # As if the advance had been lost (a crash, a second worker): the row is due again.
        await set_columns(app, Reminder, reminder_id, next_due_utc=due)
        clock.advance(seconds=5)
        report = await eng.tick()
        await eng.drain()
    assert report.conflicts == 1
    assert report.claimed == 0
    assert len(fake.sent(1)) == 1
    assert len(await deliveries(app)) == 1


async def test_claims_come_in_batches_and_backlogs_drain_over_ticks(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    due = clock()
    for user_id in range(1, 31):
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=due)
        await add_tip(app, user_id, due=due)
    eng = courier(app)
    eng.dispatcher.batch = 7
    eng.dispatcher.high_water = 20
    report = await eng.tick()  # the sender is not running: its queue fills up to 20
    assert (report.claimed, report.batches) == (20, 3)
    assert (await eng.tick()).claimed == 0  # back-pressure: nothing more until it drains
    assert eng.queue_length == 20
    async with running(app):
        await eng.drain()
        for _ in range(5):
            await eng.tick()
            await eng.drain()
    assert len(fake.sent()) == 60
    assert {row.status for row in await deliveries(app)} == {"sent"}
    kinds = [row.kind for row in await deliveries(app)]
    assert kinds[:20] == ["reminder"] * 20  # reminders are claimed before tips


async def test_items_too_late_to_send_are_expired_at_once_behind_a_backlog(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    now = clock()
    for user_id in range(1, 11):  # fresh reminders: more than the sender has room for
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=now - timedelta(minutes=30))
    for user_id in range(11, 41):  # tips and reminders past their budget
        await add_user(app, user_id)
        if user_id % 3:
            await add_tip(app, user_id, due=now - timedelta(hours=2, seconds=1))
        else:
            await add_reminder(app, user_id, due=now - timedelta(hours=6, minutes=1))
    eng = courier(app)
    eng.dispatcher.batch = 4
    eng.dispatcher.high_water = 5
    report = await eng.tick()  # the sender is not running: room for 5
    assert report.claimed == 5
    assert report.expired == 30  # decided now, not once the fresh reminders are sent
    rows = await deliveries(app)
    assert {row.user_id for row in rows if row.status == "expired"} == set(range(11, 41))
    assert sorted(row.user_id for row in rows if row.status == "claimed") == [1, 2, 3, 4, 5]
    async with deps_of(app).sessions() as session:
        for model in (TipSubscription, Reminder):
            dues = (await session.scalars(select(model.next_due_utc))).all()
            late = [due for due in dues if due is not None and due < now - timedelta(hours=2)]
            assert late == []  # every schedule past its budget moved on to a later day
    async with running(app):
        await eng.drain()
        for _ in range(3):
            await eng.tick()
            await eng.drain()
    assert sorted(int(call["chat_id"]) for call in fake.sent()) == list(range(1, 11))


async def test_the_job_queue_has_one_dispatcher_job(app: BotApp) -> None:
    assert app.job_queue is not None
    jobs = app.job_queue.jobs()
    assert [job.name for job in jobs] == ["dispatcher"]
    # Many subscribers never add jobs: there is one job whatever the table holds.
    await add_user(app, 1)
    await add_tip(app, 1)
    assert len(app.job_queue.jobs()) == 1


async def test_the_dispatcher_job_ticks_only_in_the_delivery_leader(
    settings: Settings, clock: FakeClock, content: Content
) -> None:
    fake = FakeRequest()
    fast = settings.model_copy(update={"leader_retry": 0.05})  # PostgreSQL: elected at once
    app = build_application(fast, request=fake, clock=clock, content=content)
    async with app:
        await add_user(app, 1)
        await add_reminder(app, 1, due=clock())
        assert app.job_queue is not None
        [job] = app.job_queue.jobs()
        async with running(app) as eng:
            await job.run(app)  # not the leader (yet): the job leaves the rows alone
            assert eng.last_tick is None
            await eng.lead(app.bot.id)
            await wait_until(lambda: eng.leading)
            await job.run(app)
            await eng.drain()
            assert eng.last_tick == clock()
            await eng.stop_leading()
    await deps_of(app).engine.dispose()
    assert len(fake.sent(1)) == 1


async def test_admin_figures(app: BotApp, clock: FakeClock, fake: FakeRequest) -> None:
    for user_id in (1, 2):
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=clock())
    await add_tip(app, 1, due=clock() - timedelta(hours=3))
    eng = courier(app)
    assert eng.last_tick is None
    assert eng.queue_length == 0
    async with running(app):
        await eng.tick()
        assert eng.queue_length == 2
        await eng.drain()
        assert eng.queue_length == 0
    assert await eng.counts_today() == {"sent": 2, "expired": 1}
    assert eng.last_tick == clock()


async def test_a_stopped_tip_is_not_sent_after_it_was_claimed(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    sub_id = await add_tip(app, 1, due=clock())
    eng = courier(app)
    await eng.tick()  # claimed, but the sender is not running yet
    await set_columns(app, TipSubscription, sub_id, active=False, next_due_utc=None)
    async with running(app):
        await eng.drain()
    assert fake.sent(1) == []
    [row] = await deliveries(app)
    assert row.status == "failed"
    assert "stopped" in (row.error or "")


async def test_rows_for_a_user_blocked_meanwhile_are_not_sent(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    await add_reminder(app, 1, due=clock())
    eng = courier(app)
    await eng.tick()
    async with deps_of(app).sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == 1).values(blocked_at=clock()))
    async with running(app):
        await eng.drain()
    assert fake.sent(1) == []
    assert [row.status for row in await deliveries(app)] == ["blocked"]


async def test_deliveries_table_has_one_row_per_item_and_day(
    app: BotApp, clock: FakeClock
) -> None:
    await add_user(app, 1)
    await add_reminder(app, 1, due=clock())
    async with running(app) as eng:
        for _ in range(3):
            await eng.tick()
            await eng.drain()
    rows = await deliveries(app)
    assert len(rows) == 1
    assert isinstance(rows[0], Delivery)
