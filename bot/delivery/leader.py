"""One delivery leader per bot token: the only process that claims and sends scheduled messages.

Several workers may serve one token (webhook mode, behind a load balancer). Each runs its own
rate limiter, so if each also sent the scheduled tips and reminders the token would see two or
three times the cap and Telegram would answer 429. So exactly one of them, the leader, runs the
dispatcher and the sender; every worker answers the updates it is given.

* PostgreSQL (`AdvisoryLeader`): the leader holds `pg_try_advisory_lock(<bot id>)` on a
  connection of its own (`bot.db.locks.AdvisoryLock`). The others try again every `every`
  seconds. When the leader dies its session ends and the lock is free; when its connection
  breaks, its next check fails and it stops sending at once. A process that wins the lock
  waits one more interval before it sends (a leader that just lost its connection has noticed
  by then), then takes over every open row, since the leader before it is gone:
  a takeover takes at most about two intervals (10 s by default).
* SQLite (`SoleLeader`): exactly one process runs per database file (`SqliteFileLock`
  refuses a second one at start-up), so it leads from the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.db.locks import AdvisoryLock

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]

# A check of the lock (or a try for it) that takes longer than this counts as a lost connection.
MIN_CHECK_TIMEOUT = 2.0  # seconds; the timeout is the check interval when that is longer
# The server ends a lock session that stays quiet this long (PostgreSQL's idle_session_timeout):
# four check intervals, at least 20 s. By then a holder cut off from the server has seen a
# check time out and stopped sending, so the next leader never overlaps with it.
IDLE_INTERVALS = 4
MIN_IDLE_TIMEOUT = 20.0


class Leadership(Protocol):
    """Decides whether this process delivers scheduled messages."""

    @property
    def leading(self) -> bool:
        """Return True while this process is the delivery leader."""
        ...

    async def start(self, key: int) -> None:
        """Lead now, or begin trying to (`key`: the bot's id)."""
        ...

    async def stop(self) -> None:
        """Stop leading (and trying to); idempotent."""
        ...


class SoleLeader:
    """SQLite: the only process on its database file leads from start to stop."""

    def __init__(self, *, elected: Hook, deposed: Hook) -> None:
        """Call `elected` at start and `deposed` at stop."""
        self._elected = elected
        self._deposed = deposed
        self.leading = False

    async def start(self, key: int) -> None:
        """Lead at once."""
        if not self.leading:
            await self._elected()
            self.leading = True

    async def stop(self) -> None:
        """Stop leading."""
        if self.leading:
            self.leading = False
            await self._deposed()


class AdvisoryLeader:
    """PostgreSQL: lead while holding the token's advisory lock; otherwise keep trying."""

    def __init__(
        self,
        database_url: str,
        *,
        elected: Hook,
        deposed: Hook,
        every: float,
    ) -> None:
        """Try for the lock (and check it, once held) every `every` seconds."""
        self.database_url = database_url
        self._elected = elected
        self._deposed = deposed
        self.every = every
        self.timeout = max(MIN_CHECK_TIMEOUT, every)
        self.leading = False
        self.lock: AdvisoryLock | None = None
        self._task: asyncio.Task[None] | None = None
        self._unreachable = False  # logged once per outage, not at every try

    async def start(self, key: int) -> None:
        """Start trying for the lock in the background."""
        if self._task is not None:
            return
        idle = max(MIN_IDLE_TIMEOUT, IDLE_INTERVALS * self.every)
        self.lock = AdvisoryLock(self.database_url, key, idle_timeout=idle)
        self._task = asyncio.create_task(self._run(), name="delivery-leader")

    async def stop(self) -> None:
        """Stop sending (sends under way finish), then release the lock for the next leader."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._step_down()
        if self.lock is not None:
            await self.lock.dispose()  # after the sender stopped: no overlap with the next
            self.lock = None

    async def _run(self) -> None:
        assert self.lock is not None
        lock = self.lock
        while True:
            try:
                if self.leading:
                    await asyncio.wait_for(lock.check(), timeout=self.timeout)
                elif await asyncio.wait_for(lock.try_acquire(), timeout=self.timeout):
                    await self._take_over(lock)
                if self._unreachable:
                    log.info("The database answers again")
                    self._unreachable = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._lost(lock, exc)
            await asyncio.sleep(self.every)

    async def _take_over(self, lock: AdvisoryLock) -> None:
        log.info("Won the delivery lock; sending scheduled messages in %.0f s", self.every)
        # A leader whose connection just broke may still be sending: it checks once an
        # interval and stops at the first failed check. Wait that long before sending.
        await asyncio.sleep(self.every)
        await asyncio.wait_for(lock.check(), timeout=self.timeout)
        try:
            await self._elected()  # recovery, then the sender; only then does the job tick
        except BaseException:
            with contextlib.suppress(Exception):
                await self._deposed()
            raise
        self.leading = True
        log.info("This process is the delivery leader")

    async def _lost(self, lock: AdvisoryLock, exc: Exception) -> None:
        if self.leading:
            log.warning(
                "Lost the delivery lock (%s): this process stops sending scheduled messages",
                type(exc).__name__,
            )
        elif not self._unreachable:
            log.warning("Cannot reach the database for the delivery lock: %s", type(exc).__name__)
            self._unreachable = True
        await self._step_down()
        await lock.drop()  # a fresh connection at the next try

    async def _step_down(self) -> None:
        if not self.leading:
            return
        self.leading = False
        try:
            await self._deposed()
        except Exception:
            log.exception("Stopping the sender after losing the delivery lock failed")
