"""/profile: age, sex and pregnancy or breastfeeding, by buttons or in one line.

The profile makes /today, the charts, /intake and /food use the person's own RDA and
supplement upper limit (from the same tables as /intake). The buttons carry every choice made
so far in their data ("prof:sex:31:f"), so nothing waits in memory between two presses.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.content import DAILY_VALUE_MG, Content, Sourced
from bot.context import BotApp, BotContext
from bot.domain.profile import (
    SEX_OF_CODE,
    STATUS_CODES,
    STATUS_OF_CODE,
    NeedsSex,
    Profile,
    TooYoung,
    age_bands,
    intake_of,
    parse_profile,
    sex_matters,
    status_possible,
)
from bot.domain.rda import MAX_AGE_YEARS, Intake, IntakeError, row_for
from bot.handlers import intake as intake_feature
from bot.handlers.common import answer_query, health_footer, message_of
from bot.handlers.diary_pieces import profile_who
from bot.handlers.pieces import sources_of
from bot.render import Rows, edit, reply
from bot.services.diary import clear_profile, profile_of, save_profile

AGE = "prof:age:"  # + first year of an age group
SEX = "prof:sex:"  # + age + ":" + m / f
STATUS = "prof:st:"  # + age + ":" + p (pregnant) / l (breastfeeding) / n (neither)
CHANGE = "prof:edit"  # show the age buttons again
CLEAR = "prof:clear"  # remove the profile
CLEAR_WORDS = frozenset({"clear", "delete", "remove", "reset", "off", "none"})
BANDS_PER_ROW = 2
AGE_DIGITS = r"\d{1,3}"


def profile_view(context: BotContext, profile: Profile, *, saved: bool) -> tuple[str, Rows]:
    """Render a profile with its figures, what they are used for, and change / remove buttons."""
    content = context.content
    texts = content.texts
    answer = intake_of(profile, content.rda, content.supplements.upper_limits)
    if not isinstance(answer, Intake):  # the tables changed since it was saved: ask again
        return texts.raw("profile.intro"), age_rows(content)
    who = profile_who(content, profile)
    head = texts.get("profile.saved" if saved else "profile.current", who=who)
    cited: list[Sourced] = [answer.row]
    if answer.upper_limit is not None:
        cited.append(answer.upper_limit)
    lines = [
        intake_feature.person(context, answer, who=head, footer=False),
        texts.raw("profile.used_for"),
        texts.raw("profile.how_to_change"),
        "",
        health_footer(context, sources_of(content, cited)),
    ]
    rows = [
        [
            (texts.raw("profile.button_change"), CHANGE),
            (texts.raw("profile.button_clear"), CLEAR),
        ]
    ]
    return "\n".join(lines), rows


def age_rows(content: Content) -> Rows:
    """Return one button per age group of the table (from one year on)."""
    buttons = [(label, f"{AGE}{years}") for years, label in age_bands(content.rda)]
    return [buttons[i : i + BANDS_PER_ROW] for i in range(0, len(buttons), BANDS_PER_ROW)]


def ask_sex(content: Content, age: int) -> tuple[str, Rows]:
    """Ask male or female, for an age where the figures differ."""
    texts = content.texts
    row = row_for(content.rda, age * 12)
    group = row.label if row is not None else str(age)
    rows = [
        [
            (texts.raw("profile.button_male"), f"{SEX}{age}:m"),
            (texts.raw("profile.button_female"), f"{SEX}{age}:f"),
        ]
    ]
    return texts.get("profile.ask_sex", group=group), rows


def ask_status(content: Content, age: int) -> tuple[str, Rows]:
    """Ask whether a woman is pregnant or breastfeeding."""
    texts = content.texts
    row = row_for(content.rda, age * 12)
    group = row.label if row is not None else str(age)
    rows = [
        [
            (texts.raw("profile.button_pregnant"), f"{STATUS}{age}:{STATUS_CODES['pregnant']}"),
            (texts.raw("profile.button_lactating"), f"{STATUS}{age}:{STATUS_CODES['lactating']}"),
        ],
        [(texts.raw("profile.button_neither"), f"{STATUS}{age}:n")],
    ]
    return texts.get("profile.ask_status", group=group), rows


def error_text(content: Content, error: IntakeError | TooYoung, text: str) -> str:
    """Explain what was wrong with `/profile <text>`, then show examples."""
    texts = content.texts
    if isinstance(error, TooYoung):
        first = texts.raw("profile.error_too_young")
    else:
        # /intake's explanation is its first line; its examples (the rest) are /intake's own.
        first = intake_feature.error_text(content, error, text).split("\n", 1)[0]
    return first + "\n" + texts.raw("profile.examples")


async def store(context: BotContext, user_id: int, profile: Profile) -> tuple[str, Rows]:
    """Save the profile and return the confirmation with its figures."""
    async with context.transaction() as session:
        await save_profile(session, user_id, profile)
    return profile_view(context, profile, saved=True)


def next_step(context: BotContext, profile: Profile) -> tuple[str, Rows] | None:
    """Return the next question for a profile chosen so far by buttons, or None when complete."""
    content = context.content
    if profile.sex is None and sex_matters(content.rda, profile.age_years):
        return ask_sex(content, profile.age_years)
    return None


# --------------------------------------------------------------------------------------------
# Handlers


async def profile_command(update: Update, context: BotContext) -> None:
    """Show the profile (or ask for it with buttons), set it in one line, or clear it."""
    user = context.user
    message = message_of(update)
    content = context.content
    texts = content.texts
    args = " ".join(context.args or []).strip()
    if not args:
        async with context.transaction() as session:
            profile = await profile_of(session, user.id)
        if profile is None:
            await reply(message, texts.raw("profile.intro"), age_rows(content))
        else:
            await reply(message, *profile_view(context, profile, saved=False))
        return
    if args.lower() in CLEAR_WORDS:
        async with context.transaction() as session:
            cleared = await clear_profile(session, user.id)
        if cleared:
            await reply(message, texts.get("profile.cleared", dv_mg=DAILY_VALUE_MG))
        else:
            await reply(message, texts.raw("profile.nothing_to_clear"))
        return
    answer = parse_profile(args, content.rda, content.supplements.upper_limits)
    if isinstance(answer, Profile):
        await reply(message, *await store(context, user.id, answer))
    elif isinstance(answer, NeedsSex):
        await reply(message, *ask_sex(content, answer.age_years))
    else:
        await reply(message, error_text(content, answer, args))


def age_of(data: str, prefix: str) -> int | None:
    """Return the age a profile button carries, when it is one a profile can have."""
    age = int(data.removeprefix(prefix).split(":", 1)[0])
    return age if 1 <= age <= MAX_AGE_YEARS else None


async def stale(update: Update, context: BotContext) -> None:
    """Say that a profile button is out of date."""
    query = update.callback_query
    if query is not None:
        await edit(query, context.content.texts.raw("profile.stale_button"))


async def on_age(update: Update, context: BotContext) -> None:
    """Take the age group; ask for the sex when it matters, else save."""
    query = await answer_query(update)
    user = context.user
    age = age_of(query.data or "", AGE)
    if age is None:
        await stale(update, context)
        return
    profile = Profile(age)
    question = next_step(context, profile)
    if question is not None:
        await edit(query, *question)
        return
    await edit(query, *await store(context, user.id, profile))


async def on_sex(update: Update, context: BotContext) -> None:
    """Take the sex; ask about pregnancy or breastfeeding where the table has figures."""
    query = await answer_query(update)
    user = context.user
    data = query.data or ""
    age = age_of(data, SEX)
    if age is None:
        await stale(update, context)
        return
    sex = SEX_OF_CODE[data[-1]]  # the pattern allows "m" and "f" only
    if sex == "female" and status_possible(context.content.rda, age):
        await edit(query, *ask_status(context.content, age))
        return
    await edit(query, *await store(context, user.id, Profile(age, sex)))


async def on_status(update: Update, context: BotContext) -> None:
    """Take pregnant / breastfeeding / neither, and save the profile."""
    query = await answer_query(update)
    user = context.user
    data = query.data or ""
    age = age_of(data, STATUS)
    code = data.rsplit(":", 1)[-1]
    profile = Profile(age or 0, "female", STATUS_OF_CODE.get(code))
    content = context.content
    if age is None or not isinstance(
        intake_of(profile, content.rda, content.supplements.upper_limits), Intake
    ):
        await stale(update, context)
        return
    await edit(query, *await store(context, user.id, profile))


async def on_change(update: Update, context: BotContext) -> None:
    """Show the age buttons in place, to set the profile again."""
    query = await answer_query(update)
    await edit(query, context.content.texts.raw("profile.intro"), age_rows(context.content))


async def on_clear(update: Update, context: BotContext) -> None:
    """Remove the profile, in place."""
    query = await answer_query(update)
    user = context.user
    texts = context.content.texts
    async with context.transaction() as session:
        cleared = await clear_profile(session, user.id)
    if cleared:
        await edit(query, texts.get("profile.cleared", dv_mg=DAILY_VALUE_MG))
    else:
        await edit(query, texts.raw("profile.nothing_to_clear"))


def register(app: BotApp) -> None:
    """Register /profile and its buttons."""
    app.add_handler(CommandHandler("profile", profile_command))
    app.add_handler(CallbackQueryHandler(on_age, pattern=rf"^{AGE}{AGE_DIGITS}$"))
    app.add_handler(CallbackQueryHandler(on_sex, pattern=rf"^{SEX}{AGE_DIGITS}:[mf]$"))
    app.add_handler(CallbackQueryHandler(on_status, pattern=rf"^{STATUS}{AGE_DIGITS}:[pln]$"))
    app.add_handler(CallbackQueryHandler(on_change, pattern=rf"^{CHANGE}$"))
    app.add_handler(CallbackQueryHandler(on_clear, pattern=rf"^{CLEAR}$"))
