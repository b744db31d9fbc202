"""What the diary shares with /food and the reminders: its buttons, dates, targets and notes.

The callback-data prefixes of the diary's buttons live here, so one grep finds the button
(on a /food answer, a reminder message, a /log reply or /today) and the handler that answers
it (`bot/handlers/diary.py`). This module imports no other feature, so /food and the reminders
can use it without importing the diary's handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from telegram import Update

from bot.content import Content, Food, Sourced, Texts
from bot.context import BotContext
from bot.db.models import DiaryEntry
from bot.domain.diary import above_limit, bar_cells, percent_of
from bot.domain.foods import Amount, amount_token, format_amount_mg, parse_amount_token
from bot.domain.profile import DAILY_VALUE_SOURCE, Profile, Targets, targets_for
from bot.domain.rda import row_for
from bot.handlers.common import health_footer
from bot.handlers.pieces import plain, sources_of
from bot.render import Button, Rows
from bot.services.diary import day_of, profile_of

LOG_FOOD = "dia:log:"  # + food id, then ":" + amount token ("g50", "s2"), then ":y" (yesterday)
DIARY_DELETE = "dia:del:"  # + entry id: delete it and show its day again (/today's buttons)
DIARY_UNDO = "dia:undo:"  # + entry id: delete it, say so in place (/log replies, reminders)
ENTRY_ID = r"[1-9]\d{0,8}"  # database keys: a forged longer number matches nothing
LOG_FOOD_PATTERN = rf"^{LOG_FOOD}\w{{1,40}}(?::[gs]\d{{1,5}}(?:\.\d)?)?(?::y)?$"
YESTERDAY_FLAG = "y"


def log_food_data(food_id: str, amount: Amount | None, days_back: int = 0) -> str:
    """Return the callback data of a button that logs `food_id` (for the amount asked)."""
    data = f"{LOG_FOOD}{food_id}"
    if amount is not None:
        data += f":{amount_token(amount)}"
    if days_back:
        data += f":{YESTERDAY_FLAG}"
    return data


def parse_log_food_data(data: str) -> tuple[str, Amount | None, int]:
    """Return (food id, amount, days back) from `log_food_data` output (pattern-checked)."""
    parts = data.removeprefix(LOG_FOOD).split(":")
    days_back = 1 if parts[-1] == YESTERDAY_FLAG else 0
    if days_back:
        parts = parts[:-1]
    amount = parse_amount_token(parts[1]) if len(parts) > 1 else None
    return parts[0], amount, days_back


def log_button(texts: Texts, food_id: str, amount: Amount | None) -> Button:
    """Return the "Log this" button of a /food answer."""
    return texts.raw("diary.button_log"), log_food_data(food_id, amount)


def undo_rows(texts: Texts, entry_id: int) -> Rows:
    """Return the one-button keyboard that takes an entry back out of the diary."""
    return [[(texts.raw("diary.button_undo"), f"{DIARY_UNDO}{entry_id}")]]


def day_name(texts: Texts, day: date) -> str:
    """Return a local day as plain text, e.g. "Mon 2 Mar" (a value for other templates)."""
    weekdays = texts.raw("timezone.weekdays").split()
    months = texts.raw("timezone.months").split()
    return plain(
        texts.get(
            "diary.date", weekday=weekdays[day.weekday()], day=day.day, month=months[day.month - 1]
        )
    )


def relative_day(texts: Texts, day: date, today: date) -> str:
    """Return "today", "yesterday" or the date, as plain text."""
    if day == today:
        return texts.raw("diary.today")
    if (today - day).days == 1:
        return texts.raw("diary.yesterday")
    return day_name(texts, day)


def today_in(zone: ZoneInfo, context: BotContext) -> date:
    """Return the user's local date now."""
    return context.now().astimezone(zone).date()


async def targets_of(context: BotContext, user_id: int) -> tuple[Targets, Profile | None]:
    """Return the user's targets (from their profile, or the adult ones) and the profile."""
    async with context.transaction() as session:
        profile = await profile_of(session, user_id)
    content = context.content
    return targets_for(profile, content.rda, content.supplements.upper_limits), profile


async def personal_targets(context: BotContext, update: Update) -> Targets | None:
    """Return the sender's own targets when they have a profile (for /food), else None."""
    if update.effective_user is None:
        return None
    targets, profile = await targets_of(context, update.effective_user.id)
    return targets if profile is not None and targets.personal else None


def need_text(texts: Texts, targets: Targets) -> str:
    """Return "your 320 mg" or "the 420 mg adult Daily Value" (plain text)."""
    if targets.personal:
        return plain(texts.get("diary.need_personal", mg=targets.need_mg))
    return plain(texts.get("diary.need_daily_value", mg=targets.need_mg))


def bar(texts: Texts, value: float, target: float) -> str:
    """Return a text progress bar of `value` against `target`."""
    cells = bar_cells(value, target)
    filled = texts.raw("diary.bar_full") * cells
    empty = texts.raw("diary.bar_empty") * (10 - cells)
    return texts.get("diary.bar", bar=filled + empty)


def diary_sources(
    content: Content, targets: Targets, foods: Sequence[Food] = (), *, limit: bool
) -> str:
    """Return the sources behind a diary answer: its foods, the targets, and (with `limit`)
    what the upper limit covers."""
    cited: list[Sourced] = [*foods, *targets.cited]
    if limit:
        cited.append(content.supplements.ul_covers)
    extra = [s for f in foods for s in f.per_100g_source]
    if targets.daily_value:
        extra.append(DAILY_VALUE_SOURCE)
    return sources_of(content, cited, extra)


def mg_text(value: float) -> str:
    """Return an amount of magnesium for display: "0", "7.5", "141"."""
    return "0" if abs(value) < 0.05 else format_amount_mg(value)


def limit_warning(texts: Texts, supplement_mg: float, targets: Targets) -> str | None:
    """Return the warning for supplements above the upper limit, or None within it."""
    if not above_limit(supplement_mg, targets.limit_mg):
        return None
    return texts.get("diary.above_limit", mg=mg_text(supplement_mg), limit=targets.limit_mg)


def need_line(texts: Texts, mg: float, targets: Targets) -> str:
    """Return the "% of your daily need" line of a /food answer."""
    return texts.get(
        "diary.food_need", percent=percent_of(mg, targets.need_mg), need=targets.need_mg
    )


def profile_who(content: Content, profile: Profile) -> str:
    """Return who the profile describes, e.g. "female, age group 31-50 years" (plain text)."""
    texts = content.texts
    row = row_for(content.rda, profile.age_years * 12)
    group = row.label if row is not None else str(profile.age_years)
    if profile.status == "pregnant":
        who = texts.get("profile.who_pregnant", group=group)
    elif profile.status == "lactating":
        who = texts.get("profile.who_lactating", group=group)
    elif profile.sex == "male":
        who = texts.get("profile.who_male", group=group)
    elif profile.sex == "female":
        who = texts.get("profile.who_female", group=group)
    else:
        who = texts.get("profile.who_any", group=group)
    return plain(who)  # a value for another template, which escapes it


async def taken_note(
    context: BotContext, user_id: int, entry: DiaryEntry, zone: ZoneInfo
) -> tuple[str, Rows]:
    """Return the lines a reminder shows after Taken logged its dose, and the Undo button.

    With the day's supplements above the upper limit, the warning and the health footer follow.
    """
    texts = context.content.texts
    targets, _ = await targets_of(context, user_id)
    async with context.transaction() as session:
        day = await day_of(session, user_id, entry.local_date)
    when = relative_day(texts, entry.local_date, today_in(zone, context))
    mg = mg_text(entry.mg)
    if targets.limit_mg is None:
        lines = [texts.get("diary.taken_logged_no_limit", mg=mg, day=when)]
    else:
        total = mg_text(day.total.supplement_mg)
        lines = [
            texts.get("diary.taken_logged", mg=mg, day=when, total=total, limit=targets.limit_mg)
        ]
    warning = limit_warning(texts, day.total.supplement_mg, targets)
    if warning is not None:
        sources = diary_sources(context.content, targets, limit=True)
        lines += [warning, health_footer(context, sources)]
    return "\n".join(lines), undo_rows(texts, entry.id)
