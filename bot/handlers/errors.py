"""The error handler: log first, then tell the user in plain words."""

from __future__ import annotations

import logging

from telegram import Update

from bot.context import BotContext
from bot.render import reply

log = logging.getLogger(__name__)


async def error_handler(update: object, context: BotContext) -> None:
    """Log the traceback, then answer the user without technical detail."""
    # Log first: the reply below can fail too. Only the update id: messages hold health data.
    log.error(
        "Error while handling update %s",
        getattr(update, "update_id", None),
        exc_info=context.error,
    )
    if not isinstance(update, Update):
        return  # a job's error: nothing to answer, no update scope
    context.scope.failed = True  # what the update changed before it failed is rolled back
    if update.effective_message is None:
        return
    try:
        await reply(update.effective_message, context.content.texts.raw("errors.generic"))
    except Exception:  # the chat may be unreachable; the cause is already logged
        log.warning("Could not tell the user about the error", exc_info=True)
