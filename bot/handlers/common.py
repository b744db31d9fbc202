"""Small helpers every feature uses: the message to answer, button presses, menu buttons."""

from __future__ import annotations

from typing import cast

from telegram import CallbackQuery, Message, Update

from bot.context import BotContext

MENU = "menu:"  # + feature name; the /start buttons


def message_of(update: Update) -> Message:
    """Return the message to answer (a command's message, or the one a button sits on)."""
    return cast(Message, update.effective_message)


async def answer_query(update: Update) -> CallbackQuery:
    """Answer a button press at once (stops the client's spinner) and return the query."""
    query = cast(CallbackQuery, update.callback_query)
    await query.answer()
    return query


def health_footer(context: BotContext, source: str) -> str:
    """Return the closing lines of every health answer: its source, then ask a professional."""
    texts = context.content.texts
    return texts.get("common.source", source=source) + "\n" + texts.raw("common.disclaimer")
