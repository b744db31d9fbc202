"""/settings: time zone, daily tip, reminders and their privacy in one place, with buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import BotApp, BotContext
from bot.domain.timeparse import local_clock
from bot.domain.timezones import zone_named
from bot.handlers import reminders, subscriptions, timezone
from bot.handlers.common import answer_query, message_of
from bot.render import Rows, edit, reply
from bot.services.display import local_when
from bot.services.schedules import reminders_of, subscription_of
from bot.services.users import hide_labels

HIDE_LABELS = "set:labels:hide"  # reminder notifications without their label
SHOW_LABELS = "set:labels:show"


async def settings_view(context: BotContext, hidden: bool, note: str = "") -> tuple[str, Rows]:
    """Return the settings panel; `hidden` is the user's label privacy setting."""
    user = context.user
    texts = context.content.texts
    now = context.now()
    async with context.transaction() as session:
        subscription = await subscription_of(session, user.id)
        items = await reminders_of(session, user.id)
    zone = zone_named(user.time_zone)
    lines = [texts.raw("settings.header")]
    if zone is None:
        lines.append(texts.raw("settings.zone_none"))
    else:
        lines.append(
            texts.get(
                "settings.zone",
                zone=zone.key,
                offset=timezone.offset_text(zone, now),
                time=local_clock(now, zone),
            )
        )
    if (
        subscription is not None
        and subscription.active
        and subscription.next_due_utc is not None
        and zone is not None
    ):
        lines.append(
            texts.get(
                "settings.tip_on",
                time=subscription.local_time,
                next=local_when(texts, subscription.next_due_utc, zone),
            )
        )
    else:
        lines.append(texts.raw("settings.tip_off"))
    if items:
        active = sum(1 for item in items if item.active)
        lines.append(
            texts.get(
                "settings.reminders", count=len(items), active=active, paused=len(items) - active
            )
        )
    else:
        lines.append(texts.raw("settings.reminders_none"))
    lines.append(texts.raw("settings.labels_hidden" if hidden else "settings.labels_shown"))
    if hidden:
        privacy = (texts.raw("settings.button_show_labels"), SHOW_LABELS)
    else:
        privacy = (texts.raw("settings.button_hide_labels"), HIDE_LABELS)
    rows = [
        [(texts.raw("settings.button_zone"), timezone.MENU)],
        [(texts.raw("settings.button_tip"), subscriptions.MENU_SUBSCRIBE)],
        [(texts.raw("settings.button_reminders"), reminders.MENU_REMINDERS)],
        [privacy],
    ]
    text = "\n".join(lines)
    return (f"{note}\n\n{text}" if note else text), rows


async def settings_command(update: Update, context: BotContext) -> None:
    """Show the user's zone, tip time and status, reminders and their privacy, with buttons."""
    text, rows = await settings_view(context, context.user.hide_labels)
    await reply(message_of(update), text, rows)


async def on_labels(update: Update, context: BotContext) -> None:
    """Hide or show reminder labels in notifications, then show the settings again."""
    query = await answer_query(update)
    hidden = query.data == HIDE_LABELS
    async with context.transaction() as session:
        await hide_labels(session, context.user.id, hidden)
    texts = context.content.texts
    note = texts.raw("settings.labels_now_hidden" if hidden else "settings.labels_now_shown")
    text, rows = await settings_view(context, hidden, note)
    await edit(query, text, rows)


def register(app: BotApp) -> None:
    """Register /settings and its privacy button."""
    app.add_handler(CommandHandler("settings", settings_command))
    app.add_handler(CallbackQueryHandler(on_labels, pattern=rf"^(?:{HIDE_LABELS}|{SHOW_LABELS})$"))
