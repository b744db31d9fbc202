"""Every feature, registered in order, and every order the features depend on, declared here.

Order matters: in one handler group the first matching handler wins, so catch-alls come last.
"""

from __future__ import annotations

from functools import partial

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.context import BotApp, BotContext
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
    stock,
    subscriptions,
    timezone,
    week,
)
from bot.handlers.timezone import FollowUp
from bot.services.users import remember

# What finishes a request that had to wait for the user's zone, by its action.
AFTER_ZONE: dict[str, FollowUp] = {
    subscriptions.ACTION: subscriptions.finish_after_zone,
    reminders.ACTION: reminders.finish_after_zone,
    diary.ACTION: diary.finish_after_zone,
}

# Who may take a plain text message, first come first served: an answer to a question the bot
# asked (a reminder's new times, days, label, course or tablets; a zone) before a food name;
# nobody: "try /help".
TEXT_ANSWERS: tuple[fallback.TextAnswer, ...] = (
    reminders.change_from_text,
    partial(timezone.zone_from_text, after_zone=AFTER_ZONE),
    foods.food_from_text,
)

# Handler groups: lower runs first, and in each group only the first matching handler runs.
GROUP_DROP = -100  # updates from no person
GROUP_USER = -50  # store or refresh the user, once per update


async def ignore_without_user(update: object, context: BotContext) -> None:
    """Stop updates that come from no person (channel posts, ...): nobody to answer."""
    if not isinstance(update, Update) or update.effective_user is None:
        raise ApplicationHandlerStop


async def load_user(update: Update, context: BotContext) -> None:
    """Store or refresh the sender in the update's session; features read `context.user`."""
    tg_user, chat = update.effective_user, update.effective_chat
    if tg_user is None or chat is None:
        return
    context.scope.user = await remember(
        context.session,
        tg_user.id,
        chat.id,
        tg_user.first_name,
        tg_user.language_code,
        context.now(),
    )


def register_all(app: BotApp) -> None:
    """Register every feature in this order, then the catch-alls and the error handler."""
    app.add_handler(TypeHandler(object, ignore_without_user), group=GROUP_DROP)
    app.add_handler(TypeHandler(Update, load_user), group=GROUP_USER)
    start.register(app)
    foods.register(app)
    knowledge.register(app)
    intake.register(app)
    profile.register(app)
    timezone.register(app, AFTER_ZONE)
    subscriptions.register(app)
    reminders.register(app)
    diary.register(app)
    week.register(app)
    mydata.register(app)
    stock.register(app)
    stats.register(app)
    settings.register(app)
    admin.register(app)
    fallback.register(app, TEXT_ANSWERS)  # last: unknown commands, free text, old buttons
    app.add_error_handler(errors.error_handler)
