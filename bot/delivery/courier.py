"""The courier: the dispatcher and the sender of one process, started and stopped as one.

`bot/app.py` builds one `Courier` per application, keeps it as `deps.delivery`, runs
`tick` from the one repeating JobQueue job while this process is the delivery leader
(`leader.py`), and starts and stops the leadership with the application (`post_init` /
`post_stop`); the leadership starts and stops the sender. /admin reads its figures.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import ExtBot

from bot.config import Settings
from bot.content import Content
from bot.db.delivery_repo import DeliveryRepo
from bot.db.repositories import StateRepo
from bot.delivery.dispatcher import RECOVERY_LEASE, Dispatcher, TickReport
from bot.delivery.leader import AdvisoryLeader, Leadership, SoleLeader
from bot.delivery.ratelimit import PriorityRateLimiter
from bot.delivery.sender import Sender, workers_for
from bot.domain.schedule import utc_midnight

log = logging.getLogger(__name__)

PAUSE_KEY = "flood_pause_until"  # bot_state: when Telegram's last 429 pause ends (ISO, UTC)


class Courier:
    """Claims due deliveries and sends them: the dispatcher and the sender of one process."""

    def __init__(
        self,
        bot: ExtBot[Any],
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        clock: Callable[[], datetime],
        settings: Settings,
        rng: random.Random,
        *,
        lease: timedelta = RECOVERY_LEASE,
    ) -> None:
        """Build the sender and the dispatcher; nothing runs until `start`."""
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.owner = uuid.uuid4().hex  # names the rows this courier holds (claimed_by)
        self.sender = Sender(
            bot,
            sessions,
            content,
            clock,
            owner=self.owner,
            workers=workers_for(settings.send_rate, settings.sender_workers),
            rng=rng,
            paid_broadcast=settings.paid_broadcast,
        )
        self.dispatcher = Dispatcher(
            sessions,
            clock,
            self.sender,
            batch=settings.dispatch_batch,
            # Enough claimed rows to keep sending at the full rate until the next tick.
            high_water=max(
                2 * settings.dispatch_batch,
                math.ceil(2 * settings.send_rate * settings.dispatch_every),
            ),
            owner=self.owner,
            lease=lease,
            retention=timedelta(days=settings.delivery_retention_days),
        )
        # A 429 pause is the token's, not the process's: it is stored, and a restart keeps it.
        self.limiter = (
            bot.rate_limiter if isinstance(bot.rate_limiter, PriorityRateLimiter) else None
        )
        if self.limiter is not None:
            self.limiter.on_pause = self._remember_pause
        self._saving: set[asyncio.Task[None]] = set()
        self.leader: Leadership = (
            SoleLeader(elected=self._elected, deposed=self.stop)
            if settings.is_sqlite
            else AdvisoryLeader(
                settings.database_url,
                elected=self._elected,
                deposed=self.stop,
                every=settings.leader_retry,
            )
        )

    @property
    def running(self) -> bool:
        """Return True while the sender's workers run."""
        return self.sender.running

    @property
    def leading(self) -> bool:
        """Return True while this process is the delivery leader (the only one that sends)."""
        return self.leader.leading

    async def lead(self, bot_id: int) -> None:
        """Deliver as the leader now (SQLite), or once this process wins the lock (PostgreSQL)."""
        await self.leader.start(bot_id)

    async def stop_leading(self) -> None:
        """Stop sending and give the leadership up (idempotent)."""
        await self.leader.stop()  # the sender first, then the lock: no overlap with the next
        await self.stop()  # a sender started without the leadership (tests) stops too

    async def _elected(self) -> None:
        # The leader before this one is gone (or it is the only process): its open rows are ours.
        await self.start(everything=True)

    async def start(self, *, everything: bool | None = None) -> None:
        """Recover rows a previous run left open, then start sending (after the migrations).

        By default, on SQLite this process is the only one, so every open row is taken over at
        once; on PostgreSQL only rows whose lease ran out, so live workers keep theirs. A new
        delivery leader passes `everything=True`: no other process sends.
        """
        if self.running:
            return
        await self._restore_pause()
        if everything is None:
            everything = self.settings.is_sqlite
        await self.dispatcher.recover(everything=everything)
        await self.sender.start()

    async def stop(self) -> None:
        """Stop sending; open rows stay in the database for the next start."""
        await self.sender.stop()
        if self._saving:
            await asyncio.gather(*self._saving, return_exceptions=True)

    def _remember_pause(self, seconds: float) -> None:
        """Store when the pause Telegram just ordered ends (called by the rate limiter)."""
        until = self.clock() + timedelta(seconds=seconds)
        task = asyncio.get_running_loop().create_task(self._store_pause(until))
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def _store_pause(self, until: datetime) -> None:
        try:
            async with self.sessions() as session, session.begin():
                repo = StateRepo(session)
                stored = await repo.get(PAUSE_KEY)
                if stored is None or datetime.fromisoformat(stored) < until:
                    await repo.put(PAUSE_KEY, until.isoformat(), self.clock())
        except Exception:  # only a restart inside the pause would notice
            log.exception("Could not store the 429 pause")

    async def _restore_pause(self) -> None:
        """Hold every send until a stored 429 pause is over (a restart inside one)."""
        if self.limiter is None:
            return
        async with self.sessions() as session:
            stored = await StateRepo(session).get(PAUSE_KEY)
        if stored is None:
            return
        left = (datetime.fromisoformat(stored) - self.clock()).total_seconds()
        if left > 0:
            log.warning("Telegram's 429 pause is still on: sending resumes in %.0f s", left)
            self.limiter.pause(left)

    async def tick(self) -> TickReport:
        """Run one dispatcher pass now (the repeating job calls this)."""
        return await self.dispatcher.tick()

    async def drain(self) -> None:
        """Wait until every queued delivery has an outcome."""
        await self.sender.drain()

    # -- for /admin -----------------------------------------------------------------------------

    @property
    def last_tick(self) -> datetime | None:
        """Return the time of the last dispatcher pass (None before the first)."""
        return self.dispatcher.last_tick

    @property
    def queue_length(self) -> int:
        """Return how many deliveries wait for (or are in) a send in this process."""
        return self.sender.pending

    async def counts_today(self) -> dict[str, int]:
        """Return today's (UTC) deliveries by status: {"sent": 120, "expired": 2, ...}."""
        start = utc_midnight(self.clock())
        async with self.sessions() as session:
            return await DeliveryRepo(session).counts_between(start, start + timedelta(days=1))
