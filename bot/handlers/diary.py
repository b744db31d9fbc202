"""The diary: /log, /today, /undo, "Log this" on /food answers, and the delete / undo buttons.

Food is matched exactly as /food matches it (fuzzy names, aliases, amounts, "did you mean"
buttons, which log the food they name). Supplements are logged by their mg. Every entry is
for a local day in the user's zone: today, or yesterday with `/log yesterday ...`. Without a
zone, /log asks for it the way /remind does and logs as soon as one is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.content import Content, Food, Texts
from bot.context import BotApp, BotContext
from bot.db.models import DiaryEntry
from bot.domain.diary import (
    MAX_ENTRIES_PER_DAY,
    MAX_SUPPLEMENT_MG,
    YESTERDAY_WORDS,
    EntryKind,
    LogError,
    LogProblem,
    LogRequest,
    SupplementLog,
    entry_day,
    form_words,
    parse_log,
    percent_of,
)
from bot.domain.foods import (
    MAX_GRAMS,
    MAX_SERVINGS,
    Amount,
    amount_token,
    format_number,
    mg_for,
    parse_amount_token,
    search,
)
from bot.domain.profile import Targets
from bot.domain.timeparse import local_clock
from bot.domain.timezones import zone_named
from bot.domain.vocabulary import DoseStatus
from bot.handlers import reminders, timezone
from bot.handlers.common import answer_query, health_footer, message_of
from bot.handlers.diary_pieces import (
    DIARY_DELETE,
    DIARY_UNDO,
    ENTRY_ID,
    LOG_FOOD_PATTERN,
    bar,
    day_name,
    diary_sources,
    limit_warning,
    log_food_data,
    mg_text,
    need_text,
    parse_log_food_data,
    relative_day,
    targets_of,
    today_in,
    undo_rows,
)
from bot.handlers.foods import FOODS_TOP
from bot.handlers.pieces import plain
from bot.render import Rows, edit, reply
from bot.services.diary import (
    Day,
    TooManyEntries,
    add_entry,
    day_of,
    delete_entry,
    dose_of_entry,
    undo_last,
)
from bot.services.schedules import Answer, Outcome

ACTION = "log"  # what waits for a zone (see AFTER_ZONE in bot/handlers/__init__.py)
MAX_ECHO = 40  # characters of the user's words quoted back
DELETE_PER_ROW = 5


@dataclass(frozen=True)
class Planned:
    """An entry ready to store once the day is known: what, how much, and its display name."""

    kind: EntryKind
    mg: float
    days_back: int = 0
    food: Food | None = None
    amount: Amount | None = None  # None: one serving (foods), or a supplement dose
    label: str = ""  # a supplement's label


Reply = tuple[str, Rows]  # an answer that is not an entry: text and buttons


# --------------------------------------------------------------------------------------------
# Rendering


def amount_text(content: Content, food_id: str | None, token: str) -> str:
    """Return how much of a food an entry holds: "50 g", "1 medium", "2 × ½ cup" (plain)."""
    texts = content.texts
    amount = parse_amount_token(token) if token else None
    food = content.food(food_id) if food_id else None
    if amount is not None and amount.kind == "grams":
        return plain(texts.get("diary.amount_grams", grams=format_number(amount.value)))
    count = 1.0 if amount is None else amount.value
    if food is None:
        return plain(texts.get("diary.amount_servings_unknown", count=format_number(count)))
    if abs(count - 1) < 1e-9:
        return plain(texts.get("diary.amount_serving", serving=food.serving))
    return plain(
        texts.get("diary.amount_servings", count=format_number(count), serving=food.serving)
    )


def supplement_label(content: Content, label: str) -> str:
    """Return a supplement entry's label, or the default one."""
    return label or content.texts.raw("diary.default_supplement")


def entry_what(content: Content, entry: DiaryEntry, today_word: str) -> str:
    """Return an entry in a few words, for "Deleted: ..." (plain)."""
    texts = content.texts
    mg = mg_text(entry.mg)
    if entry.kind == EntryKind.FOOD:
        amount = amount_text(content, entry.food_id, entry.amount)
        return plain(
            texts.get("diary.what_food", name=entry.label, amount=amount, mg=mg, day=today_word)
        )
    label = supplement_label(content, entry.label)
    return plain(texts.get("diary.what_supplement", label=label, mg=mg, day=today_word))


def supplement_lines(texts: Texts, mg: float, targets: Targets) -> list[str]:
    """Return supplements against the upper limit, with a bar (when the age has a limit)."""
    if targets.limit_mg is None:
        return [texts.get("diary.supplement_line_no_limit", mg=mg_text(mg))]
    return [
        texts.get(
            "diary.supplement_line",
            mg=mg_text(mg),
            limit=targets.limit_mg,
            percent=percent_of(mg, targets.limit_mg),
        ),
        bar(texts, mg, targets.limit_mg),
    ]


def totals_lines(
    content: Content, day: Day, targets: Targets, *, supplements: bool = True
) -> list[str]:
    """Return food against the need, supplements against the limit, with bars and the warning.

    Without `supplements` the supplement line is left out while the day has none.
    """
    texts = content.texts
    total = day.total
    need = need_text(texts, targets)
    lines = [
        texts.get(
            "diary.food_line",
            mg=mg_text(total.food_mg),
            need=need,
            percent=percent_of(total.food_mg, targets.need_mg),
        ),
        bar(texts, total.food_mg, targets.need_mg),
    ]
    if supplements or total.supplement_mg > 0:
        lines += supplement_lines(texts, total.supplement_mg, targets)
    if total.supplement_mg > 0:
        lines.append(
            texts.get(
                "diary.together",
                mg=mg_text(total.total_mg),
                percent=percent_of(total.total_mg, targets.need_mg),
                need=need,
            )
        )
    warning = limit_warning(texts, total.supplement_mg, targets)
    if warning is not None:
        lines.append(warning)
    if not targets.personal:
        lines.append(texts.raw("diary.daily_value_note"))
    return lines


def entry_line(content: Content, n: int, entry: DiaryEntry, zone: ZoneInfo) -> str:
    """Return one numbered line of the day's entries."""
    texts = content.texts
    at = local_clock(entry.created_at, zone)
    mg = mg_text(entry.mg)
    if entry.kind == EntryKind.FOOD:
        amount = amount_text(content, entry.food_id, entry.amount)
        return texts.get("diary.entry_food", n=n, time=at, name=entry.label, amount=amount, mg=mg)
    label = supplement_label(content, entry.label)
    if entry.dose_id is not None:
        return texts.get("diary.entry_reminder", n=n, time=at, label=label, mg=mg)
    return texts.get("diary.entry_supplement", n=n, time=at, label=label, mg=mg)


def foods_of(content: Content, entries: Sequence[DiaryEntry]) -> list[Food]:
    """Return the foods a day's entries name (each once, in order)."""
    ids = list(dict.fromkeys(e.food_id for e in entries if e.food_id))
    return [food for food_id in ids if (food := content.food(food_id)) is not None]


async def day_view(
    context: BotContext, user_id: int, zone: ZoneInfo, days_back: int, note: str = ""
) -> tuple[str, Rows]:
    """Return one local day of the diary (today or yesterday) with a delete button per entry."""
    content = context.content
    texts = content.texts
    today = today_in(zone, context)
    day_date = entry_day(today, days_back)
    targets, _ = await targets_of(context, user_id)
    async with context.transaction() as session:
        day = await day_of(session, user_id, day_date)
    title_key = "diary.title_today" if days_back == 0 else "diary.title_yesterday"
    lines = [note, ""] if note else []
    lines.append(texts.get(title_key, date=day_name(texts, day_date), zone=zone.key))
    if not day.entries:
        lines.append(texts.raw("diary.empty_day"))
        return "\n".join(lines), []
    lines += ["", *totals_lines(content, day, targets), "", texts.raw("diary.entries_header")]
    lines += [entry_line(content, n, e, zone) for n, e in enumerate(day.entries, start=1)]
    lines += [
        texts.raw("diary.entries_hint"),
        "",
        health_footer(
            context, diary_sources(content, targets, foods_of(content, day.entries), limit=True)
        ),
    ]
    buttons = [
        (texts.get("diary.button_delete", n=n), f"{DIARY_DELETE}{entry.id}")
        for n, entry in enumerate(day.entries, start=1)
    ]
    rows = [buttons[i : i + DELETE_PER_ROW] for i in range(0, len(buttons), DELETE_PER_ROW)]
    return "\n".join(lines), rows


# --------------------------------------------------------------------------------------------
# /log


def food_plan(food: Food, amount: Amount | None, days_back: int) -> Planned:
    """Return the entry for an amount of a food (one serving when no amount was given)."""
    mg = mg_for(food, amount or Amount("servings", 1.0))
    return Planned(EntryKind.FOOD, mg, days_back, food=food, amount=amount)


def error_answer(content: Content, error: LogError) -> Reply:
    """Explain why a /log request cannot be stored, and what would work."""
    texts = content.texts
    value = error.value[:MAX_ECHO]
    if error.problem is LogProblem.NO_MG:
        return texts.raw("diary.no_mg"), []
    if error.problem is LogProblem.BAD_MG:
        return texts.get("diary.bad_mg", value=value, max_mg=format_number(MAX_SUPPLEMENT_MG)), []
    if error.problem is LogProblem.MG_FOR_FOOD:
        return texts.raw("diary.mg_for_food"), []
    return texts.raw("diary.usage"), []


def resolve(content: Content, request: LogRequest) -> Planned | Reply:
    """Turn a parsed /log request into an entry to store, or the answer to give instead."""
    texts = content.texts
    if isinstance(request, LogError):
        return error_answer(content, request)
    if isinstance(request, SupplementLog):
        return Planned(EntryKind.SUPPLEMENT, request.mg, request.days_back, label=request.label)
    query = request.query
    if query.bad_amount:
        return texts.get(
            "diary.bad_food_amount",
            amount=query.bad_amount[:MAX_ECHO],
            max_grams=format_number(MAX_GRAMS),
            max_servings=format_number(MAX_SERVINGS),
        ), []
    if not query.name:
        return texts.raw("diary.no_food"), []
    found = search(query.name, content.foods)
    if found.food is not None:
        if (
            query.amount is not None
            and query.amount.kind == "grams"
            and not found.food.grams_known
        ):
            return texts.get("diary.no_grams", name=found.food.name), []
        return food_plan(found.food, query.amount, request.days_back)
    if found.suggestions:
        rows = [
            [
                (
                    plain(texts.get("diary.button_log_food", name=f.name)),
                    log_food_data(f.id, query.amount, request.days_back),
                )
            ]
            for f in found.suggestions
        ]
        return texts.get("diary.did_you_mean", query=query.name[:MAX_ECHO]), rows
    return texts.get("diary.not_found", query=query.name[:MAX_ECHO]), [
        [(texts.raw("diary.button_browse"), f"{FOODS_TOP}0")]
    ]


def logged_text(content: Content, planned: Planned, day_word: str) -> str:
    """Return the first line of a /log reply: what was logged, for which day."""
    texts = content.texts
    mg = mg_text(planned.mg)
    if planned.food is not None:
        amount = amount_text(
            content, planned.food.id, amount_token(planned.amount) if planned.amount else ""
        )
        return texts.get(
            "diary.logged_food", day=day_word, name=planned.food.name, amount=amount, mg=mg
        )
    label = supplement_label(content, planned.label)
    return texts.get("diary.logged_supplement", day=day_word, label=label, mg=mg)


async def store(
    message: Message, context: BotContext, user_id: int, zone: ZoneInfo, planned: Planned
) -> None:
    """Store the entry for its local day, then answer with the day's totals and Undo."""
    content = context.content
    texts = content.texts
    today = today_in(zone, context)
    day_date = entry_day(today, planned.days_back)
    day_word = relative_day(texts, day_date, today)
    try:
        async with context.transaction() as session:
            entry = await add_entry(
                session,
                user_id,
                day_date,
                planned.kind,
                planned.mg,
                context.now(),
                food_id=planned.food.id if planned.food else None,
                label=planned.food.name if planned.food else planned.label,
                amount=amount_token(planned.amount) if planned.amount else "",
            )
    except TooManyEntries:
        await reply(message, texts.get("diary.too_many", limit=MAX_ENTRIES_PER_DAY, day=day_word))
        return
    targets, _ = await targets_of(context, user_id)
    async with context.transaction() as session:
        day = await day_of(session, user_id, day_date)
    totals = totals_lines(content, day, targets, supplements=planned.kind is EntryKind.SUPPLEMENT)
    lines = [logged_text(content, planned, day_word), "", *totals]
    lines.append(texts.raw("diary.view_day"))
    if planned.food is not None and limit_warning(texts, day.total.supplement_mg, targets) is None:
        sources = diary_sources(content, targets, [planned.food], limit=False)
        lines += ["", texts.get("common.source", source=sources)]
    else:  # about a dose (or a day above the limit): the health footer
        foods = [planned.food] if planned.food is not None else []
        lines += ["", health_footer(context, diary_sources(content, targets, foods, limit=True))]
    await reply(message, "\n".join(lines), undo_rows(texts, entry.id))


async def log_or_ask_zone(
    message: Message, context: BotContext, user_id: int, zone_name: str | None,
    planned: Planned, pending: dict[str, str],
) -> None:  # fmt: skip
    """Store the entry, or first ask for the zone (then `pending` finishes it)."""
    zone = zone_named(zone_name)
    if zone is None:
        question = context.content.texts.raw("diary.ask_zone")
        await timezone.ask_for_zone(message, context, question, {"action": ACTION, **pending})
        return
    await store(message, context, user_id, zone, planned)


async def log_command(update: Update, context: BotContext) -> None:
    """Log a food or a supplement: /log almonds 50g, /log supplement 200 mg."""
    user = context.user
    message = message_of(update)
    content = context.content
    text = " ".join(context.args or []).strip()
    request = parse_log(text, form_words(f.id for f in content.supplements.forms))
    resolved = resolve(content, request)
    if not isinstance(resolved, Planned):
        await reply(message, *resolved)
        return
    pending = {"text": text, "key": text}
    await log_or_ask_zone(message, context, user.id, user.time_zone, resolved, pending)


async def on_log_food(update: Update, context: BotContext) -> None:
    """Log the food a button names ("Log this" on /food, a "did you mean" choice)."""
    query = await answer_query(update)
    user = context.user
    data = query.data or ""
    food_id, amount, days_back = parse_log_food_data(data)
    food = context.content.food(food_id)
    message = message_of(update)
    texts = context.content.texts
    if food is None:
        await reply(message, texts.raw("diary.stale_button"))
        return
    if amount is not None and amount.kind == "grams" and not food.grams_known:
        await reply(message, texts.get("diary.no_grams", name=food.name))
        return
    planned = food_plan(food, amount, days_back)
    pending = {"button": data, "key": data}
    await log_or_ask_zone(message, context, user.id, user.time_zone, planned, pending)


async def finish_after_zone(
    message: Message, context: BotContext, user_id: int, zone: ZoneInfo, pending: dict[str, str]
) -> None:
    """Complete a /log (or a "Log this" press) that waited for the zone."""
    content = context.content
    if "button" in pending:
        food_id, amount, days_back = parse_log_food_data(pending["button"])
        food = content.food(food_id)
        if food is None:
            await reply(message, content.texts.raw("diary.stale_button"))
            return
        await store(message, context, user_id, zone, food_plan(food, amount, days_back))
        return
    request = parse_log(
        pending.get("text", ""), form_words(f.id for f in content.supplements.forms)
    )
    resolved = resolve(content, request)
    if isinstance(resolved, Planned):
        await store(message, context, user_id, zone, resolved)
    else:
        await reply(message, *resolved)


# --------------------------------------------------------------------------------------------
# /today, /undo and the entry buttons


async def today_command(update: Update, context: BotContext) -> None:
    """Show today's (or yesterday's) entries against the targets, with delete buttons."""
    user = context.user
    message = message_of(update)
    texts = context.content.texts
    args = " ".join(context.args or []).strip().lower()
    if args and args not in YESTERDAY_WORDS:
        await reply(message, texts.raw("diary.today_usage"))
        return
    zone = zone_named(user.time_zone)
    if zone is None:
        await reply(message, texts.raw("diary.no_zone"))
        return
    await reply(message, *await day_view(context, user.id, zone, 1 if args else 0))


def entry_id_of(data: str | None) -> int:
    """Return the id at the end of "dia:<action>:<id>" (the patterns allow digits only)."""
    return int((data or "0").rsplit(":", 1)[-1])


async def on_delete(update: Update, context: BotContext) -> None:
    """Delete an entry from /today and show its day again, in place."""
    query = await answer_query(update)
    user = context.user
    texts = context.content.texts
    zone = zone_named(user.time_zone) or ZoneInfo("UTC")
    today = today_in(zone, context)
    async with context.transaction() as session:
        entry = await delete_entry(session, user.id, entry_id_of(query.data))
    if entry is None:
        note, days_back = texts.raw("diary.gone"), 0
    else:
        when = relative_day(texts, entry.local_date, today)
        note = texts.get("diary.deleted", what=entry_what(context.content, entry, when))
        days_back = min(max((today - entry.local_date).days, 0), 1)
    await edit(query, *await day_view(context, user.id, zone, days_back, note))


async def on_undo(update: Update, context: BotContext) -> None:
    """Take an entry back out (Undo under a /log reply or a reminder's Taken), in place."""
    query = await answer_query(update)
    user = context.user
    content = context.content
    texts = content.texts
    zone = zone_named(user.time_zone) or ZoneInfo("UTC")
    async with context.transaction() as session:
        dose = await dose_of_entry(session, user.id, entry_id_of(query.data))
        entry = await delete_entry(session, user.id, entry_id_of(query.data))
    if entry is None:
        await edit(query, texts.raw("diary.gone"))
        return
    if dose is not None:  # a reminder message: keep what it says about the dose
        answer = Answer(Outcome.RECORDED, DoseStatus(dose.status), dose.at_utc, entry.label)
        removed = texts.get("diary.undone_reminder", mg=mg_text(entry.mg))
        text, rows = reminders.dose_view(texts, answer, dose.delivery_id, zone)
        await edit(query, text + "\n" + removed, rows)
        return
    when = relative_day(texts, entry.local_date, today_in(zone, context))
    await edit(query, texts.get("diary.undone", what=entry_what(content, entry, when)))


async def undo_command(update: Update, context: BotContext) -> None:
    """Remove the entry logged last (of today or yesterday)."""
    user = context.user
    message = message_of(update)
    texts = context.content.texts
    zone = zone_named(user.time_zone)
    if zone is None:
        await reply(message, texts.raw("diary.nothing_to_undo"))
        return
    today = today_in(zone, context)
    async with context.transaction() as session:
        entry = await undo_last(session, user.id, entry_day(today, 1))
    if entry is None:
        await reply(message, texts.raw("diary.nothing_to_undo"))
        return
    when = relative_day(texts, entry.local_date, today)
    note = texts.get("diary.undone", what=entry_what(context.content, entry, when))
    days_back = min(max((today - entry.local_date).days, 0), 1)
    await reply(message, *await day_view(context, user.id, zone, days_back, note))


def register(app: BotApp) -> None:
    """Register /log, /today, /undo, the Log-this, delete and undo buttons."""
    app.add_handler(CommandHandler("log", log_command))
    app.add_handler(CommandHandler("today", today_command))
    app.add_handler(CommandHandler("undo", undo_command))
    app.add_handler(CallbackQueryHandler(on_log_food, pattern=LOG_FOOD_PATTERN))
    app.add_handler(CallbackQueryHandler(on_delete, pattern=rf"^{DIARY_DELETE}{ENTRY_ID}$"))
    app.add_handler(CallbackQueryHandler(on_undo, pattern=rf"^{DIARY_UNDO}{ENTRY_ID}$"))
