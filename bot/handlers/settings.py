"""/settings: time zone, daily tip and reminders in one place, with buttons to change them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotApp, BotContext
from bot.domain.timeparse import local_clock
from bot.domain.timezones import zone_named
from bot.handlers import reminders, subscriptions, timezone
from bot.handlers.common import message_of
from bot.render import reply
from bot.services.display import local_when
from bot.services.schedules import reminders_of, subscription_of


async def settings_command(update: Update, context: BotContext) -> None:
    """Show the user's zone, tip time and status, and reminders, with buttons."""
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
    rows = [
        [(texts.raw("settings.button_zone"), timezone.MENU)],
        [(texts.raw("settings.button_tip"), subscriptions.MENU_SUBSCRIBE)],
        [(texts.raw("settings.button_reminders"), reminders.MENU_REMINDERS)],
    ]
    await reply(message_of(update), "\n".join(lines), rows)


def register(app: BotApp) -> None:
    """Register /settings."""
    app.add_handler(CommandHandler("settings", settings_command))
