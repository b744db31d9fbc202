"""/week and /month: a PNG chart of the last 7 (or 30) local days, sent as a photo.

The numbers come from `bot.domain.chart.chart_data`; the caption states the same figures in
words. Drawing happens in `bot.charts.ChartRenderer`, off the event loop, so a chart never
holds up anyone else's reply.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import CommandHandler

from bot.charts import ChartLabels
from bot.content import Texts
from bot.context import BotApp, BotContext
from bot.domain.chart import MONTH_DAYS, WEEK_DAYS, ChartData, chart_data, window
from bot.domain.profile import Targets
from bot.domain.timezones import zone_named
from bot.handlers.common import health_footer, message_of
from bot.handlers.diary_pieces import day_name, diary_sources, targets_of, today_in
from bot.handlers.pieces import plain
from bot.render import reply, reply_photo
from bot.services.diary import chart_inputs


def chart_labels(texts: Texts, data: ChartData, targets: Targets) -> ChartLabels:
    """Return every word drawn on the chart, from the texts (plain text)."""
    weekdays = texts.raw("timezone.weekdays").split()
    need_key = "chart.need_line" if targets.personal else "chart.need_line_daily_value"
    limit = "" if data.limit_mg is None else plain(texts.get("chart.limit_line", mg=data.limit_mg))
    return ChartLabels(
        title=plain(
            texts.get(
                "chart.title",
                first=day_name(texts, data.first_day),
                last=day_name(texts, data.last_day),
            )
        ),
        total_title=texts.raw("chart.total_title"),
        supplement_title=texts.raw("chart.supplement_title"),
        doses_title=texts.raw("chart.doses_title"),
        y_unit=texts.raw("chart.unit"),
        food=texts.raw("chart.food"),
        supplements=texts.raw("chart.supplements"),
        need_line=plain(texts.get(need_key, mg=data.need_mg)),
        limit_line=limit,
        taken=texts.raw("chart.taken"),
        skipped=texts.raw("chart.skipped"),
        nothing_logged=texts.raw("chart.nothing_logged"),
        days=tuple(
            plain(texts.get("chart.tick", weekday=weekdays[d.day.weekday()], day=d.day.day))
            for d in data.days
        ),
    )


def caption(context: BotContext, data: ChartData, targets: Targets, zone: ZoneInfo) -> str:
    """Return the chart's caption: the same figures in words, then the sources."""
    texts = context.content.texts
    days = len(data.days)
    lines = [
        texts.get(
            "chart.caption_title",
            days=days,
            first=day_name(texts, data.first_day),
            last=day_name(texts, data.last_day),
            zone=zone.key,
        )
    ]
    if data.logged_days:
        lines.append(
            texts.get(
                "chart.caption_average",
                logged=data.logged_days,
                days=days,
                mg=data.average_total_mg,
                food=data.average_food_mg,
                supplements=data.average_supplement_mg,
            )
        )
    else:
        lines.append(texts.get("chart.caption_empty", days=days))
    target_key = "chart.caption_target" if targets.personal else "chart.caption_target_daily_value"
    lines.append(texts.get(target_key, need=data.need_mg, at=data.days_at_target, days=days))
    if data.days_above_limit and data.limit_mg is not None:
        lines.append(
            texts.get("chart.caption_above", limit=data.limit_mg, count=data.days_above_limit)
        )
    if data.taken or data.skipped:
        lines.append(texts.get("chart.caption_doses", taken=data.taken, skipped=data.skipped))
    lines.append(health_footer(context, diary_sources(context.content, targets, limit=True)))
    return "\n".join(lines)


async def send_chart(update: Update, context: BotContext, days: int) -> None:
    """Work out the last `days` local days, draw them off the event loop, send the photo."""
    user = context.user
    message = message_of(update)
    texts = context.content.texts
    zone = zone_named(user.time_zone)
    if zone is None:  # nothing can have been logged without a zone
        await reply(message, texts.raw("chart.no_zone"))
        return
    today = today_in(zone, context)
    first, last = window(today, days)
    targets, _ = await targets_of(context, user.id)
    async with context.transaction() as session:
        entries, answers = await chart_inputs(session, user.id, first, last)
    data = chart_data(entries, answers, today, days, targets.need_mg, targets.limit_mg)
    rendered = await context.deps.charts.render(data, chart_labels(texts, data, targets))
    name = plain(texts.get("chart.file_name", days=days, last=last.isoformat()))
    await reply_photo(message, rendered.png, name, caption(context, data, targets, zone))


async def week_command(update: Update, context: BotContext) -> None:
    """Send the chart of the last 7 local days."""
    await send_chart(update, context, WEEK_DAYS)


async def month_command(update: Update, context: BotContext) -> None:
    """Send the chart of the last 30 local days."""
    await send_chart(update, context, MONTH_DAYS)


def register(app: BotApp) -> None:
    """Register /week and /month (the chart renderer is `deps.charts`)."""
    # Not blocking: PTB handles updates one after another, and no one should wait for a chart
    # to be drawn. The chart's own reply follows when it is ready.
    app.add_handler(CommandHandler("week", week_command, block=False))
    app.add_handler(CommandHandler("month", month_command, block=False))
