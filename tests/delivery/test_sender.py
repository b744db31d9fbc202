"""The sender's outcomes: what each Bot API answer does to the row, the user and the others."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.content import Content
from bot.context import BotApp, deps_of
from bot.db.models import Reminder, TipSubscription, User
from bot.delivery.outcomes import Action, decide
from tests.support.clock import FakeClock
from tests.support.fake_request import (
    BLOCKED,
    CHAT_NOT_FOUND,
    DEACTIVATED,
    FakeRequest,
    NetworkError,
    TimedOut,
    error_body,
    flood,
)
from tests.support.schedules import (
    add_reminder,
    add_tip,
    add_user,
    age_leases,
    courier,
    deliveries,
    get,
    limiter_of,
    running,
    set_columns,
)
from tests.support.sending import hold_sends, until_sending
from tests.support.timer import record_grants


def delivered(fake: FakeRequest, chat_id: int | None = None) -> int:
    """How many messages reached the chat (refused and raised calls do not count)."""
    return sum(1 for chat, _ in fake.api.messages if chat_id is None or chat == chat_id)


def connect_timeout() -> TimedOut:
    """What PTB raises when the connection could not even be made (nothing was sent)."""
    error = TimedOut("Timed out")
    error.__cause__ = httpx.ConnectTimeout("connect timed out")
    return error


async def run_once(app: BotApp, *, workers: int | None = None) -> None:
    async with running(app, workers=workers) as eng:
        await eng.tick()
        await eng.drain()


@pytest.mark.parametrize("answer", [BLOCKED, DEACTIVATED], ids=["blocked", "deactivated"])
async def test_403_blocks_the_user_stops_the_schedules_and_never_retries(
    app: BotApp, clock: FakeClock, fake: FakeRequest, answer: Any
) -> None:
    for user_id in (1, 2):
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=clock())
    await add_tip(app, 1, due=clock())
    fake.fail_chat(1, answer)
    await run_once(app, workers=1)  # one worker: the second row of user 1 comes after the 403

    assert delivered(fake, 2) == 1
    assert delivered(fake, 1) == 0
    assert len(fake.sent(1)) == 1  # one refused call; the tip was never tried
    user = await get(app, User, 1)
    assert user.blocked_at == clock()
    rows = {(row.user_id, row.kind): row for row in await deliveries(app)}
    assert rows[(1, "reminder")].status == "blocked"
    assert rows[(1, "tip")].status == "blocked"
    assert "Forbidden" in (rows[(1, "reminder")].error or "")
    assert rows[(2, "reminder")].status == "sent"

    clock.advance(days=1)  # the next day: nothing is claimed for the blocked user
    fake.clear()
    await run_once(app)
    assert fake.sent(1) == []
    assert delivered(fake, 2) == 2
    assert len(await deliveries(app, user_id=1)) == 2


async def test_429_pauses_all_sending_then_delivers_without_counting_an_attempt(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    await add_reminder(app, 1, due=clock() - timedelta(seconds=1))  # first in line
    for user_id in (2, 3, 4):
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=clock())
    fake.fail_chat(1, flood(3), times=1)
    limiter = limiter_of(app)
    times = record_grants(limiter)
    await run_once(app, workers=1)

    assert limiter.floods == 1
    assert len(times) == 5  # the refused send, its retry, three others
    assert times[1] - times[0] >= 3  # nothing at all went out during the pause
    assert all(later > earlier for earlier, later in itertools.pairwise(times))
    rows = await deliveries(app)
    assert [(row.status, row.attempts) for row in rows] == [("sent", 1)] * 4
    assert delivered(fake, 1) == 1
    assert len(fake.sent(1)) == 2


async def test_a_row_refused_with_429_waits_out_the_pause_as_claimed_not_sending(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    # A crash during the pause must not close it as "may have been sent": Telegram said no.
    await add_user(app, 1)
    await add_reminder(app, 1, due=clock())
    fake.fail_chat(1, flood(30), times=1)
    limiter = limiter_of(app)
    seen: list[str] = []
    async with running(app, workers=1) as eng:
        timer = limiter.timer
        wait = timer.sleep

        async def sleep(seconds: float) -> None:
            if limiter.paused_for > 0:
                seen.extend(row.status for row in await deliveries(app))
            await wait(seconds)

        timer.sleep = sleep  # type: ignore[method-assign]
        await eng.tick()
        await eng.drain()
    assert seen
    assert set(seen) == {"claimed"}
    [row] = await deliveries(app)
    assert (row.status, row.attempts, row.error) == ("sent", 1, None)
    assert len(fake.sent(1)) == 2


async def test_a_429_the_limiter_gives_up_on_is_requeued_and_not_an_attempt(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    await add_reminder(app, 1, due=clock())
    fake.fail_chat(1, flood(2), times=2)
    limiter_of(app).max_retries = 0  # the 429 reaches the sender
    await run_once(app)
    [row] = await deliveries(app)
    assert (row.status, row.attempts, row.error) == ("sent", 1, None)
    assert delivered(fake, 1) == 1
    assert len(fake.sent(1)) == 3


@pytest.mark.parametrize(
    ("kind", "error", "failures", "attempts"),
    [
        ("tip", connect_timeout(), 1, 2),
        ("tip", NetworkError("httpx.ConnectError: connection refused"), 2, 3),
        ("reminder", TimedOut("Timed out"), 1, 2),  # may have arrived: at least once
    ],
    ids=["connect-timeout-tip", "connection-error-tip", "read-timeout-reminder"],
)
async def test_errors_that_allow_a_retry_are_retried(
    app: BotApp,
    clock: FakeClock,
    fake: FakeRequest,
    kind: str,
    error: Exception,
    failures: int,
    attempts: int,
) -> None:
    await add_user(app, 1)
    add = add_tip if kind == "tip" else add_reminder
    await add(app, 1, due=clock())
    fake.raise_for_chat(1, error, times=failures)
    await run_once(app)
    [row] = await deliveries(app)
    assert (row.status, row.attempts) == ("sent", attempts)
    assert len(fake.sent(1)) == 1


async def test_a_read_timeout_on_a_tip_is_not_retried_at_most_once(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    await add_tip(app, 1, due=clock())
    fake.raise_for_chat(1, TimedOut("Timed out"), times=1)
    await run_once(app)
    [row] = await deliveries(app)
    assert (row.status, row.attempts) == ("unknown", 1)
    assert "TimedOut" in (row.error or "")
    assert fake.of("sendMessage") == []  # one attempt (raised), never sent again


async def test_a_reminder_that_keeps_timing_out_fails_after_five_attempts(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    await add_reminder(app, 1, due=clock())
    fake.raise_for_chat(1, connect_timeout(), times=100)
    await run_once(app)
    [row] = await deliveries(app)
    assert (row.status, row.attempts) == ("failed", 5)
    assert "gave up after 5 attempts" in (row.error or "")
    assert len(fake.of("sendMessage:raised")) == 5


async def test_chat_not_found_deactivates_the_users_schedules(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    reminder_id = await add_reminder(app, 1, due=clock())
    sub_id = await add_tip(app, 1, due=clock() + timedelta(hours=1))
    fake.fail_chat(1, CHAT_NOT_FOUND)
    await run_once(app)
    [row] = await deliveries(app)
    assert row.status == "failed"
    assert "chat not found" in (row.error or "").lower()
    assert (await get(app, Reminder, reminder_id)).active is False
    assert (await get(app, TipSubscription, sub_id)).active is False
    assert (await get(app, User, 1)).blocked_at is None
    clock.advance(days=1)
    await run_once(app)
    assert len(await deliveries(app)) == 1


async def test_another_error_fails_that_row_and_the_others_are_still_delivered(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    for user_id in (1, 2, 3):
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=clock())
    fake.fail_chat(2, (400, error_body(400, "Bad Request: PEER_ID_INVALID")))
    await run_once(app)
    rows = {row.user_id: row for row in await deliveries(app)}
    assert rows[2].status == "failed"
    assert "peer_id_invalid" in (rows[2].error or "").lower()
    assert rows[2].attempts == 1
    assert rows[1].status == rows[3].status == "sent"
    assert delivered(fake, 1) == delivered(fake, 3) == 1
    assert delivered(fake, 2) == 0


async def test_reminders_go_out_before_tips(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    for user_id in range(1, 11):
        await add_user(app, user_id)
        await add_tip(app, user_id, due=clock() - timedelta(minutes=1))  # even if due earlier
        await add_reminder(app, user_id, due=clock())
    await run_once(app, workers=1)
    texts = fake.sent_texts()
    assert len(texts) == 20
    assert all("Reminder" in text for text in texts[:10])
    assert all("Tip of the day" in text for text in texts[10:])


async def test_the_row_is_marked_sending_before_the_http_call(
    app: BotApp, clock: FakeClock, fake: FakeRequest, settings: Settings
) -> None:
    if not settings.is_sqlite:
        pytest.skip("reads the row with the sqlite3 module")
    path = settings.database_url.split("///", 1)[1]
    await add_user(app, 1)
    await add_reminder(app, 1, due=clock())
    seen: list[tuple[str, int]] = []

    def look(endpoint: str, params: dict[str, Any]) -> None:
        if endpoint == "sendMessage":
            with sqlite3.connect(path) as con:
                seen.append(con.execute("SELECT status, attempts FROM deliveries").fetchone())

    fake.responders.append(look)
    await run_once(app)
    assert seen == [("sending", 1)]
    [row] = await deliveries(app)
    assert row.status == "sent"


async def test_restart_sends_claimed_rows_resends_sending_reminders_and_closes_sending_tips(
    app: BotApp, clock: FakeClock, settings: Settings, content: Content
) -> None:
    from bot.app import build_application

    start = clock()
    for user_id in range(1, 6):
        await add_user(app, user_id)
    await add_tip(app, 1, due=start)  # claimed: sent after the restart
    await add_reminder(app, 2, due=start)  # claimed: sent, saying it is late
    await add_tip(app, 3, due=start)  # sending: unknown, never sent again
    await add_reminder(app, 4, due=start)  # sending: sent again
    await add_tip(app, 5, due=start - timedelta(minutes=90))  # claimed, too late by then
    report = await courier(app).tick()  # claimed; then the process dies before sending
    assert report.claimed == 5
    rows = {row.user_id: row for row in await deliveries(app)}
    for user_id in (3, 4):
        await set_columns(app, type(rows[user_id]), rows[user_id].id, status="sending", attempts=1)

    clock.advance(hours=1)
    await age_leases(app, hours=1)  # the hour of downtime, as the database's clock saw it
    fake2 = FakeRequest()
    app2 = build_application(settings, request=fake2, clock=clock, content=content)
    async with app2:
        async with running(app2) as eng2:  # start-up recovery, then the sender
            await eng2.drain()
        await deps_of(app2).engine.dispose()

    statuses = {row.user_id: (row.status, row.attempts) for row in await deliveries(app)}
    assert statuses == {
        1: ("sent", 1),
        2: ("sent", 1),
        3: ("unknown", 1),
        4: ("sent", 2),
        5: ("expired", 0),
    }
    assert [len(fake2.sent(user_id)) for user_id in range(1, 6)] == [1, 1, 0, 1, 0]
    assert "late: due at" in fake2.sent_texts(2)[0]


async def test_recovery_leaves_a_live_workers_rows_alone_until_its_lease_runs_out(
    app: BotApp, clock: FakeClock, settings: Settings, content: Content, fake: FakeRequest
) -> None:
    from bot.app import build_application

    for user_id in (1, 2):
        await add_user(app, user_id)
        await add_reminder(app, user_id, due=clock())
    eng_a = courier(app)
    await eng_a.tick()  # worker A holds both rows in its queue
    fake_b = FakeRequest()
    app_b = build_application(settings, request=fake_b, clock=clock, content=content)
    async with app_b:
        eng_b = courier(app_b)
        clock.advance(minutes=1)
        assert await eng_b.dispatcher.recover() == 0  # A's lease is still fresh
        clock.advance(minutes=10)
        await age_leases(app, minutes=10)  # A renewed nothing for 10 minutes: it looks dead
        assert await eng_b.dispatcher.recover() == 2
        async with running(app_b):
            await eng_b.drain()
        async with running(app):  # A comes back: its rows are no longer its own
            await eng_a.drain()
        await deps_of(app_b).engine.dispose()
    assert len(fake_b.sent()) == 2
    assert fake.sent() == []
    assert [row.status for row in await deliveries(app)] == ["sent", "sent"]


def test_outcome_table() -> None:
    refused = TimedOut("Timed out")
    assert decide("tip", connect_timeout(), 1).action is Action.RETRY
    assert decide("tip", refused, 1).action is Action.UNKNOWN
    assert decide("reminder", refused, 1).action is Action.RETRY
    assert decide("snooze", refused, 1).action is Action.RETRY
    assert decide("reminder", refused, 5).action is Action.FAIL
    assert decide("tip", NetworkError("httpx.ConnectError: refused"), 1).action is Action.RETRY
    assert decide("tip", NetworkError("Bad Gateway"), 1).action is Action.UNKNOWN
    closed = NetworkError(
        "Unknown error in HTTP implementation: "
        "RuntimeError('This HTTPXRequest is not initialized!')"
    )
    assert decide("tip", closed, 1).action is Action.RETRY  # the client was closed: not sent


async def test_stopping_lets_a_send_under_way_finish(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    await add_reminder(app, 1, due=clock())
    gate = hold_sends(fake)  # each HTTP call stays under way until the gate opens
    async with running(app) as eng:
        await eng.tick()
        await until_sending(app)
        stopping = asyncio.create_task(eng.stop())
        await asyncio.sleep(0)
        gate.set()
        await stopping
    [row] = await deliveries(app)
    assert row.status == "sent"
    assert delivered(fake, 1) == 1


async def test_a_send_that_outlasts_the_grace_is_left_for_recovery(
    app: BotApp, clock: FakeClock, fake: FakeRequest
) -> None:
    await add_user(app, 1)
    await add_tip(app, 1, due=clock())
    hold_sends(fake)  # the HTTP call stays under way: the gate never opens
    async with running(app) as eng:
        await eng.tick()
        await until_sending(app)
        await eng.sender.stop(grace=0)
    [row] = await deliveries(app)
    assert row.status == "sending"  # unknown after the next start: a tip is sent at most once
