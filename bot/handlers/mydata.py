"""/mydata: everything stored about the person, as a JSON file; /forget: delete all of it.

Both answer in private chats only: an export in a group would show it to everyone there, and
a delete button there could be pressed by someone else (it only ever deletes the presser's own
data, and only when they are the one who asked).
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import BotApp, BotContext
from bot.handlers.common import answer_query, message_of
from bot.handlers.pieces import plain
from bot.render import edit, reply, reply_document
from bot.services.mydata import DELIVERY_DAYS, export_json, export_user, forget_user

FORGET_YES = "forget:yes:"  # + the Telegram id of the person who asked
FORGET_NO = "forget:no"


def private(update: Update) -> bool:
    """Return True for a private chat."""
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


async def mydata_command(update: Update, context: BotContext) -> None:
    """Send everything stored about the user as a JSON document."""
    message = message_of(update)
    texts = context.content.texts
    if not private(update):
        await reply(message, texts.raw("mydata.private_only"))
        return
    user = context.user
    now = context.now()
    async with context.transaction() as session:
        data = await export_user(session, user.id, now)
    if data is None:  # the row was deleted between the two steps (a /forget elsewhere)
        await reply(message, texts.raw("mydata.nothing"))
        return
    when = now.strftime("%Y-%m-%d %H:%M")
    name = plain(texts.get("mydata.file_name", day=now.date().isoformat()))
    caption = texts.get("mydata.caption", when=when, days=DELIVERY_DAYS)
    await reply_document(message, export_json(data), name, caption)


async def forget_command(update: Update, context: BotContext) -> None:
    """Ask to confirm deleting everything, with a button only the asker can use."""
    message = message_of(update)
    texts = context.content.texts
    if not private(update) or update.effective_user is None:
        await reply(message, texts.raw("mydata.private_only"))
        return
    rows = [
        [
            (texts.raw("forget.button_yes"), f"{FORGET_YES}{update.effective_user.id}"),
            (texts.raw("forget.button_no"), FORGET_NO),
        ]
    ]
    await reply(message, texts.raw("forget.confirm"), rows)


async def on_forget_yes(update: Update, context: BotContext) -> None:
    """Delete every row of the user in every table, forget what waits in memory, say so."""
    query = await answer_query(update)
    texts = context.content.texts
    asker = int((query.data or "0").rsplit(":", 1)[-1])
    if query.from_user.id != asker:
        await edit(query, texts.raw("forget.not_yours"))
        return
    async with context.transaction() as session:
        deleted = await forget_user(session, asker)
    await edit(query, texts.get("forget.done", rows=sum(deleted.values())))


async def on_forget_no(update: Update, context: BotContext) -> None:
    """Keep everything."""
    query = await answer_query(update)
    await edit(query, context.content.texts.raw("forget.kept"))


def register(app: BotApp) -> None:
    """Register /mydata, /forget and the confirmation buttons."""
    app.add_handler(CommandHandler("mydata", mydata_command))
    app.add_handler(CommandHandler("forget", forget_command))
    app.add_handler(
        CallbackQueryHandler(on_forget_yes, pattern=rf"^{re.escape(FORGET_YES)}\d{{1,20}}$")
    )
    app.add_handler(CallbackQueryHandler(on_forget_no, pattern=rf"^{re.escape(FORGET_NO)}$"))
