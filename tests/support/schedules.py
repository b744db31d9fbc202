"""Seed schedules and deliveries, and run the courier on virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.context import BotApp, deps_of
from bot.db.models import Delivery, Reminder, TipSubscription, User
from bot.delivery.courier import Courier
from bot.delivery.ratelimit import PriorityRateLimiter
from bot.domain.schedule import next_due_utc
from tests.support.timer import VirtualTimer


def hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def limiter_of(app: BotApp) -> PriorityRateLimiter:
    return cast(PriorityRateLimiter, app.bot.rate_limiter)


def courier(app: BotApp) -> Courier:
    return deps_of(app).delivery


def now_of(app: BotApp) -> datetime:
    return deps_of(app).clock()


@asynccontextmanager
async def running(app: BotApp, *, workers: int | None = None) -> AsyncIterator[Courier]:
    """Start the engine with the rate limiter on virtual time and retries without waiting."""
    eng = courier(app)
    limiter_of(app).timer = VirtualTimer()
    eng.sender.retry_base = 0.0
    if workers is not None:
        eng.sender.workers = workers
    await eng.start()
    try:
        yield eng
    finally:
        await eng.stop()


async def wait_until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Wait (on the wall clock, at most `within` seconds) until `predicate()` is true."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - state of another task; no event to wait on
            await asyncio.sleep(0.05)


async def add_user(
    app: BotApp,
    user_id: int,
    *,
    zone: str | None = "Europe/Berlin",
    blocked: bool = False,
) -> None:
    now = now_of(app)
    async with deps_of(app).sessions() as session, session.begin():
        session.add(
            User(
                id=user_id,
                chat_id=user_id,
                first_name=f"user{user_id}",
                language="en",
                time_zone=zone,
                created_at=now,
                blocked_at=now if blocked else None,
            )
        )


async def add_tip(
    app: BotApp,
    user_id: int,
    at: str | None = None,
    *,
    active: bool = True,
    due: datetime | None = None,
) -> int:
    """Subscribe the user to the daily tip, due at its next local time (or at `due`).

    Without `at`, the local time is 09:00, or the local time of `due` when that is given.
    """
    now = now_of(app)
    async with deps_of(app).sessions() as session, session.begin():
        user = await session.get(User, user_id)
        assert user is not None
        assert user.time_zone
        at, due = _schedule(at or ("09:00" if due is None else None), due, user.time_zone, now)
        row = TipSubscription(
            user_id=user_id,
            local_time=at,
            active=active,
            next_due_utc=due,
            rotation="",
            cursor=0,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        return row.id


async def add_reminder(
    app: BotApp,
    user_id: int,
    at: str | None = None,
    label: str = "magnesium glycinate 200 mg",
    *,
    active: bool = True,
    due: datetime | None = None,
) -> int:
    now = now_of(app)
    async with deps_of(app).sessions() as session, session.begin():
        user = await session.get(User, user_id)
        assert user is not None
        assert user.time_zone
        at, due = _schedule(at or ("21:00" if due is None else None), due, user.time_zone, now)
        row = Reminder(
            user_id=user_id,
            label=label,
            local_time=at,
            active=active,
            next_due_utc=due,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        return row.id


def _schedule(
    at: str | None, due: datetime | None, zone: str, now: datetime
) -> tuple[str, datetime]:
    """Return a consistent (local time, next due): a given `due` sets the local time."""
    tz = ZoneInfo(zone)
    if due is None:
        assert at is not None
        return at, next_due_utc(hhmm(at), tz, now)
    return at or due.astimezone(tz).strftime("%H:%M"), due


async def deliveries(app: BotApp, **where: Any) -> list[Delivery]:
    async with deps_of(app).sessions() as session:
        stmt = select(Delivery).filter_by(**where).order_by(Delivery.id)
        return list(await session.scalars(stmt))


async def get(app: BotApp, model: Any, key: int) -> Any:
    async with deps_of(app).sessions() as session:
        return await session.get(model, key)


async def set_columns(app: BotApp, model: Any, key: int, **values: Any) -> None:
    async with deps_of(app).sessions() as session, session.begin():
        await session.execute(update(model).where(model.id == key).values(**values))


async def age_leases(app: BotApp, **ago: float) -> None:
    """Move every open row's lease stamp back (as if its courier stopped renewing it then)."""
    async with deps_of(app).sessions() as session, session.begin():
        rows = await session.scalars(
            select(Delivery).where(Delivery.status.in_(["claimed", "sending"]))
        )
        for row in rows:
            assert row.claimed_at is not None
            row.claimed_at -= timedelta(**ago)
