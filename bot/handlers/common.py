"""Small helpers every feature uses: the message to answer, the user row, menu buttons."""

from __future__ import annotations

from typing import cast

from telegram import CallbackQuery, Message, Update

from bot.context import BotContext
from bot.db.models import User
from bot.db.repositories import UserRepo

MENU = "menu:"  # + feature name; the /start buttons


def message_of(update: Update) -> Message:
    """Return the message to answer (a command's message, or the one a button sits on)."""
    return cast(Message, update.effective_message)


async def answer_query(update: Update) -> CallbackQuery:
    """Answer a button press at once (stops the client's spinner) and return the query."""
    query = cast(CallbackQuery, update.callback_query)
    await query.answer()
    return query


async def remember_user(update: Update, context: BotContext) -> tuple[User, bool]:
    """Create or refresh the user who sent this update; return (user, created). Commits."""
    tg_user = update.effective_user
    chat = update.effective_chat
    if tg_user is None or chat is None:  # commands and buttons always have both
        raise ValueError("update without a user or a chat")
    async with context.db() as session, session.begin():
        user, created = await UserRepo(session).upsert(
            tg_user.id, chat.id, tg_user.first_name, tg_user.language_code, context.now()
        )
        if user.blocked_at is not None:
            user.blocked_at = None  # they wrote to us, so they have unblocked the bot
    return user, created


def health_footer(context: BotContext, source: str) -> str:
    """Return the closing lines of every health answer: its source, then ask a professional."""
    texts = context.content.texts
    return texts.get("common.source", source=source) + "\n" + texts.raw("common.disclaimer")
