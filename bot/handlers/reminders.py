"""Supplement reminders: /remind, /reminders with its buttons, and Taken / Snooze / Skip.

Two button families: "rmd:..." manage the list (pause, resume, delete, change time); the
delivery engine's "rem:..." buttons sit on each reminder message and record the dose.
"""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from telegram import CallbackQuery, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.content import Texts
from bot.context import BotApp, BotContext
from bot.db.models import Reminder
from bot.delivery.messages import (
    REMINDER_PATTERN,
    ROW_ID,
    answered_reminder,
    parse_reminder_button,
)
from bot.domain.diary import form_words
from bot.domain.timeparse import (
    format_local_time,
    parse_local_time,
    split_time_and_label,
    stored_time,
)
from bot.domain.timezones import zone_named
from bot.domain.vocabulary import QuestionKind
from bot.handlers import timezone
from bot.handlers.common import MENU, answer_query, message_of
from bot.handlers.diary_pieces import taken_note
from bot.render import Rows, edit, reply
from bot.services import questions
from bot.services.diary import diary_for_answer
from bot.services.display import local_when
from bot.services.schedules import (
    MAX_REMINDERS,
    Answer,
    Outcome,
    TooManyReminders,
    add_reminder,
    answer_reminder,
    delete_reminder,
    owned_reminder,
    pause,
    reminder_count,
    reminders_of,
    resume,
    retime,
)

# The list's buttons: the prefix + the reminder's id.
PAUSE = "rmd:pause:"
RESUME = "rmd:resume:"
DELETE = "rmd:del:"  # asks to confirm
DELETE_CONFIRMED = "rmd:delok:"
RETIME = "rmd:time:"  # asks for the new time; the next text message is taken as the answer
LIST = "rmd:list"  # show the list again (also "keep it" and back)
CANCEL = "rmd:cancel"  # cancel a pending time change
MENU_REMINDERS = f"{MENU}reminders"  # the /start menu's "Reminders"
ACTION = "remind"  # what waits for a zone (see AFTER_ZONE in bot/handlers/__init__.py)


def label_of(texts: Texts, reminder: Reminder) -> str:
    """Return the reminder's label, or the default one."""
    return reminder.label or texts.raw("reminders.default_label")


def zone_or_utc(zone_name: str | None) -> ZoneInfo:
    """Return the user's zone (reminders only exist with one; UTC keeps this total)."""
    return zone_named(zone_name) or ZoneInfo("UTC")


# --------------------------------------------------------------------------------------------
# /remind


async def create_reminder(
    message: Message, context: BotContext, user_id: int, zone: ZoneInfo, at: time, label: str
) -> None:
    """Create the reminder and answer with its next time (or refuse an 11th kindly)."""
    texts = context.content.texts
    try:
        async with context.transaction() as session:
            reminder = await add_reminder(session, user_id, zone, at, label, context.now())
    except TooManyReminders:
        await reply(message, texts.get("reminders.too_many", limit=MAX_REMINDERS))
        return
    text = texts.get(
        "reminders.created",
        label=label_of(texts, reminder),
        time=reminder.local_time,
        zone=zone.key,
        next=local_when(texts, reminder.next_due_utc or context.now(), zone),
    )
    await reply(message, text, [[(texts.raw("reminders.button_list"), LIST)]])


async def finish_after_zone(
    message: Message, context: BotContext, user_id: int, zone: ZoneInfo, pending: dict[str, str]
) -> None:
    """Complete a /remind that waited for the zone."""
    at = stored_time(pending["time"])
    await create_reminder(message, context, user_id, zone, at, pending.get("label", ""))


async def remind_command(update: Update, context: BotContext) -> None:
    """Set a daily reminder: /remind 21:00 magnesium glycinate 200 mg."""
    user = context.user
    message = message_of(update)
    texts = context.content.texts
    args = " ".join(context.args or []).strip()
    if not args:
        await reply(message, texts.raw("reminders.usage"))
        return
    at, label = split_time_and_label(args)
    if at is None:
        await reply(message, texts.get("reminders.bad_time", value=args.split()[0][:40]))
        return
    async with context.transaction() as session:
        count = await reminder_count(session, user.id)
    if count >= MAX_REMINDERS:
        await reply(message, texts.get("reminders.too_many", limit=MAX_REMINDERS))
        return
    zone = zone_named(user.time_zone)
    if zone is None:
        hhmm = format_local_time(at)
        question = texts.get("reminders.ask_zone", time=hhmm)
        pending = {
            "action": ACTION,
            "time": hhmm,
            "label": label,
            "key": f"{hhmm} {label}",
            "command": f"/remind {hhmm} {label}".strip(),
        }
        await timezone.ask_for_zone(message, context, question, pending)
        return
    await create_reminder(message, context, user.id, zone, at, label)


# --------------------------------------------------------------------------------------------
# /reminders and its buttons


def list_view(
    texts: Texts, reminders: list[Reminder], zone: ZoneInfo, note: str = ""
) -> tuple[str, Rows]:
    """Return the reminder list (text and per-reminder buttons), with an optional note first."""
    parts = [note] if note else []
    if not reminders:
        parts.append(texts.raw("reminders.list_empty"))
        return "\n\n".join(parts), []
    lines = [texts.get("reminders.list_header", count=len(reminders), limit=MAX_REMINDERS)]
    rows = []
    for n, reminder in enumerate(reminders, start=1):
        label = label_of(texts, reminder)
        if reminder.active and reminder.next_due_utc is not None:
            lines.append(
                texts.get(
                    "reminders.list_line",
                    n=n,
                    time=reminder.local_time,
                    label=label,
                    next=local_when(texts, reminder.next_due_utc, zone),
                )
            )
            toggle = (texts.get("reminders.button_pause", n=n), f"{PAUSE}{reminder.id}")
        else:
            lines.append(
                texts.get("reminders.list_line_paused", n=n, time=reminder.local_time, label=label)
            )
            toggle = (texts.get("reminders.button_resume", n=n), f"{RESUME}{reminder.id}")
        rows.append(
            [
                toggle,
                (texts.get("reminders.button_time", n=n), f"{RETIME}{reminder.id}"),
                (texts.get("reminders.button_delete", n=n), f"{DELETE}{reminder.id}"),
            ]
        )
    parts += ["\n".join(lines), texts.get("reminders.list_footer", zone=zone.key)]
    return "\n\n".join(parts), rows


async def current_list(
    context: BotContext, user_id: int, zone_name: str | None, note: str = ""
) -> tuple[str, Rows]:
    """Read the user's reminders and return the list view."""
    async with context.transaction() as session:
        reminders = await reminders_of(session, user_id)
    return list_view(context.content.texts, reminders, zone_or_utc(zone_name), note)


async def reminders_command(update: Update, context: BotContext) -> None:
    """List the user's reminders with their next time and buttons."""
    user = context.user
    text, rows = await current_list(context, user.id, user.time_zone)
    await reply(message_of(update), text, rows)


async def on_list(update: Update, context: BotContext) -> None:
    """Show the list in place (menu button, "keep it", back)."""
    query = await answer_query(update)
    user = context.user
    text, rows = await current_list(context, user.id, user.time_zone)
    await edit(query, text, rows)


async def on_list_menu(update: Update, context: BotContext) -> None:
    """Show the list as a new message (the /start menu button keeps its menu)."""
    await answer_query(update)
    user = context.user
    text, rows = await current_list(context, user.id, user.time_zone)
    await reply(message_of(update), text, rows)


def reminder_id_of(data: str | None) -> int:
    """Return the id at the end of "rmd:<action>:<id>" (the patterns allow digits only)."""
    return int((data or "0").rsplit(":", 1)[-1])


async def on_pause_or_resume(update: Update, context: BotContext) -> None:
    """Pause or resume one reminder, then show the list with what changed."""
    query = await answer_query(update)
    user = context.user
    texts = context.content.texts
    zone = zone_or_utc(user.time_zone)
    resuming = (query.data or "").startswith(RESUME)
    async with context.transaction() as session:
        reminder = await owned_reminder(session, user.id, reminder_id_of(query.data))
        if reminder is None:
            note = texts.raw("reminders.gone")
        elif resuming:
            next_due = resume(reminder, zone, context.now())
            note = texts.get(
                "reminders.resumed",
                label=label_of(texts, reminder),
                next=local_when(texts, next_due, zone),
            )
        else:
            pause(reminder)
            note = texts.get(
                "reminders.paused", label=label_of(texts, reminder), time=reminder.local_time
            )
    text, rows = await current_list(context, user.id, user.time_zone, note)
    await edit(query, text, rows)


async def pressed_reminder(
    update: Update, context: BotContext
) -> tuple[CallbackQuery, Reminder] | None:
    """Answer a press on a reminder's button and load the user's reminder it names.

    When that reminder is gone, show the list with a note saying so and return None.
    """
    query = await answer_query(update)
    user = context.user
    async with context.transaction() as session:
        reminder = await owned_reminder(session, user.id, reminder_id_of(query.data))
    if reminder is None:
        note = context.content.texts.raw("reminders.gone")
        text, rows = await current_list(context, user.id, user.time_zone, note)
        await edit(query, text, rows)
        return None
    return query, reminder


async def on_delete(update: Update, context: BotContext) -> None:
    """Ask to confirm deleting a reminder."""
    if (pressed := await pressed_reminder(update, context)) is None:
        return
    query, reminder = pressed
    texts = context.content.texts
    text = texts.get(
        "reminders.confirm_delete", label=label_of(texts, reminder), time=reminder.local_time
    )
    rows = [
        [
            (texts.raw("reminders.button_delete_yes"), f"{DELETE_CONFIRMED}{reminder.id}"),
            (texts.raw("reminders.button_keep"), LIST),
        ]
    ]
    await edit(query, text, rows)


async def on_delete_confirmed(update: Update, context: BotContext) -> None:
    """Delete the reminder, then show the list."""
    query = await answer_query(update)
    user = context.user
    texts = context.content.texts
    async with context.transaction() as session:
        reminder = await owned_reminder(session, user.id, reminder_id_of(query.data))
        if reminder is None:
            note = texts.raw("reminders.gone")
        else:
            note = texts.get(
                "reminders.deleted", label=label_of(texts, reminder), time=reminder.local_time
            )
            await delete_reminder(session, reminder)
        key = str(reminder_id_of(query.data))
        await questions.forget(session, user.id, QuestionKind.NEW_TIME, key)
    text, rows = await current_list(context, user.id, user.time_zone, note)
    await edit(query, text, rows)


async def on_retime(update: Update, context: BotContext) -> None:
    """Ask for a new time; the next text message is taken as the answer."""
    if (pressed := await pressed_reminder(update, context)) is None:
        return
    query, reminder = pressed
    texts = context.content.texts
    async with context.transaction() as session:
        await questions.forget(session, context.user.id, QuestionKind.NEW_TIME)  # one at a time
        await questions.ask(
            session,
            context.user.id,
            QuestionKind.NEW_TIME,
            {"reminder_id": str(reminder.id)},
            context.now(),
            key=str(reminder.id),
        )
    text = texts.get(
        "reminders.ask_new_time", label=label_of(texts, reminder), time=reminder.local_time
    )
    await edit(query, text, [[(texts.raw("reminders.button_cancel"), CANCEL)]])


async def on_cancel(update: Update, context: BotContext) -> None:
    """Cancel a pending time change and show the list again."""
    query = await answer_query(update)
    user = context.user
    async with context.transaction() as session:
        await questions.forget(session, user.id, QuestionKind.NEW_TIME)
    note = context.content.texts.raw("reminders.cancelled")
    text, rows = await current_list(context, user.id, user.time_zone, note)
    await edit(query, text, rows)


async def new_time_from_text(update: Update, context: BotContext, text: str) -> bool:
    """Take a text message as the new time of the reminder we asked about; True if taken.

    A time typed after the question expired is told so; other text is left to the others.
    """
    user = context.user
    async with context.transaction() as session:
        asked = await questions.waiting(session, user.id, QuestionKind.NEW_TIME, context.now())
        if asked.expired and not asked.live:
            await questions.forget(session, user.id, QuestionKind.NEW_TIME)
    message = message_of(update)
    texts = context.content.texts
    at = parse_local_time(text)
    if not asked.live:
        if asked.expired and at is not None:
            await reply(message, texts.raw("reminders.new_time_expired"))
            return True
        return False
    reminder_id = int(asked.live[-1]["reminder_id"])
    if at is None:
        await reply(
            message,
            texts.get("reminders.bad_new_time", value=text[:40]),
            [[(texts.raw("reminders.button_cancel"), CANCEL)]],
        )
        return True
    zone = zone_or_utc(user.time_zone)
    async with context.transaction() as session:
        await questions.forget(session, user.id, QuestionKind.NEW_TIME)
        reminder = await owned_reminder(session, user.id, reminder_id)
        if reminder is None:
            answer = texts.raw("reminders.gone")
        else:
            retime(reminder, at, zone, context.now())
            label = label_of(texts, reminder)
            if reminder.active and reminder.next_due_utc is not None:
                answer = texts.get(
                    "reminders.retimed",
                    label=label,
                    time=reminder.local_time,
                    next=local_when(texts, reminder.next_due_utc, zone),
                )
            else:
                answer = texts.get(
                    "reminders.retimed_paused", label=label, time=reminder.local_time
                )
    await reply(message, answer, [[(texts.raw("reminders.button_list"), LIST)]])
    return True


async def on_any_command(update: Update, context: BotContext) -> None:
    """Drop a pending time change when the user moves on to a command."""
    async with context.transaction() as session:
        await questions.forget(session, context.user.id, QuestionKind.NEW_TIME)


# --------------------------------------------------------------------------------------------
# Taken / Snooze / Skip on a delivered reminder


def dose_text(texts: Texts, answer: Answer, zone: ZoneInfo) -> str:
    """Return the reminder message as it reads after an answer (or that it is gone)."""
    if answer.outcome is Outcome.GONE or answer.status is None or answer.at is None:
        return texts.raw("reminders.dose_gone")
    return answered_reminder(
        texts,
        answer.label,
        snoozed=answer.snoozed,
        status=answer.status,
        at=answer.at,
        snooze_due=answer.snooze_due,
        already=answer.outcome is Outcome.ALREADY,
        zone=zone,
    )


async def on_dose(update: Update, context: BotContext) -> None:
    """Record Taken / Skip / Snooze once per message, and show the choice on the message.

    Taken on a reminder whose label names a magnesium dose also logs it in the diary.
    """
    query = await answer_query(update)  # at once: the spinner stops before any database work
    press = parse_reminder_button(query.data)
    if press is None:  # the pattern let it through, so this cannot happen
        return
    user = context.user
    now = context.now()
    answer_it = (user.id, press.delivery_id, press.status, now, press.snooze_minutes)
    forms = form_words(form.id for form in context.content.supplements.forms)
    try:
        async with context.transaction() as session:
            answer = await answer_reminder(session, *answer_it)
            logged = await diary_for_answer(
                session, user.id, press.delivery_id, answer, forms, now
            )
    except IntegrityError:  # a simultaneous press won the race: show what it recorded
        async with context.transaction() as session:
            answer = await answer_reminder(session, *answer_it)
            logged = await diary_for_answer(
                session, user.id, press.delivery_id, answer, forms, now
            )
    zone = zone_or_utc(user.time_zone)
    text = dose_text(context.content.texts, answer, zone)
    if logged is None:
        await edit(query, text)
        return
    note, rows = await taken_note(context, user.id, logged, zone)  # the dose is in the diary
    await edit(query, f"{text}\n{note}", rows)


def register(app: BotApp) -> None:
    """Register /remind, /reminders, the list buttons, the dose buttons and typed times."""
    # Any command ends a pending "send me the new time" question (it runs before the rest).
    app.add_handler(MessageHandler(filters.COMMAND, on_any_command), group=-1)
    app.add_handler(CommandHandler("remind", remind_command))
    app.add_handler(CommandHandler("reminders", reminders_command))
    app.add_handler(CallbackQueryHandler(on_list, pattern=rf"^{LIST}$"))
    app.add_handler(CallbackQueryHandler(on_list_menu, pattern=rf"^{MENU_REMINDERS}$"))
    app.add_handler(
        CallbackQueryHandler(on_pause_or_resume, pattern=rf"^(?:{PAUSE}|{RESUME}){ROW_ID}$")
    )
    app.add_handler(CallbackQueryHandler(on_delete, pattern=rf"^{DELETE}{ROW_ID}$"))
    app.add_handler(
        CallbackQueryHandler(on_delete_confirmed, pattern=rf"^{DELETE_CONFIRMED}{ROW_ID}$")
    )
    app.add_handler(CallbackQueryHandler(on_retime, pattern=rf"^{RETIME}{ROW_ID}$"))
    app.add_handler(CallbackQueryHandler(on_cancel, pattern=rf"^{CANCEL}$"))
    app.add_handler(CallbackQueryHandler(on_dose, pattern=REMINDER_PATTERN))
