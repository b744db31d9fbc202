"""/stock: count a reminder's tablets; Taken counts them down, a reminder warns when they run low.

`/stock 60` (or `/stock 60 2` for two a dose, `/stock off`) sets the count of the only
reminder, or asks with buttons which reminder it is for. A reminder's ✏️ panel has a Stock
button too (a typed answer, in `bot/handlers/reminders.py`).
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.content import Texts
from bot.context import BotApp, BotContext
from bot.db.models import Reminder
from bot.delivery.messages import ROW_ID
from bot.domain.rule_input import MAX_PER_DOSE, MAX_STOCK, StockInput, parse_stock
from bot.domain.rules import stock_of
from bot.handlers.common import answer_query, message_of
from bot.handlers.reminders import LIST, label_of, stock_text
from bot.render import Rows, edit, reply
from bot.services.schedules import count_stock, owned_reminder, reminders_of

CHOOSE = "stk:"  # + reminder id + ":" + count + ":" + tablets per dose, or + ":off"
CHOOSE_PATTERN = rf"^{CHOOSE}{ROW_ID}:(?:\d{{1,4}}:\d{{1,2}}|off)$"


def usage_text(texts: Texts, reminders: list[Reminder]) -> str:
    """Return how /stock works, and what each reminder has left."""
    lines = [texts.raw("stock.usage")]
    for reminder in reminders:
        label = label_of(texts, reminder)
        rule = reminder.rule
        stock = None if rule is None else stock_of(rule, reminder.stock, reminder.per_dose)
        if stock is None:
            lines.append(texts.get("stock.usage_line_off", label=label))
        elif stock.days_left is None:
            lines.append(texts.get("stock.usage_line_count", label=label, count=stock.count))
        else:
            lines.append(
                texts.get("stock.usage_line", label=label, count=stock.count, days=stock.days_left)
            )
    return "\n".join(lines)


def choice_data(reminder_id: int, stock: StockInput) -> str:
    """Return the callback data of "these tablets are for this reminder"."""
    if stock.count is None:
        return f"{CHOOSE}{reminder_id}:off"
    return f"{CHOOSE}{reminder_id}:{stock.count}:{stock.per_dose}"


def choice_rows(texts: Texts, reminders: list[Reminder], stock: StockInput) -> Rows:
    """Return one button per reminder, to say which one the count is for."""
    return [
        [
            (
                texts.get("stock.button_reminder", n=n, label=label_of(texts, reminder)[:40]),
                choice_data(reminder.id, stock),
            )
        ]
        for n, reminder in enumerate(reminders, start=1)
    ]


async def stock_command(update: Update, context: BotContext) -> None:
    """Set a reminder's tablet count: /stock 60, /stock 60 2, /stock off."""
    message = message_of(update)
    texts = context.content.texts
    user = context.user
    args = " ".join(context.args or []).strip()
    async with context.transaction() as session:
        reminders = await reminders_of(session, user.id)
    if not args:
        await reply(message, usage_text(texts, reminders))
        return
    stock = parse_stock(args)
    if stock is None:
        await reply(message, texts.get("stock.bad", value=args[:40]))
        return
    if not reminders:
        await reply(message, texts.raw("stock.no_reminders"))
        return
    if len(reminders) > 1:
        if stock.count is None:
            question = texts.raw("stock.which_off")
        else:
            question = texts.get("stock.which", count=stock.count)
        await reply(message, question, choice_rows(texts, reminders, stock))
        return
    async with context.transaction() as session:
        reminder = await owned_reminder(session, user.id, reminders[0].id)
        if reminder is None:  # deleted in the meantime
            answer = texts.raw("reminders.gone")
        else:
            count_stock(reminder, stock.count, stock.per_dose)
            answer = stock_text(texts, reminder)
    await reply(message, answer, [[(texts.raw("reminders.button_list"), LIST)]])


def parse_choice(data: str | None) -> tuple[int, StockInput] | None:
    """Read a choice button: (reminder id, the count); None for anything out of range."""
    match = re.match(rf"^{CHOOSE}(\d+):(?:(\d+):(\d+)|off)$", data or "")
    if match is None:
        return None
    if match[2] is None:
        return int(match[1]), StockInput(count=None)
    count, per_dose = int(match[2]), int(match[3])
    if not (count <= MAX_STOCK and 1 <= per_dose <= MAX_PER_DOSE):
        return None
    return int(match[1]), StockInput(count=count, per_dose=per_dose)


async def on_choice(update: Update, context: BotContext) -> None:
    """Give the count to the reminder chosen with a button."""
    query = await answer_query(update)
    texts = context.content.texts
    choice = parse_choice(query.data)
    async with context.transaction() as session:
        reminder = (
            None if choice is None else await owned_reminder(session, context.user.id, choice[0])
        )
        if reminder is None or choice is None:
            answer = texts.raw("reminders.gone")
        else:
            count_stock(reminder, choice[1].count, choice[1].per_dose)
            answer = stock_text(texts, reminder)
    await edit(query, answer, [[(texts.raw("reminders.button_list"), LIST)]])


def register(app: BotApp) -> None:
    """Register /stock and its buttons."""
    app.add_handler(CommandHandler("stock", stock_command))
    app.add_handler(CallbackQueryHandler(on_choice, pattern=CHOOSE_PATTERN))
