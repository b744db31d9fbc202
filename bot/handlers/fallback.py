"""Catch-alls: unknown commands and free text. Registered last."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.context import BotApp, BotContext
from bot.handlers.common import message_of
from bot.render import reply

# A feature that may take free text (e.g. a food name) returns True when it answered. Their
# order is declared in `bot/handlers/__init__.py` (TEXT_ANSWERS).
TextAnswer = Callable[[Update, BotContext, str], Awaitable[bool]]


async def unknown_command(update: Update, context: BotContext) -> None:
    """Say the command is unknown and point to /help (in groups: only when addressed to us)."""
    message = message_of(update)
    text = message.text or message.caption or ""
    name, _, addressee = (text.split()[0] if text.split() else "/").partition("@")
    if message.chat.type != ChatType.PRIVATE and addressee.lower() != (
        (context.bot.username or "").lower()
    ):
        return  # another bot's command, or a command in a group that was not meant for us
    await reply(message, context.content.texts.get("fallback.unknown_command", command=name[:64]))


async def free_text(
    update: Update, context: BotContext, answers: Sequence[TextAnswer] = ()
) -> None:
    """Offer free text to the features in order (a food name is looked up), else point to /help."""
    message = message_of(update)
    text = (message.text or "").strip()
    if text:
        for answer in answers:
            if await answer(update, context, text):
                return
    await reply(message, context.content.texts.raw("fallback.text"))


async def on_unknown_button(update: Update, context: BotContext) -> None:
    """Answer a press on a button no feature knows (an old message): stops the spinner."""
    if update.callback_query is not None:
        await update.callback_query.answer()


def register(app: BotApp, answers: Sequence[TextAnswer]) -> None:
    """Register the catch-alls (must be last); free text is offered to `answers` in order."""
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    # Free text is answered in private chats only: in a group, chatter is not for the bot.
    private = filters.ChatType.PRIVATE
    text = partial(free_text, answers=tuple(answers))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, text))
    app.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, text))
    app.add_handler(CallbackQueryHandler(on_unknown_button))
