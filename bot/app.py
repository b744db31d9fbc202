"""The application factory: production, tests and the console share this wiring."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot import delivery, handlers
from bot.config import Settings
from bot.content import Content, load_content
from bot.context import BotApp, BotContext, Clock, Deps, deps_of, utc_now
from bot.db.session import make_engine, make_sessions, upgrade_to_head
from bot.delivery.ratelimit import PriorityRateLimiter
from bot.render import NO_PREVIEW

log = logging.getLogger(__name__)

CONSOLE_TOKEN = "100000:console-token"  # the offline console's fake Bot API accepts any token


def token_of(settings: Settings) -> str:
    """Return the bot token (the only place the secret is read)."""
    if settings.telegram_bot_token is None:
        return CONSOLE_TOKEN
    return settings.telegram_bot_token.get_secret_value()


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    clock: Clock | None = None,
    content: Content | None = None,
) -> BotApp:
    """Wire the bot. Tests and console mode inject `request` and `clock`."""
    content = content or load_content()
    builder: Any = (
        ApplicationBuilder()
        .token(token_of(settings))
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW, block=True))
        .context_types(ContextTypes(context=BotContext))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .rate_limiter(PriorityRateLimiter(settings.send_rate))
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app: BotApp = builder.build()
    engine = make_engine(settings.database_url)
    app.bot_data["deps"] = Deps(
        settings=settings,
        content=content,
        engine=engine,
        sessions=make_sessions(engine),
        clock=clock or utc_now,
    )
    handlers.register_all(app)
    delivery.register(app)  # the one dispatcher job, the sender, start-up recovery
    return app


def menu_commands(content: Content) -> list[BotCommand]:
    """Return the command menu: the same list /help shows."""
    return [BotCommand(c.name, c.description) for c in content.commands if c.menu and not c.admin]


async def on_startup(app: BotApp) -> None:
    """Bring the schema to head (SQLite), publish the command menu, start background work."""
    deps = deps_of(app)
    if deps.settings.is_sqlite:
        await upgrade_to_head(deps.settings.database_url)
    await app.bot.set_my_commands(menu_commands(deps.content))
    for hook in handlers.STARTUP_HOOKS:
        await hook(app)
    log.info("Bot @%s is ready", app.bot.username)


async def on_shutdown(app: BotApp) -> None:
    """Stop background work and close the database."""
    for hook in handlers.SHUTDOWN_HOOKS:
        await hook(app)
    await deps_of(app).engine.dispose()
