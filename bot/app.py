"""The application factory and the life cycle: production, tests and the console share both.

PTB runs the hooks in this order under `run_polling`; `started(app)` below runs the same hooks
in the same order where nothing polls (the offline console, and webhook mode in bot/webhook.py):

    initialize -> post_init (SQLite: one process per file and the schema; command menu;
                  delivery: lead at once on SQLite, or try for the leader's lock) -> start
    ... updates, and the dispatcher job (it ticks only in the delivery leader) ...
    stop -> post_stop (stop sending while the bot can still send; give the lock up) -> shutdown
    -> post_shutdown (the database engine is disposed, the SQLite lock file released)
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from telegram import BotCommand
from telegram.constants import ParseMode, UpdateType
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, ExtBot
from telegram.request import BaseRequest

from bot import handlers
from bot.charts import ChartRenderer
from bot.config import PAID_MAX_PER_SECOND, Settings
from bot.content import Content, load_content
from bot.context import BotApp, BotApplication, BotContext, Clock, Deps, deps_of, utc_now
from bot.db.locks import SqliteFileLock
from bot.db.session import make_engine, make_sessions, upgrade_to_head
from bot.delivery.courier import Courier
from bot.delivery.ratelimit import TELEGRAM_MAX_PER_SECOND, PriorityRateLimiter
from bot.delivery.sender import workers_for
from bot.domain.timezones import Places
from bot.http import ShardedRequest
from bot.render import NO_PREVIEW

log = logging.getLogger(__name__)

CONSOLE_TOKEN = "100000:console-token"  # the offline console's fake Bot API accepts any token
DISPATCH_JOB = "dispatcher"
FIRST_TICK = 1.0  # seconds after the application starts
UPDATE_QUEUE_SIZE = 256  # updates fetched but not yet handled, at most
REPLY_CONNECTIONS = 32  # HTTP connections kept beside the scheduled sends' own
# The updates the handlers use (polling and setWebhook ask Telegram for these only).
ALLOWED_UPDATES = [UpdateType.MESSAGE, UpdateType.CALLBACK_QUERY]


def token_of(settings: Settings) -> str:
    """Return the bot token (the only place the secret is read)."""
    if settings.telegram_bot_token is None:
        return CONSOLE_TOKEN
    return settings.telegram_bot_token.get_secret_value()


def max_per_second(settings: Settings) -> int:
    """Return the most messages this process may send in any second.

    Telegram's 30, or with PAID_BROADCAST the SEND_RATE asked for (at most 1000). With several
    workers (PostgreSQL) the replies of the others reach the token too, unseen by this
    process's limiter: one message a second is left for them.
    """
    cap = TELEGRAM_MAX_PER_SECOND
    if settings.paid_broadcast:
        cap = min(PAID_MAX_PER_SECOND, max(cap, math.ceil(settings.send_rate)))
    return cap if settings.is_sqlite else cap - 1


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    clock: Clock | None = None,
    content: Content | None = None,
    rng: random.Random | None = None,
) -> BotApp:
    """Wire the bot. Tests and console mode inject `request`, `clock` and `rng`."""
    content = content or load_content()
    builder: Any = (
        ApplicationBuilder()
        .application_class(BotApplication)
        .token(token_of(settings))
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW, block=True))
        .context_types(ContextTypes(context=BotContext))
        .post_init(on_init)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
        .rate_limiter(
            PriorityRateLimiter(settings.send_rate, max_per_second=max_per_second(settings))
        )
        # Bounded: when updates come faster than they are handled, polling (or the webhook)
        # waits instead of holding every one in memory; Telegram keeps the rest until the
        # offset confirms them, so a crash does not lose them either.
        .update_queue(asyncio.Queue(maxsize=UPDATE_QUEUE_SIZE))
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        # One connection for every send that may be under way, and some for the replies.
        sends = workers_for(settings.send_rate, settings.sender_workers)
        builder = builder.request(ShardedRequest(sends + REPLY_CONNECTIONS))
    app: BotApp = builder.build()
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    clock = clock or utc_now
    rng = rng or random.Random()
    app.bot_data["deps"] = Deps(
        settings=settings,
        content=content,
        engine=engine,
        sessions=sessions,
        clock=clock,
        rng=rng,
        delivery=Courier(cast(ExtBot[Any], app.bot), sessions, content, clock, settings, rng),
        places=Places(content.cities),
        file_lock=SqliteFileLock(settings.database_url),
        charts=ChartRenderer(settings.chart_workers),
    )
    handlers.register_all(app)
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot must be installed with the job-queue extra")
    # The one repeating job that claims due tips and reminders: never a job per item.
    app.job_queue.run_repeating(
        dispatch_due,
        interval=settings.dispatch_every,
        first=FIRST_TICK,
        name=DISPATCH_JOB,
        # A late tick beats a skipped one: never drop a run, merge missed ones into one.
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    return app


def menu_commands(content: Content) -> list[BotCommand]:
    """Return the command menu: the same list /help shows."""
    return [BotCommand(c.name, c.description) for c in content.commands if c.menu and not c.admin]


async def dispatch_due(context: BotContext) -> None:
    """Claim due tips, reminders and snoozes, then queue them for the sender (the leader only)."""
    if not context.deps.delivery.leading:
        return  # another worker delivers; this one only answers updates
    try:
        await context.deps.delivery.tick()
    except Exception:  # a failed tick only delays sends: the next one runs in a few seconds
        log.exception("Dispatcher tick failed")


async def on_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Refuse a second process on a SQLite file and bring its schema to head, publish the
    command menu, then deliver (SQLite) or start trying to become the delivery leader.

    Raises:
        DatabaseInUse: Another bot process runs on the same SQLite database file.
    """
    deps = deps_of(app)
    if deps.settings.is_sqlite:
        deps.file_lock.acquire()  # before the migrations: they must not run twice at once
        await upgrade_to_head(deps.settings.database_url)
    await app.bot.set_my_commands(menu_commands(deps.content))
    await deps.delivery.lead(app.bot.id)  # the lock is keyed by the bot: one leader per token
    log.info("Bot @%s is ready", app.bot.username)


async def on_stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop delivering while the bot's HTTP client is still open; open rows stay for later."""
    await deps_of(app).delivery.stop_leading()


async def on_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Close the database (after PTB has shut the bot down), then let the SQLite file go."""
    deps = deps_of(app)
    await deps.delivery.stop_leading()  # already done unless start-up failed half-way
    await deps.charts.close()  # the chart worker processes
    await deps.engine.dispose()
    deps.file_lock.release()


@asynccontextmanager
async def started(app: BotApp) -> AsyncIterator[BotApp]:
    """Run the application without polling, with the hooks in PTB's own order."""
    try:
        async with app:  # initialize ... shutdown
            await on_init(app)
            await app.start()
            try:
                yield app
            finally:
                await app.stop()
                await on_stop(app)
    finally:
        await on_shutdown(app)
