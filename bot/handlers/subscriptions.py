"""The daily tip: /subscribe, /unsubscribe, /tip, the tip buttons and the "Daily tip" menu."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.content import Texts
from bot.context import BotApp, BotContext
from bot.db.models import TipSubscription
from bot.delivery.messages import TIP_NEXT, TIP_STOP
from bot.domain.timeparse import format_local_time, parse_local_time, stored_time
from bot.domain.timezones import zone_named
from bot.handlers import timezone
from bot.handlers.common import MENU, answer_query, message_of
from bot.render import Rows, edit, keyboard, reply
from bot.services.display import local_when
from bot.services.schedules import (
    DEFAULT_TIP_TIME,
    draw_tip,
    subscribe,
    subscription_of,
    unsubscribe,
)

ON = "sub:on"  # subscribe at the previous (or default) time
MENU_SUBSCRIBE = f"{MENU}subscribe"  # the /start menu's "Daily tip"
ACTION = "subscribe"  # what waits for a zone (see AFTER_ZONE in bot/handlers/__init__.py)


def tip_rows(texts: Texts, subscribed: bool) -> Rows:
    """Return the buttons under a tip: another one, and stop (or start) the daily tip."""
    another = (texts.raw("subscriptions.button_another"), TIP_NEXT)
    if subscribed:
        return [[another], [(texts.raw("subscriptions.button_stop"), TIP_STOP)]]
    return [[another], [(texts.raw("subscriptions.button_subscribe"), ON)]]


def confirmation(
    texts: Texts, subscription: TipSubscription, zone: ZoneInfo, previous: str | None
) -> str:
    """Return the answer to a (re)subscription with the exact next delivery time."""
    if subscription.next_due_utc is None:  # an active subscription always has one
        raise ValueError("an active subscription without a next time")
    when = local_when(texts, subscription.next_due_utc, zone)
    if previous is None:
        return texts.get(
            "subscriptions.subscribed", time=subscription.local_time, zone=zone.key, next=when
        )
    if previous == subscription.local_time:
        return texts.get(
            "subscriptions.unchanged", time=subscription.local_time, zone=zone.key, next=when
        )
    return texts.get(
        "subscriptions.moved",
        time=subscription.local_time,
        before=previous,
        zone=zone.key,
        next=when,
    )


async def start_tips(
    message: Message, context: BotContext, user_id: int, zone: ZoneInfo, at: time
) -> None:
    """Subscribe (or move the time) and answer with the next delivery time."""
    async with context.transaction() as session:
        done = await subscribe(session, user_id, zone, at, context.now())
    texts = context.content.texts
    await reply(message, confirmation(texts, done.subscription, zone, done.previous_time))


async def finish_after_zone(
    message: Message, context: BotContext, user_id: int, zone: ZoneInfo, pending: dict[str, str]
) -> None:
    """Complete a /subscribe that waited for the zone."""
    await start_tips(message, context, user_id, zone, stored_time(pending["time"]))


async def subscribe_at(
    message: Message, context: BotContext, user_id: int, zone_name: str | None, at: time | None
) -> None:
    """Subscribe at `at` (None: keep the current time, or 09:00), asking for the zone first."""
    if at is None:
        async with context.transaction() as session:
            current = await subscription_of(session, user_id)
        at = stored_time(current.local_time) if current and current.active else DEFAULT_TIP_TIME
    zone = zone_named(zone_name)
    if zone is None:
        question = context.content.texts.get("subscriptions.ask_zone", time=format_local_time(at))
        hhmm = format_local_time(at)
        pending = {"action": ACTION, "time": hhmm, "command": f"/subscribe {hhmm}"}
        await timezone.ask_for_zone(message, context, question, pending)
        return
    await start_tips(message, context, user_id, zone, at)


async def subscribe_command(update: Update, context: BotContext) -> None:
    """Start the daily tip at the given local time (default 09:00), or change its time."""
    user = context.user
    message = message_of(update)
    value = " ".join(context.args or []).strip()
    at = parse_local_time(value) if value else None
    if value and at is None:
        await reply(message, context.content.texts.get("subscriptions.bad_time", value=value[:40]))
        return
    await subscribe_at(message, context, user.id, user.time_zone, at)


async def unsubscribe_command(update: Update, context: BotContext) -> None:
    """Stop the daily tip and say so (kindly, also when there was none)."""
    user = context.user
    await reply(message_of(update), await stop_text(context, user.id))


async def stop_text(context: BotContext, user_id: int) -> str:
    """Stop the daily tip; return what to tell the user."""
    async with context.transaction() as session:
        stopped = await unsubscribe(session, user_id)
    texts = context.content.texts
    if stopped:
        return texts.raw("subscriptions.unsubscribed")
    return texts.raw("subscriptions.not_subscribed")


async def send_tip(message: Message, context: BotContext, user_id: int) -> None:
    """Send the user's next tip from their own rotation, with its source and buttons."""
    content = context.content
    tip_ids = [tip.id for tip in content.tips]
    async with context.transaction() as session:
        tip_id, subscription = await draw_tip(
            session, user_id, tip_ids, context.deps.rng, context.now()
        )
        subscribed = subscription.active
    tip = next(t for t in content.tips if t.id == tip_id)
    text = content.texts.get("subscriptions.tip", text=tip.text, source=content.source_names(tip))
    await reply(message, content.with_disclaimer(text, tip), tip_rows(content.texts, subscribed))


async def tip_command(update: Update, context: BotContext) -> None:
    """Send a tip now."""
    user = context.user
    await send_tip(message_of(update), context, user.id)


async def on_another_tip(update: Update, context: BotContext) -> None:
    """Send another tip (the "another tip" button under any tip)."""
    await answer_query(update)
    user = context.user
    await send_tip(message_of(update), context, user.id)


async def on_stop_tips(update: Update, context: BotContext) -> None:
    """Stop the daily tip from the button under a tip; keep only "another tip" there."""
    query = await answer_query(update)
    user = context.user
    texts = context.content.texts
    text = await stop_text(context, user.id)
    try:
        markup = keyboard([[(texts.raw("subscriptions.button_another"), TIP_NEXT)]])
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest:  # the message is too old to edit, or already shows these buttons
        pass
    await reply(message_of(update), text)


async def on_subscribe_button(update: Update, context: BotContext) -> None:
    """Subscribe from a button, at the current (or default) time."""
    await answer_query(update)
    user = context.user
    await subscribe_at(message_of(update), context, user.id, user.time_zone, None)


async def on_menu(update: Update, context: BotContext) -> None:
    """Show the daily-tip panel: whether it is on, when the next one comes, and buttons."""
    query = await answer_query(update)
    user = context.user
    texts = context.content.texts
    async with context.transaction() as session:
        current = await subscription_of(session, user.id)
    zone = zone_named(user.time_zone)
    tip_now = (texts.raw("subscriptions.button_tip_now"), TIP_NEXT)
    if current is None or not current.active or current.next_due_utc is None or zone is None:
        rows: Rows = [[(texts.raw("subscriptions.button_subscribe"), ON)], [tip_now]]
        await edit(query, texts.raw("subscriptions.panel_off"), rows)
        return
    text = texts.get(
        "subscriptions.panel_on",
        time=current.local_time,
        zone=zone.key,
        next=local_when(texts, current.next_due_utc, zone),
    )
    rows = [[tip_now], [(texts.raw("subscriptions.button_stop"), TIP_STOP)]]
    await edit(query, text, rows)


def register(app: BotApp) -> None:
    """Register the daily-tip commands and buttons."""
    app.add_handler(CommandHandler("subscribe", subscribe_command))
    app.add_handler(CommandHandler("unsubscribe", unsubscribe_command))
    app.add_handler(CommandHandler("tip", tip_command))
    app.add_handler(CallbackQueryHandler(on_another_tip, pattern=rf"^{TIP_NEXT}$"))
    app.add_handler(CallbackQueryHandler(on_stop_tips, pattern=rf"^{TIP_STOP}$"))
    app.add_handler(CallbackQueryHandler(on_subscribe_button, pattern=rf"^{ON}$"))
    app.add_handler(CallbackQueryHandler(on_menu, pattern=rf"^{MENU_SUBSCRIBE}$"))
