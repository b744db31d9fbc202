"""Every feature, registered in order. Order matters: first match wins, catch-alls last."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.handlers import (
    admin,
    diary,
    errors,
    fallback,
    foods,
    intake,
    knowledge,
    mydata,
    profile,
    reminders,
    settings,
    start,
    stats,
    subscriptions,
    timezone,
    week,
)

Hook = Callable[[Any], Awaitable[None]]

# Each feature module exports register(app). The fallback (unknown commands, free text) is last.
FEATURES = (
    start,
    foods,
    knowledge,
    intake,
    profile,
    timezone,
    subscriptions,
    reminders,
    diary,
    week,
    mydata,
    stats,
    settings,
    admin,
    fallback,
)

# Background work started after the schema is ready, stopped before the engine closes.
STARTUP_HOOKS: list[Hook] = []
SHUTDOWN_HOOKS: list[Hook] = []


async def ignore_without_user(update: object, context: Any) -> None:
    """Stop updates that come from no person (channel posts, ...): nobody to answer."""
    if not isinstance(update, Update) or update.effective_user is None:
        raise ApplicationHandlerStop


def register_all(app: Any) -> None:
    """Register every feature in order, then the error handler."""
    # Its own group, ahead of all others: in one group only the first matching handler runs.
    app.add_handler(TypeHandler(object, ignore_without_user), group=-100)
    for feature in FEATURES:
        feature.register(app)
    app.add_error_handler(errors.error_handler)
