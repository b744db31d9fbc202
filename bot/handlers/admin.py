"""/admin: bot-wide figures for ADMIN_IDS; everyone else gets the unknown-command answer."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotApp, BotContext
from bot.db.schedule_repo import AdminStatsRepo, ReminderRepo, SubscriptionRepo
from bot.domain.schedule import utc_midnight
from bot.domain.timezones import zone_named
from bot.handlers import fallback
from bot.handlers.common import message_of
from bot.render import reply
from bot.services.display import local_when


async def admin_command(update: Update, context: BotContext) -> None:
    """Show users, schedules, today's deliveries and the delivery state (admins only)."""
    tg_user = update.effective_user
    if tg_user is None or tg_user.id not in context.deps.settings.admin_ids:
        await fallback.unknown_command(update, context)  # don't reveal that /admin exists
        return
    texts = context.content.texts
    async with context.transaction() as session:
        total, blocked = await AdminStatsRepo(session).users()
        subscriptions = await SubscriptionRepo(session).count_active()
        active, paused = await ReminderRepo(session).count_by_state()
    lines = [
        texts.raw("admin.header"),
        texts.get("admin.users", total=total, blocked=blocked),
        texts.get("admin.subscriptions", count=subscriptions),
        texts.get("admin.reminders", active=active, paused=paused),
        "",
    ]
    delivery = context.deps.delivery
    day = utc_midnight(context.now()).date().isoformat()
    lines.append(texts.get("admin.deliveries_header", day=day))
    by_status = sorted(
        (await delivery.counts_today()).items(), key=lambda item: (-item[1], item[0])
    )
    lines += [texts.get("admin.delivery_line", status=s, count=n) for s, n in by_status]
    if not by_status:
        lines.append(texts.raw("admin.deliveries_none"))
    lines.append("")
    last = delivery.last_tick
    if isinstance(last, datetime):
        zone = zone_named(context.user.time_zone) or ZoneInfo("UTC")
        ago = max(0, int((context.now() - last).total_seconds()))
        lines.append(texts.get("admin.last_tick", when=local_when(texts, last, zone), ago=ago))
    else:
        lines.append(texts.raw("admin.last_tick_never"))
    lines.append(texts.get("admin.queue", count=delivery.queue_length))
    if delivery.leading:
        lines.append(texts.raw("admin.leader"))
    else:
        lines.append(texts.raw("admin.follower"))
    await reply(message_of(update), "\n".join(lines))


def register(app: BotApp) -> None:
    """Register /admin."""
    app.add_handler(CommandHandler("admin", admin_command))
