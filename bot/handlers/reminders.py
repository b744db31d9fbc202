"""Supplement reminders: /remind, /reminders with its buttons, and the reminder messages' buttons.

Two button families: "rmd:..." manage the list (change, pause, resume, delete; each change asks
for a typed answer: new times, days, label, course or tablet count); the delivery engine's
"rem:..." buttons sit on each reminder message (Taken / Skip / Snooze, Show, Refilled).
What /remind understands is read by `bot/domain/rule_input.py`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from telegram import CallbackQuery, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.content import Texts
from bot.context import BotApp, BotContext
from bot.db.models import Reminder
from bot.delivery.messages import (
    REFILL_PATTERN,
    REMINDER_PATTERN,
    ROW_ID,
    SHOW_PATTERN,
    answered_buttons,
    answered_reminder,
    id_of,
    notes_for,
    parse_reminder_button,
    reminder_message,
)
from bot.domain.diary import form_words
from bot.domain.rule_input import (
    Course,
    Problem,
    Request,
    RuleError,
    parse_course,
    parse_repeat,
    parse_request,
    parse_stock,
    parse_times,
    resolve,
    with_course,
    with_repeat,
    with_times,
)
from bot.domain.rules import Rule, is_spent, next_occurrence, stock_of
from bot.domain.timeparse import clean_label
from bot.domain.timezones import zone_named
from bot.domain.vocabulary import QuestionKind
from bot.handlers import timezone
from bot.handlers.common import MENU, answer_query, message_of
from bot.handlers.diary_pieces import taken_note
from bot.render import Button, Rows, edit, reply
from bot.services import questions
from bot.services.diary import diary_for_answer
from bot.services.display import local_when, rule_words, times_words, until_words
from bot.services.schedules import (
    MAX_REMINDERS,
    Answer,
    Outcome,
    ShownMessage,
    TooManyReminders,
    add_reminder,
    answer_reminder,
    change_rule,
    count_stock,
    delete_reminder,
    owned_reminder,
    pause,
    relabel,
    reminder_count,
    reminders_of,
    resume,
    shown_message,
)

# The list's buttons: the prefix + the reminder's id.
EDIT = "rmd:edit:"  # the reminder's panel: what to change
PAUSE = "rmd:pause:"
RESUME = "rmd:resume:"
DELETE = "rmd:del:"  # asks to confirm
DELETE_CONFIRMED = "rmd:delok:"
LIST = "rmd:list"  # show the list again (also "keep it" and back)
CANCEL = "rmd:cancel"  # cancel a pending change
MENU_REMINDERS = f"{MENU}reminders"  # the /start menu's "Reminders"
ACTION = "remind"  # what waits for a zone (see AFTER_ZONE in bot/handlers/__init__.py)


class Part(StrEnum):
    """The part of a reminder a change asks for (kept in the pending question's data)."""

    TIMES = "times"
    DAYS = "days"
    LABEL = "label"
    COURSE = "course"
    STOCK = "stock"


# The panel's buttons that ask for a new value: the prefix + the reminder's id. "rmd:time:" is
# older than the panel; messages that carry it keep working.
ASK = {
    Part.TIMES: "rmd:time:",
    Part.DAYS: "rmd:days:",
    Part.LABEL: "rmd:label:",
    Part.COURSE: "rmd:course:",
    Part.STOCK: "rmd:stock:",
}
RETIME = ASK[Part.TIMES]


def label_of(texts: Texts, reminder: Reminder) -> str:
    """Return the reminder's label, or the default one."""
    return reminder.label or texts.raw("reminders.default_label")


def zone_or_utc(zone_name: str | None) -> ZoneInfo:
    """Return the user's zone (reminders only exist with one; UTC keeps this total)."""
    return zone_named(zone_name) or ZoneInfo("UTC")


def words_of(texts: Texts, reminder: Reminder, zone: ZoneInfo, now: datetime) -> str:
    """Return the reminder's rule in words ("Mon, Wed, Fri at 08:00")."""
    rule = reminder.rule
    if rule is None:
        return reminder.local_time
    return rule_words(texts, rule, now.astimezone(zone).date())


def problem_text(texts: Texts, error: RuleError) -> str:
    """Return the answer to input that could not be used: what was wrong, and an example."""
    value = error.value
    match error.problem:
        case Problem.NO_TIME:
            return texts.raw("reminders.no_time")
        case Problem.TOO_MANY_TIMES:
            return texts.get("reminders.too_many_times", value=value)
        case Problem.DAY:
            return texts.get("reminders.bad_day", value=value)
        case Problem.EVERY:
            return texts.get("reminders.bad_every", value=value)
        case Problem.DAYS_AND_EVERY:
            return texts.get("reminders.days_and_every", value=value)
        case Problem.COURSE:
            return texts.get("reminders.bad_course", value=value)
        case Problem.DATE:
            return texts.get("reminders.bad_date", value=value)
        case Problem.PAST:
            return texts.get("reminders.past", value=value)
        case Problem.COURSE_EMPTY:
            return texts.get("reminders.course_empty", value=value)
        case Problem.IN:
            return texts.get("reminders.bad_in", value=value)
        case Problem.ONCE:
            if not value:
                return texts.raw("reminders.bad_once_plain")
            return texts.get("reminders.bad_once", value=value)
        case _:
            return texts.get("reminders.bad_time", value=value)


# --------------------------------------------------------------------------------------------
# /remind


async def create_reminder(
    message: Message,
    context: BotContext,
    user_id: int,
    zone: ZoneInfo,
    request: Request,
    asked_at: datetime,
) -> None:
    """Make the rule, create the reminder and answer with its next time (or say what failed).

    `asked_at` is when /remind was sent: "tomorrow" and "in 30 min" count from then, also
    when the zone was chosen later.
    """
    texts = context.content.texts
    now = context.now()
    rule = resolve(request, zone, asked_at)
    if not isinstance(rule, RuleError) and next_occurrence(rule, zone, now) is None:
        # Its time (or its whole course) passed while we waited for the zone.
        problem = Problem.PAST if rule.once else Problem.COURSE_EMPTY
        rule = RuleError(problem, request.when_text or (request.course or Course()).text)
    if isinstance(rule, RuleError):
        await reply(message, problem_text(texts, rule))
        return
    try:
        async with context.transaction() as session:
            reminder = await add_reminder(session, user_id, zone, rule, request.label, now)
    except TooManyReminders:
        await reply(message, texts.get("reminders.too_many", limit=MAX_REMINDERS))
        return
    lines = [
        texts.get(
            "reminders.created",
            label=label_of(texts, reminder),
            rule=rule_words(texts, rule, now.astimezone(zone).date()),
            zone=zone.key,
            next=local_when(texts, reminder.next_due_utc or now, zone),
        )
    ]
    if len(rule.times) > 1:
        lines.append(texts.raw("reminders.created_times"))
    if rule.until is not None:
        lines.append(texts.raw("reminders.created_course"))
    if rule.once:
        lines.append(texts.raw("reminders.created_once"))
    await reply(message, "\n".join(lines), [[(texts.raw("reminders.button_list"), LIST)]])


async def finish_after_zone(
    message: Message, context: BotContext, user_id: int, zone: ZoneInfo, pending: dict[str, str]
) -> None:
    """Complete a /remind that waited for the zone."""
    # A question asked before rules existed holds a time and a label instead of the words.
    args = pending.get("args") or f"{pending.get('time', '')} {pending.get('label', '')}"
    request = parse_request(args)
    if isinstance(request, RuleError):  # checked when asked; only a hand-made row gets here
        await reply(message, problem_text(context.content.texts, request))
        return
    try:
        asked_at = datetime.fromisoformat(pending["asked_at"])
    except (KeyError, ValueError):
        asked_at = context.now()
    if asked_at.tzinfo is None:  # only a hand-made row: count from now
        asked_at = context.now()
    await create_reminder(message, context, user_id, zone, request, asked_at)


def ask_zone_words(texts: Texts, request: Request) -> str:
    """Return what the zone question repeats of the request ("21:00", "in 30 min")."""
    if request.in_minutes is not None or request.once:
        return request.when_text
    return times_words(texts, Rule(request.times))


async def remind_command(update: Update, context: BotContext) -> None:
    """Set a reminder: /remind 21:00 magnesium, /remind mon,wed,fri 08:00, /remind in 30 min."""
    user = context.user
    message = message_of(update)
    texts = context.content.texts
    args = " ".join(context.args or []).strip()
    if not args:
        await reply(message, texts.raw("reminders.usage"))
        return
    request = parse_request(args)
    if isinstance(request, RuleError):
        await reply(message, problem_text(texts, request))
        return
    async with context.transaction() as session:
        count = await reminder_count(session, user.id)
    if count >= MAX_REMINDERS:
        await reply(message, texts.get("reminders.too_many", limit=MAX_REMINDERS))
        return
    zone = zone_named(user.time_zone)
    if zone is None:
        question = texts.get("reminders.ask_zone", when=ask_zone_words(texts, request))
        pending = {
            "action": ACTION,
            "args": args,
            "asked_at": context.now().isoformat(),
            "key": args[:150],
            "command": f"/remind {args}"[:200],
        }
        await timezone.ask_for_zone(message, context, question, pending)
        return
    await create_reminder(message, context, user.id, zone, request, context.now())


# --------------------------------------------------------------------------------------------
# /reminders, and one reminder's panel


def stock_words(texts: Texts, reminder: Reminder, today: date) -> str | None:
    """Return the list's line about the tablets left (None when they are not counted)."""
    rule = reminder.rule
    if rule is None:
        return None
    stock = stock_of(rule, reminder.stock, reminder.per_dose, today)
    if stock is None:
        return None
    if stock.out:
        return texts.raw("reminders.list_stock_out")
    if stock.days_left is None:
        return texts.get("reminders.list_stock_count", count=stock.count)
    if stock.low:
        return texts.get("reminders.list_stock_low", count=stock.count, days=stock.days_left)
    return texts.get("reminders.list_stock", count=stock.count, days=stock.days_left)


class State(StrEnum):
    """Where a reminder is, as the list shows it."""

    NEXT = "next"
    PAUSED = "paused"
    COMPLETE = "complete"  # a course past its last day
    SENT = "sent"  # a one-off that came, waiting for its answer


def state_of(reminder: Reminder, zone: ZoneInfo) -> State:
    """Return where the reminder is."""
    rule, due = reminder.rule, reminder.next_due_utc
    if not reminder.active or rule is None:
        return State.PAUSED
    if due is None:
        return State.COMPLETE if rule.until is not None else State.PAUSED
    if rule.once and is_spent(rule, zone, due):
        return State.SENT
    return State.NEXT


def list_view(
    texts: Texts, reminders: list[Reminder], zone: ZoneInfo, now: datetime, note: str = ""
) -> tuple[str, Rows]:
    """Return the reminder list (text and per-reminder buttons), with an optional note first."""
    parts = [note] if note else []
    if not reminders:
        parts.append(texts.raw("reminders.list_empty"))
        return "\n\n".join(parts), []
    lines = [texts.get("reminders.list_header", count=len(reminders), limit=MAX_REMINDERS)]
    rows = []
    today = now.astimezone(zone).date()
    for n, reminder in enumerate(reminders, start=1):
        label = label_of(texts, reminder)
        rule = words_of(texts, reminder, zone, now)
        state = state_of(reminder, zone)
        if state is State.NEXT and reminder.next_due_utc is not None:
            next_time = local_when(texts, reminder.next_due_utc, zone)
            lines.append(
                texts.get("reminders.list_line", n=n, label=label, rule=rule, next=next_time)
            )
        elif state is State.COMPLETE:
            lines.append(texts.get("reminders.list_line_complete", n=n, label=label, rule=rule))
        elif state is State.SENT:
            lines.append(texts.get("reminders.list_line_sent", n=n, label=label, rule=rule))
        else:
            lines.append(texts.get("reminders.list_line_paused", n=n, label=label, rule=rule))
        stock = stock_words(texts, reminder, today)
        if stock is not None:
            lines.append(stock)
        if reminder.active:
            toggle = (texts.get("reminders.button_pause", n=n), f"{PAUSE}{reminder.id}")
        else:
            toggle = (texts.get("reminders.button_resume", n=n), f"{RESUME}{reminder.id}")
        rows.append(
            [
                (texts.get("reminders.button_edit", n=n), f"{EDIT}{reminder.id}"),
                toggle,
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
    return list_view(context.content.texts, reminders, zone_or_utc(zone_name), context.now(), note)


async def reminders_command(update: Update, context: BotContext) -> None:
    """List the user's reminders with their rule, next time, tablets and buttons."""
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


def panel_view(
    texts: Texts, reminder: Reminder, zone: ZoneInfo, now: datetime
) -> tuple[str, Rows]:
    """Return one reminder's panel: its rule, next time and tablets, and what can change."""
    label = label_of(texts, reminder)
    rule = reminder.rule
    lines = [
        texts.get("reminders.edit_header", label=label),
        texts.get("reminders.edit_rule", rule=words_of(texts, reminder, zone, now)),
    ]
    state = state_of(reminder, zone)
    if state is State.NEXT and reminder.next_due_utc is not None:
        next_time = local_when(texts, reminder.next_due_utc, zone)
        lines.append(texts.get("reminders.edit_next", next=next_time))
    elif state is State.COMPLETE:
        lines.append(texts.raw("reminders.edit_complete"))
    elif state is State.SENT:
        lines.append(texts.raw("reminders.edit_sent"))
    else:
        lines.append(texts.raw("reminders.edit_paused"))
    stock = None if rule is None else stock_of(rule, reminder.stock, reminder.per_dose)
    if stock is None:
        lines.append(texts.raw("reminders.edit_stock_none"))
    elif stock.days_left is None:
        lines.append(
            texts.get("reminders.edit_stock_count", count=stock.count, per_dose=stock.per_dose)
        )
    else:
        lines.append(
            texts.get(
                "reminders.edit_stock",
                count=stock.count,
                per_dose=stock.per_dose,
                days=stock.days_left,
            )
        )
    lines.append(texts.raw("reminders.edit_question"))
    rid = reminder.id
    once = rule is not None and rule.once
    if once:
        first: list[Button] = [
            (texts.raw("reminders.button_time"), f"{ASK[Part.TIMES]}{rid}"),
            (texts.raw("reminders.button_label"), f"{ASK[Part.LABEL]}{rid}"),
        ]
        second: list[Button] = [(texts.raw("reminders.button_stock"), f"{ASK[Part.STOCK]}{rid}")]
    else:
        first = [
            (texts.raw("reminders.button_times"), f"{ASK[Part.TIMES]}{rid}"),
            (texts.raw("reminders.button_days"), f"{ASK[Part.DAYS]}{rid}"),
            (texts.raw("reminders.button_label"), f"{ASK[Part.LABEL]}{rid}"),
        ]
        second = [
            (texts.raw("reminders.button_course"), f"{ASK[Part.COURSE]}{rid}"),
            (texts.raw("reminders.button_stock"), f"{ASK[Part.STOCK]}{rid}"),
        ]
    if reminder.active:
        second.append((texts.raw("reminders.button_pause_one"), f"{PAUSE}{rid}"))
    else:
        second.append((texts.raw("reminders.button_resume_one"), f"{RESUME}{rid}"))
    last: list[Button] = [
        (texts.raw("reminders.button_delete_one"), f"{DELETE}{rid}"),
        (texts.raw("reminders.button_list"), LIST),
    ]
    return "\n".join(lines), [first, second, last]


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


async def on_edit(update: Update, context: BotContext) -> None:
    """Show one reminder's panel: what it is, and buttons for each part that can change."""
    if (pressed := await pressed_reminder(update, context)) is None:
        return
    query, reminder = pressed
    zone = zone_or_utc(context.user.time_zone)
    text, rows = panel_view(context.content.texts, reminder, zone, context.now())
    await edit(query, text, rows)


async def on_pause_or_resume(update: Update, context: BotContext) -> None:
    """Pause or resume one reminder, then show the list with what changed."""
    query = await answer_query(update)
    user = context.user
    texts = context.content.texts
    zone = zone_or_utc(user.time_zone)
    now = context.now()
    resuming = (query.data or "").startswith(RESUME)
    async with context.transaction() as session:
        reminder = await owned_reminder(session, user.id, reminder_id_of(query.data))
        if reminder is None:
            note = texts.raw("reminders.gone")
        elif resuming:
            resume(reminder, zone, now)
            label = label_of(texts, reminder)
            if state_of(reminder, zone) is State.NEXT and reminder.next_due_utc is not None:
                next_time = local_when(texts, reminder.next_due_utc, zone)
                note = texts.get("reminders.resumed", label=label, next=next_time)
            else:
                note = texts.get("reminders.resumed_nothing", label=label)
        else:
            pause(reminder)
            rule = words_of(texts, reminder, zone, now)
            note = texts.get("reminders.paused", label=label_of(texts, reminder), rule=rule)
    text, rows = await current_list(context, user.id, user.time_zone, note)
    await edit(query, text, rows)


async def on_delete(update: Update, context: BotContext) -> None:
    """Ask to confirm deleting a reminder."""
    if (pressed := await pressed_reminder(update, context)) is None:
        return
    query, reminder = pressed
    texts = context.content.texts
    rule = words_of(texts, reminder, zone_or_utc(context.user.time_zone), context.now())
    text = texts.get("reminders.confirm_delete", label=label_of(texts, reminder), rule=rule)
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
            rule = words_of(texts, reminder, zone_or_utc(user.time_zone), context.now())
            note = texts.get("reminders.deleted", label=label_of(texts, reminder), rule=rule)
            await delete_reminder(session, reminder)
        key = str(reminder_id_of(query.data))
        await questions.forget(session, user.id, QuestionKind.CHANGE_REMINDER, key)
    text, rows = await current_list(context, user.id, user.time_zone, note)
    await edit(query, text, rows)


# --------------------------------------------------------------------------------------------
# Changing one part: the question, and the typed answer


def part_named(value: str | None) -> Part:
    """Return the part a pending question names (times for a question from before parts)."""
    return next((part for part in Part if part.value == value), Part.TIMES)


def part_of(data: str | None) -> Part:
    """Return the part a panel button asks for ("rmd:days:7" -> days)."""
    prefix = (data or "").rsplit(":", 1)[0] + ":"
    return next((part for part, start in ASK.items() if start == prefix), Part.TIMES)


def question_text(
    texts: Texts, part: Part, reminder: Reminder, zone: ZoneInfo, now: datetime
) -> str:
    """Return the question for a new value of `part`."""
    label = label_of(texts, reminder)
    rule = reminder.rule
    if part is Part.DAYS:
        return texts.get(
            "reminders.ask_new_days", label=label, rule=words_of(texts, reminder, zone, now)
        )
    if part is Part.LABEL:
        return texts.get("reminders.ask_new_label", label=label)
    if part is Part.COURSE:
        if rule is None or rule.until is None:
            course = texts.raw("reminders.course_none")
        else:
            until = until_words(texts, rule.until, now.astimezone(zone).date())
            course = texts.get("reminders.course_until", date=until)
        return texts.get("reminders.ask_new_course", label=label, course=course)
    if part is Part.STOCK:
        return texts.get("reminders.ask_stock", label=label)
    times = reminder.local_time if rule is None else times_words(texts, rule)
    return texts.get("reminders.ask_new_time", label=label, time=times)


async def on_ask(update: Update, context: BotContext) -> None:
    """Ask for a new value of one part; the next text message is taken as the answer."""
    if (pressed := await pressed_reminder(update, context)) is None:
        return
    query, reminder = pressed
    part = part_of(query.data)
    texts = context.content.texts
    user = context.user
    async with context.transaction() as session:
        await questions.forget(session, user.id, QuestionKind.CHANGE_REMINDER)  # one at a time
        await questions.ask(
            session,
            user.id,
            QuestionKind.CHANGE_REMINDER,
            {"reminder_id": str(reminder.id), "part": part.value},
            context.now(),
            key=str(reminder.id),
        )
    zone = zone_or_utc(user.time_zone)
    text = question_text(texts, part, reminder, zone, context.now())
    await edit(query, text, [[(texts.raw("reminders.button_cancel"), CANCEL)]])


async def on_cancel(update: Update, context: BotContext) -> None:
    """Cancel a pending change and show the list again."""
    query = await answer_query(update)
    user = context.user
    async with context.transaction() as session:
        await questions.forget(session, user.id, QuestionKind.CHANGE_REMINDER)
    note = context.content.texts.raw("reminders.cancelled")
    text, rows = await current_list(context, user.id, user.time_zone, note)
    await edit(query, text, rows)


def bad_answer(texts: Texts, part: Part, text: str, error: RuleError | None) -> str:
    """Return the answer to a typed value that could not be read."""
    value = text[:40]
    if part is Part.DAYS and (error is None or error.problem is Problem.DAY):
        return texts.get("reminders.bad_new_days", value=value)
    if part is Part.COURSE and (error is None or error.problem is Problem.COURSE):
        return texts.get("reminders.bad_new_course", value=value)
    if part is Part.STOCK:
        return texts.get("stock.bad", value=value)
    if error is not None and error.problem not in (Problem.TIME, Problem.NO_TIME):
        return problem_text(texts, error)
    return texts.get("reminders.bad_new_time", value=value)


def reads_as_answer(part: Part, text: str) -> bool:
    """Return True when `text` reads as an answer for `part` (for an expired question)."""
    if part is Part.TIMES:
        return not isinstance(parse_times(text), RuleError)
    if part is Part.DAYS:
        return not isinstance(parse_repeat(text), RuleError)
    if part is Part.COURSE:
        return not isinstance(parse_course(text), RuleError)
    if part is Part.STOCK:
        return parse_stock(text) is not None
    return False


def new_rule(part: Part, text: str, rule: Rule, zone: ZoneInfo, now: datetime) -> Rule | RuleError:
    """Return the rule with the typed new times, days or course, or what was wrong."""
    if part is Part.TIMES:
        times = parse_times(text)
        return times if isinstance(times, RuleError) else with_times(rule, times, zone, now)
    if part is Part.DAYS:
        repeat = parse_repeat(text)
        return repeat if isinstance(repeat, RuleError) else with_repeat(rule, repeat, zone, now)
    course = parse_course(text)
    return course if isinstance(course, RuleError) else with_course(rule, course, zone, now)


def changed_text(texts: Texts, reminder: Reminder, zone: ZoneInfo, now: datetime) -> str:
    """Return the answer after a rule changed: how it comes now, and when next."""
    label = label_of(texts, reminder)
    rule = words_of(texts, reminder, zone, now)
    if not reminder.active:
        return texts.get("reminders.retimed_paused", label=label, rule=rule)
    if state_of(reminder, zone) is State.NEXT and reminder.next_due_utc is not None:
        next_time = local_when(texts, reminder.next_due_utc, zone)
        return texts.get("reminders.retimed", label=label, rule=rule, next=next_time)
    return texts.get("reminders.retimed_nothing", label=label, rule=rule)


def stock_text(texts: Texts, reminder: Reminder) -> str:
    """Return the answer after tablets were counted: how long they last, and a warning."""
    label = label_of(texts, reminder)
    rule = reminder.rule
    stock = None if rule is None else stock_of(rule, reminder.stock, reminder.per_dose)
    if stock is None:
        return texts.get("stock.off", label=label)
    if stock.days_left is None:
        lines = [
            texts.get("stock.set_count", label=label, count=stock.count, per_dose=stock.per_dose)
        ]
    else:
        lines = [
            texts.get(
                "stock.set",
                label=label,
                count=stock.count,
                per_dose=stock.per_dose,
                days=stock.days_left,
            )
        ]
    if stock.out:
        lines.append(texts.raw("stock.out"))
    elif stock.low:
        lines.append(texts.get("stock.low", days=stock.days_left))
    return "\n".join(lines)


async def change_from_text(update: Update, context: BotContext, text: str) -> bool:
    """Take a text message as the new value we asked for; True if taken.

    A value typed after the question expired is told so; other text is left to the others.
    """
    user = context.user
    now = context.now()
    async with context.transaction() as session:
        asked = await questions.waiting(session, user.id, QuestionKind.CHANGE_REMINDER, now)
        if asked.expired and not asked.live:
            await questions.forget(session, user.id, QuestionKind.CHANGE_REMINDER)
    message = message_of(update)
    texts = context.content.texts
    if not asked.live:
        expired = asked.expired[-1] if asked.expired else None
        if expired is not None and reads_as_answer(part_named(expired.get("part")), text):
            await reply(message, texts.raw("reminders.new_time_expired"))
            return True
        return False
    pending = asked.live[-1]
    part = part_named(pending.get("part"))
    reminder_id = int(pending["reminder_id"])
    zone = zone_or_utc(user.time_zone)
    cancel = [[(texts.raw("reminders.button_cancel"), CANCEL)]]
    stock = parse_stock(text) if part is Part.STOCK else None
    if part is Part.STOCK and stock is None:
        await reply(message, bad_answer(texts, part, text, None), cancel)
        return True
    answer = ""
    retry: str | None = None  # the answer could not be used: ask again, keep waiting
    async with context.transaction() as session:
        reminder = await owned_reminder(session, user.id, reminder_id)
        rule = None if reminder is None else reminder.rule
        if reminder is None or rule is None:
            answer = texts.raw("reminders.gone")
        elif stock is not None:
            count_stock(reminder, stock.count, stock.per_dose)
            answer = stock_text(texts, reminder)
        elif part is Part.LABEL:
            relabel(reminder, clean_label(text))
            answer = texts.get(
                "reminders.relabelled",
                label=label_of(texts, reminder),
                rule=words_of(texts, reminder, zone, now),
            )
        else:
            changed = new_rule(part, text, rule, zone, now)
            if isinstance(changed, Rule):
                change_rule(reminder, changed, zone, now)
                answer = changed_text(texts, reminder, zone, now)
            else:
                retry = bad_answer(texts, part, text, changed)
        if retry is None:
            await questions.forget(session, user.id, QuestionKind.CHANGE_REMINDER)
    if retry is not None:
        await reply(message, retry, cancel)
    else:
        await reply(message, answer, [[(texts.raw("reminders.button_list"), LIST)]])
    return True


async def on_any_command(update: Update, context: BotContext) -> None:
    """Drop a pending change when the user moves on to a command."""
    async with context.transaction() as session:
        await questions.forget(session, context.user.id, QuestionKind.CHANGE_REMINDER)


# --------------------------------------------------------------------------------------------
# Buttons on a delivered reminder: Taken / Snooze / Skip, Show, Refilled


def dose_view(texts: Texts, answer: Answer, delivery_id: int, zone: ZoneInfo) -> tuple[str, Rows]:
    """Return the reminder message as it reads after an answer (or that it is gone)."""
    if answer.outcome is Outcome.GONE or answer.status is None or answer.at is None:
        return texts.raw("reminders.dose_gone"), []
    notes = notes_for(
        answer.rule, answer.stock, answer.per_dose, occurrence=answer.occurrence, zone=zone
    )
    text = answered_reminder(
        texts,
        answer.label,
        snoozed=answer.snoozed,
        status=answer.status,
        at=answer.at,
        snooze_due=answer.snooze_due,
        already=answer.outcome is Outcome.ALREADY,
        zone=zone,
        notes=notes,
        removed=answer.removed,
    )
    return text, [] if answer.removed else answered_buttons(texts, delivery_id, notes)


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
    text, rows = dose_view(context.content.texts, answer, press.delivery_id, zone)
    if logged is not None:  # Taken on a dose the label names: it is in the diary too
        note, undo = await taken_note(context, user.id, logged, zone)
        text, rows = f"{text}\n{note}", [*rows, *undo]
    await edit(query, text, rows)


def shown_view(
    texts: Texts, shown: ShownMessage, zone: ZoneInfo, *, private: bool, note: str = ""
) -> tuple[str, Rows]:
    """Return a reminder message shown again: answered, or still waiting with its buttons."""
    if shown.answer is not None:
        text, rows = dose_view(texts, shown.answer, shown.delivery_id, zone)
    else:
        notes = notes_for(
            shown.rule,
            shown.stock,
            shown.per_dose,
            occurrence=shown.occurrence,
            zone=zone,
            private=private,
        )
        draft = reminder_message(
            texts, shown.delivery_id, shown.label, snoozed=shown.snoozed, zone=zone, notes=notes
        )
        text, rows = draft.text, draft.rows
    return (f"{text}\n{note}" if note else text), rows


async def on_show(update: Update, context: BotContext) -> None:
    """Show a hidden label in the chat (the notification did not show it)."""
    query = await answer_query(update)
    user = context.user
    texts = context.content.texts
    async with context.transaction() as session:
        shown = await shown_message(session, user.id, id_of(query.data))
    if shown is None:
        await edit(query, texts.raw("reminders.dose_gone"))
        return
    text, rows = shown_view(texts, shown, zone_or_utc(user.time_zone), private=False)
    await edit(query, text, rows)


async def on_refilled(update: Update, context: BotContext) -> None:
    """Count the tablets as refilled (back to the last /stock count) and update the message."""
    query = await answer_query(update)
    user = context.user
    texts = context.content.texts
    async with context.transaction() as session:
        shown = await shown_message(session, user.id, id_of(query.data), refill=True)
    if shown is None:
        await edit(query, texts.raw("reminders.dose_gone"))
        return
    if shown.stock is None:
        note = texts.raw("reminders.refill_nothing")
    else:
        note = texts.get("reminders.refilled", count=shown.stock)
    zone = zone_or_utc(user.time_zone)
    text, rows = shown_view(texts, shown, zone, private=shown.private, note=note)
    await edit(query, text, rows)


def register(app: BotApp) -> None:
    """Register /remind, /reminders, the list and panel buttons, typed changes, message buttons."""
    # Any command ends a pending "send me the new ..." question (it runs before the rest).
    app.add_handler(MessageHandler(filters.COMMAND, on_any_command), group=-1)
    app.add_handler(CommandHandler("remind", remind_command))
    app.add_handler(CommandHandler("reminders", reminders_command))
    app.add_handler(CallbackQueryHandler(on_list, pattern=rf"^{LIST}$"))
    app.add_handler(CallbackQueryHandler(on_list_menu, pattern=rf"^{MENU_REMINDERS}$"))
    app.add_handler(CallbackQueryHandler(on_edit, pattern=rf"^{EDIT}{ROW_ID}$"))
    app.add_handler(
        CallbackQueryHandler(on_pause_or_resume, pattern=rf"^(?:{PAUSE}|{RESUME}){ROW_ID}$")
    )
    app.add_handler(CallbackQueryHandler(on_delete, pattern=rf"^{DELETE}{ROW_ID}$"))
    app.add_handler(
        CallbackQueryHandler(on_delete_confirmed, pattern=rf"^{DELETE_CONFIRMED}{ROW_ID}$")
    )
    asks = "|".join(ASK.values())
    app.add_handler(CallbackQueryHandler(on_ask, pattern=rf"^(?:{asks}){ROW_ID}$"))
    app.add_handler(CallbackQueryHandler(on_cancel, pattern=rf"^{CANCEL}$"))
    app.add_handler(CallbackQueryHandler(on_dose, pattern=REMINDER_PATTERN))
    app.add_handler(CallbackQueryHandler(on_show, pattern=SHOW_PATTERN))
    app.add_handler(CallbackQueryHandler(on_refilled, pattern=REFILL_PATTERN))
