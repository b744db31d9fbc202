"""/start and /help: the welcome, the command list, the main-menu buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotApp, BotContext
from bot.handlers.common import message_of
from bot.render import reply

START_BUTTONS = (
    (("start.button_foods", "menu:foods"), ("start.button_symptoms", "menu:symptoms")),
    (("start.button_supplements", "menu:supplements"), ("start.button_fact", "menu:fact")),
    (("start.button_tips", "menu:subscribe"), ("start.button_reminders", "menu:reminders")),
)


async def start_command(update: Update, context: BotContext) -> None:
    """Greet the user, store them, and offer the main features as buttons."""
    user = context.user
    texts = context.content.texts
    rows = [[(texts.raw(label), data) for label, data in row] for row in START_BUTTONS]
    await reply(
        message_of(update), texts.get("start.welcome", name=user.first_name or "there"), rows
    )


async def help_command(update: Update, context: BotContext) -> None:
    """List every command with one line each."""
    texts = context.content.texts
    is_admin = update.effective_user is not None and (
        update.effective_user.id in context.deps.settings.admin_ids
    )
    lines = [texts.raw("help.header")]
    for command in context.content.commands:
        if command.admin and not is_admin:
            continue
        lines.append(texts.get("help.line", name=command.name, description=command.description))
    lines.append(texts.raw("help.footer"))
    await reply(message_of(update), "\n".join(lines))


def register(app: BotApp) -> None:
    """Register /start and /help."""
    app.add_handler(CommandHandler("start", start_command))
    app.add_handler(CommandHandler("help", help_command))
