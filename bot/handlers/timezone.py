"""/timezone, zone buttons and shared locations; and asking for the zone before a schedule.

/subscribe and /remind need the user's zone. Without one they call `ask_for_zone`, which keeps
what was asked for in the database (a pending question: a restart or another worker keeps it);
as soon as a zone is chosen (command, button, location or a typed city), the follow-up for that
action completes it (the actions and their follow-ups are declared in `bot/handlers/__init__.py`
as AFTER_ZONE and handed to `register`). A request older than a day is let go, and said so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotApp, BotContext
from bot.domain.timeparse import local_clock
from bot.domain.timezones import (
    COMMON_ZONES,
    format_utc_offset,
    is_known_zone,
    zone_from_location,
    zone_label,
    zone_named,
)
from bot.domain.vocabulary import QuestionKind
from bot.handlers.common import answer_query, message_of
from bot.render import MAX_CALLBACK_DATA, Button, Rows, edit, reply
from bot.services import questions
from bot.services.schedules import set_zone

SET = "tz:set:"  # + IANA zone name
MENU = "tz:menu"  # show the zone panel (from /settings)

# A follow-up finishes what was asked before the zone was known: (message, context, user id,
# zone, what was asked).
FollowUp = Callable[[Message, BotContext, int, ZoneInfo, dict[str, str]], Awaitable[None]]
FollowUps = Mapping[str, FollowUp]


def zone_button(name: str, now: datetime) -> Button:
    """Return a "set this zone" button labelled with the zone and its current offset."""
    return (zone_label(name, now), f"{SET}{name}")


def common_zone_rows(now: datetime) -> Rows:
    """Return buttons for the common zones, two per row."""
    buttons = [zone_button(name, now) for name in COMMON_ZONES]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def offset_text(zone: ZoneInfo, now: datetime) -> str:
    """Return the zone's offset now, e.g. "UTC+01:00"."""
    return format_utc_offset(now.astimezone(zone).utcoffset() or timedelta(0))


async def ask_for_zone(
    message: Message, context: BotContext, question: str, pending: dict[str, str]
) -> None:
    """Keep `pending` until a zone is chosen, and ask for the zone with common-zone buttons.

    `pending` holds the "action" to finish (a key of AFTER_ZONE), what it needs, and the
    "command" that asked, to name it if it expires. Several requests can wait (a /subscribe
    and two /remind); one with the same action and "key" replaces the earlier one.
    """
    key = f"{pending.get('action', '')}:{pending.get('key', '')}"
    async with context.transaction() as session:
        await questions.ask(
            session, context.user.id, QuestionKind.ZONE, pending, context.now(), key=key
        )
    texts = context.content.texts
    text = question + "\n\n" + texts.raw("timezone.how_to_set")
    await reply(message, text, common_zone_rows(context.now()))


async def choose_zone(context: BotContext, user_id: int, zone: ZoneInfo) -> str:
    """Store the zone, move the user's schedules to it, and return the confirmation (HTML)."""
    now = context.now()
    async with context.transaction() as session:
        moved = await set_zone(session, user_id, zone, now)
    texts = context.content.texts
    lines = [
        texts.get(
            "timezone.set",
            zone=zone.key,
            offset=offset_text(zone, now),
            time=local_clock(now, zone),
        )
    ]
    if moved.tip or moved.reminders:
        lines.append(texts.raw("timezone.rescheduled"))
    return "\n".join(lines)


async def follow_up(
    message: Message, context: BotContext, user_id: int, zone: ZoneInfo, after_zone: FollowUps
) -> None:
    """Finish what was waiting for the zone (a subscription, reminders), in order."""
    async with context.transaction() as session:
        found = await questions.answer(session, user_id, QuestionKind.ZONE, context.now())
    for pending in found.live:
        finish = after_zone.get(pending.get("action", ""))
        if finish is not None:
            await finish(message, context, user_id, zone, pending)
    if found.expired:
        commands = ", ".join(p.get("command", "") for p in found.expired if p.get("command"))
        text = context.content.texts.get("timezone.expired_requests", commands=commands)
        await reply(message, text)


async def show_zone(message: Message, context: BotContext, zone_name: str | None) -> None:
    """Reply with the current zone (or that none is set), how to change it, and zone buttons."""
    text = zone_panel(context, zone_name)
    await reply(message, text, common_zone_rows(context.now()))


def zone_panel(context: BotContext, zone_name: str | None) -> str:
    """Return the text of the zone panel: the current zone and how to change it."""
    texts = context.content.texts
    now = context.now()
    zone = zone_named(zone_name)
    if zone is None:
        head = texts.raw("timezone.none_yet")
    else:
        head = texts.get(
            "timezone.current",
            zone=zone.key,
            offset=offset_text(zone, now),
            time=local_clock(now, zone),
        )
    return head + "\n\n" + texts.raw("timezone.how_to_set")


async def timezone_command(update: Update, context: BotContext, after_zone: FollowUps) -> None:
    """Show the zone (no argument) or set it from a zone name, an offset or a city."""
    user = context.user
    message = message_of(update)
    query = " ".join(context.args or []).strip()
    if not query:
        await show_zone(message, context, user.time_zone)
        return
    texts = context.content.texts
    now = context.now()
    found = context.deps.places.resolve(query, at=now)
    if found.zone is not None:
        zone = ZoneInfo(found.zone)
        await reply(message, await choose_zone(context, user.id, zone))
        await follow_up(message, context, user.id, zone, after_zone)
        return
    suggestions = [
        name
        for name in found.suggestions
        if len(f"{SET}{name}".encode()) <= MAX_CALLBACK_DATA and is_known_zone(name)
    ]
    if suggestions:
        rows = [[zone_button(name, now)] for name in suggestions]
        await reply(message, texts.get("timezone.did_you_mean", query=query[:64]), rows)
        return
    text = texts.get("timezone.unknown", query=query[:64]) + "\n\n"
    await reply(message, text + texts.raw("timezone.how_to_set"), common_zone_rows(now))


async def on_zone_button(update: Update, context: BotContext, after_zone: FollowUps) -> None:
    """Set the zone from a "did you mean" or common-zone button."""
    query = await answer_query(update)
    user = context.user
    name = (query.data or "")[len(SET) :]
    if not is_known_zone(name):  # forged, or a zone the tz database no longer has
        await edit(query, context.content.texts.raw("timezone.stale_button"))
        return
    zone = ZoneInfo(name)
    await edit(query, await choose_zone(context, user.id, zone))
    await follow_up(message_of(update), context, user.id, zone, after_zone)


async def on_zone_menu(update: Update, context: BotContext) -> None:
    """Show the zone panel in place of the message the button sits on."""
    query = await answer_query(update)
    user = context.user
    await edit(query, zone_panel(context, user.time_zone), common_zone_rows(context.now()))


async def on_location(update: Update, context: BotContext, after_zone: FollowUps) -> None:
    """Set the zone from a shared location (offline lookup)."""
    user = context.user
    message = message_of(update)
    location = message.location
    name = (
        zone_from_location(location.latitude, location.longitude) if location is not None else None
    )
    if name is None:
        text = context.content.texts.raw("timezone.location_unknown")
        await reply(message, text, common_zone_rows(context.now()))
        return
    zone = ZoneInfo(name)
    await reply(message, await choose_zone(context, user.id, zone))
    await follow_up(message, context, user.id, zone, after_zone)


async def zone_from_text(
    update: Update, context: BotContext, text: str, after_zone: FollowUps
) -> bool:
    """Take a typed city or zone as the answer when a zone was asked for; True if taken."""
    async with context.transaction() as session:
        asked = await questions.waiting(session, context.user.id, QuestionKind.ZONE, context.now())
    if not asked:
        return False
    found = context.deps.places.resolve(text, at=context.now())
    if found.zone is None:  # not clearly a place: let the other features have it
        return False
    user = context.user
    message = message_of(update)
    zone = ZoneInfo(found.zone)
    await reply(message, await choose_zone(context, user.id, zone))
    await follow_up(message, context, user.id, zone, after_zone)
    return True


def register(app: BotApp, after_zone: FollowUps) -> None:
    """Register /timezone, its buttons and shared locations; a chosen zone runs `after_zone`."""
    app.add_handler(CommandHandler("timezone", partial(timezone_command, after_zone=after_zone)))
    app.add_handler(
        CallbackQueryHandler(
            partial(on_zone_button, after_zone=after_zone), pattern=rf"^{SET}[\w+\-/]+$"
        )
    )
    app.add_handler(CallbackQueryHandler(on_zone_menu, pattern=rf"^{MENU}$"))
    app.add_handler(MessageHandler(filters.LOCATION, partial(on_location, after_zone=after_zone)))
