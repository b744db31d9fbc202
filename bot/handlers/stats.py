"""/stats: how regularly the user took each supplement (7 and 30 days, current streak)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import CommandHandler

from bot.content import Texts
from bot.context import BotApp, BotContext
from bot.domain.adherence import Window
from bot.domain.timezones import zone_named
from bot.handlers.common import message_of
from bot.render import reply
from bot.services.display import times_words
from bot.services.schedules import ReminderStats, reminder_stats


def window_line(texts: Texts, window: Window) -> str:
    """Return one adherence line ("Last 7 days: 5 of 6 days (83%)")."""
    if window.percent is None:
        return texts.get("stats.window_empty", days=window.days)
    return texts.get(
        "stats.window",
        days=window.days,
        taken=window.taken,
        due=window.due,
        percent=window.percent,
    )


def streak_line(texts: Texts, streak: int) -> str:
    """Return the streak line, worded for 0, 1 or more days."""
    if streak == 0:
        return texts.raw("stats.streak_zero")
    if streak == 1:
        return texts.raw("stats.streak_one")
    return texts.get("stats.streak_many", days=streak)


def reminder_block(texts: Texts, item: ReminderStats) -> str:
    """Return the lines for one reminder."""
    reminder, adherence = item.reminder, item.adherence
    label = reminder.label or texts.raw("reminders.default_label")
    rule = reminder.rule
    times = reminder.local_time if rule is None else times_words(texts, rule)
    if reminder.active:
        lines = [texts.get("stats.reminder", time=times, label=label)]
    else:
        lines = [texts.get("stats.reminder_paused", time=times, label=label)]
    if adherence.month.due == 0:
        lines.append(texts.raw("stats.no_data_yet"))
    else:
        lines.append(window_line(texts, adherence.week))
        lines.append(window_line(texts, adherence.month))
        lines.append(streak_line(texts, adherence.streak))
    if adherence.today_pending:
        lines.append(texts.raw("stats.today_pending"))
    return "\n".join(lines)


async def stats_command(update: Update, context: BotContext) -> None:
    """Show 7- and 30-day adherence and the current streak, per reminder."""
    user = context.user
    texts = context.content.texts
    zone = zone_named(user.time_zone) or ZoneInfo("UTC")
    today = context.now().astimezone(zone).date()
    async with context.transaction() as session:
        stats = await reminder_stats(session, user.id, today)
    if not stats:
        await reply(message_of(update), texts.raw("stats.no_reminders"))
        return
    parts = [texts.raw("stats.header")]
    parts += [reminder_block(texts, item) for item in stats]
    parts.append(texts.raw("stats.footer"))
    await reply(message_of(update), "\n\n".join(parts))


def register(app: BotApp) -> None:
    """Register /stats."""
    app.add_handler(CommandHandler("stats", stats_command))
