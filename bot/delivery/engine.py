"""Wiring: the one repeating dispatcher job, the sender, start-up recovery and shutdown.

`register(app)` (called by `build_application`) builds the `DeliveryEngine`, stores it in
`deps.extras["engine"]`, adds the ONE repeating JobQueue job, and hooks start and stop into
the application's life cycle. Handlers reach the engine for /admin through
`engine_of(context.deps)`.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any, cast

from telegram.ext import ExtBot

from bot.context import BotApp, BotContext, Deps, deps_of
from bot.db.delivery_repo import DeliveryRepo
from bot.delivery.dispatcher import RECOVERY_LEASE, Dispatcher, TickReport, utc_midnight
from bot.delivery.sender import Sender

log = logging.getLogger(__name__)

JOB_NAME = "dispatcher"
EXTRAS_KEY = "engine"
FIRST_TICK = 1.0  # seconds after the application starts


class DeliveryEngine:
    """The dispatcher and the sender of one process, and what /admin shows of them."""

    def __init__(
        self,
        bot: ExtBot[Any],
        deps: Deps,
        *,
        rng: random.Random | None = None,
        lease: timedelta = RECOVERY_LEASE,
    ) -> None:
        """Build the sender and the dispatcher from the shared dependencies."""
        settings = deps.settings
        self.deps = deps
        self.sender = Sender(
            bot,
            deps.sessions,
            deps.content,
            deps.clock,
            workers=settings.sender_workers,
            rng=rng or deps.extras.get("rng"),  # tests seed one rng for /tip and the daily tip
        )
        self.dispatcher = Dispatcher(
            deps.sessions,
            deps.clock,
            self.sender,
            batch=settings.dispatch_batch,
            lease=lease,
        )

    @property
    def running(self) -> bool:
        """Return True while the sender's workers run."""
        return self.sender.running

    async def start(self) -> None:
        """Recover rows a previous run left open, then start sending (after the migrations).

        On SQLite this process is the only one, so every open row is taken over at once; on
        PostgreSQL only rows whose lease ran out, so live workers keep theirs.
        """
        if self.running:
            return
        await self.dispatcher.recover(everything=self.deps.settings.is_sqlite)
        await self.sender.start()

    async def stop(self) -> None:
        """Stop sending; open rows stay in the database for the next start."""
        await self.sender.stop()

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
        start = utc_midnight(self.deps.clock())
        async with self.deps.sessions() as session:
            return await DeliveryRepo(session).counts_between(start, start + timedelta(days=1))


def engine_of(deps: Deps) -> DeliveryEngine:
    """Return the engine `register` stored in the dependencies."""
    return cast(DeliveryEngine, deps.extras[EXTRAS_KEY])


async def dispatch_due_job(context: BotContext) -> None:
    """Claim due tips, reminders and snoozes, then queue them for the sender."""
    try:
        await engine_of(context.deps).tick()
    except Exception:  # a failed tick only delays sends: the next one runs in a few seconds
        log.exception("Dispatcher tick failed")


async def start_engine(app: BotApp) -> None:
    """Start-up hook: recover open rows and start the sender."""
    await engine_of(deps_of(app)).start()


async def stop_engine(app: BotApp) -> None:
    """Stop hook: stop the sender (idempotent)."""
    engine = deps_of(app).extras.get(EXTRAS_KEY)
    if isinstance(engine, DeliveryEngine):
        await engine.stop()


def register(app: BotApp) -> DeliveryEngine:
    """Create the engine, add the one repeating dispatcher job, hook start and stop."""
    from bot import handlers  # here, not at import: handler modules import bot.delivery

    deps = deps_of(app)
    engine = DeliveryEngine(cast(ExtBot[Any], app.bot), deps)
    deps.extras[EXTRAS_KEY] = engine
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot must be installed with the job-queue extra")
    app.job_queue.run_repeating(
        dispatch_due_job,
        interval=deps.settings.dispatch_every,
        first=FIRST_TICK,
        name=JOB_NAME,
        # A late tick beats a skipped one: never drop a run, merge missed ones into one.
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    if start_engine not in handlers.STARTUP_HOOKS:
        handlers.STARTUP_HOOKS.append(start_engine)
    if stop_engine not in handlers.SHUTDOWN_HOOKS:
        handlers.SHUTDOWN_HOOKS.append(stop_engine)
    # Stop sending before PTB shuts the bot's HTTP client down (post_shutdown is too late).
    previous = app.post_stop

    async def post_stop(application: Any) -> None:
        await stop_engine(application)
        if previous is not None:
            await previous(application)

    app.post_stop = post_stop
    return engine
