"""/intake (alias /rda): the daily-needs table, or one person's RDA and supplement upper limit."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.content import Content, RdaRow, Sourced
from bot.context import BotApp, BotContext
from bot.domain.profile import intake_of
from bot.domain.rda import (
    MAX_AGE_YEARS,
    Intake,
    IntakeError,
    IntakeQuery,
    Status,
    age_parts,
    lookup,
    status_ages,
)
from bot.handlers.common import health_footer, message_of
from bot.handlers.diary_pieces import profile_who
from bot.handlers.pieces import sources_of
from bot.render import reply
from bot.services.diary import profile_of

MAX_ECHO = 40  # characters of the user's input quoted back in an error


def table(context: BotContext) -> str:
    """Render the whole RDA table, how to ask for one person, and the footer."""
    content = context.content
    texts = content.texts
    lines = [texts.raw("intake.table_title"), ""]
    for row in content.rda:
        if row.male == row.female:
            lines.append(
                texts.get("intake.table_same", label=row.label, mg=row.male, kind=row.kind)
            )
        else:
            lines.append(
                texts.get(
                    "intake.table_sexes",
                    label=row.label,
                    male=row.male,
                    female=row.female,
                    kind=row.kind,
                )
            )
        if row.pregnancy is not None and row.lactation is not None:
            lines.append(
                texts.get("intake.table_status", pregnancy=row.pregnancy, lactation=row.lactation)
            )
    lines += [
        texts.raw("intake.table_kinds"),
        "",
        texts.raw("intake.usage"),
        texts.raw("intake.examples"),
        texts.raw("intake.supplements_hint"),
        "",
        health_footer(context, sources_of(content, list(content.rda))),
    ]
    return "\n".join(lines)


def age_text(content: Content, age_months: int) -> str:
    """Say an age in words ("35 years", "5 months", "1 year")."""
    texts = content.texts
    unit, n = age_parts(age_months)
    if unit == "months":
        return texts.raw("intake.age_one_month") if n == 1 else texts.get("intake.age_months", n=n)
    return texts.raw("intake.age_one_year") if n == 1 else texts.get("intake.age_years", n=n)


def kind_text(content: Content, row: RdaRow) -> str:
    """Name the kind of figure: an Adequate Intake for babies, else an RDA."""
    if row.kind == "AI":
        return content.texts.raw("intake.kind_ai")
    return content.texts.raw("intake.kind_rda")


def who_line(content: Content, query: IntakeQuery) -> str:
    """Return the first line of one person's answer ("Female, 35 years")."""
    texts = content.texts
    age = age_text(content, query.age_months)
    if query.status == "pregnant":
        return texts.get("intake.who_pregnant", age=age)
    if query.status == "lactating":
        return texts.get("intake.who_lactating", age=age)
    if query.sex == "male":
        return texts.get("intake.who_male", age=age)
    if query.sex == "female":
        return texts.get("intake.who_female", age=age)
    return texts.get("intake.who_any", age=age)


def person(
    context: BotContext, answer: Intake, *, who: str | None = None, footer: bool = True
) -> str:
    """Render one person's recommended intake, their supplement upper limit and the footer.

    `who` replaces the first line (a profile names its age group, not an exact age).
    """
    content = context.content
    texts = content.texts
    query, row = answer.query, answer.row
    if who is None:
        who = who_line(content, query)
    kind = kind_text(content, row)
    lines = [who]
    if answer.mg is not None:
        lines.append(texts.get("intake.amount", kind=kind, mg=answer.mg, label=row.label))
    else:
        lines.append(
            texts.get(
                "intake.amount_both",
                kind=kind,
                label=row.label,
                male=answer.male_mg,
                female=answer.female_mg,
            )
        )
        years = query.age_months // 12
        lines.append(texts.get("intake.amount_both_hint", age=years))
    cited: list[Sourced] = [row]
    limit = answer.upper_limit
    if limit is not None:
        cited.append(limit)
        if limit.mg is None:
            lines.append(texts.get("intake.ul_not_set", label=limit.label))
        else:
            lines.append(texts.get("intake.ul", mg=limit.mg, label=limit.label))
    if footer:
        lines += ["", health_footer(context, sources_of(content, cited))]
    return "\n".join(lines)


async def from_profile(update: Update, context: BotContext) -> str | None:
    """Return the person's own figures from their /profile, or None without a profile."""
    if update.effective_user is None:
        return None
    async with context.transaction() as session:
        profile = await profile_of(session, update.effective_user.id)
    if profile is None:
        return None
    content = context.content
    answer = intake_of(profile, content.rda, content.supplements.upper_limits)
    if not isinstance(answer, Intake):
        return None
    who = content.texts.get("profile.intake_header", who=profile_who(content, profile))
    return person(context, answer, who=who)


def error_text(content: Content, error: IntakeError, text: str) -> str:
    """Explain what was wrong with the request, then show examples."""
    texts = content.texts
    echo = text[:MAX_ECHO]
    if error is IntakeError.UNKNOWN_WORD:
        first = texts.get("intake.error_unknown_word", text=echo)
    elif error is IntakeError.NO_AGE:
        first = texts.raw("intake.error_no_age")
    elif error is IntakeError.BAD_AGE:
        first = texts.get("intake.error_bad_age", text=echo, max_age=MAX_AGE_YEARS)
    elif error is IntakeError.MALE_STATUS:
        first = texts.raw("intake.error_male_status")
    elif error is IntakeError.NO_PREGNANCY_VALUE:
        first = status_error(content, "pregnant")
    elif error is IntakeError.NO_LACTATION_VALUE:
        first = status_error(content, "lactating")
    else:
        first = texts.raw("intake.error_not_covered")
    return first + "\n" + texts.raw("intake.examples")


def status_error(content: Content, status: Status) -> str:
    """Say which ages have pregnancy (or breastfeeding) figures."""
    texts = content.texts
    if status == "pregnant":
        ages = status_ages(content.rda, "pregnant")
        if ages is None:
            return texts.raw("intake.error_not_covered")
        return texts.get("intake.error_no_pregnancy", age_from=ages[0], age_to=ages[1])
    ages = status_ages(content.rda, "lactating")
    if ages is None:
        return texts.raw("intake.error_not_covered")
    return texts.get("intake.error_no_lactation", age_from=ages[0], age_to=ages[1])


async def intake_command(update: Update, context: BotContext) -> None:
    """Send the RDA table, or one person's RDA and upper limit for `/intake 35 f`."""
    text = " ".join(context.args or [])
    if not text.strip():
        own = await from_profile(update, context)
        if own is not None:  # theirs first, then the whole table
            await reply(message_of(update), own)
        await reply(message_of(update), table(context))
        return
    content = context.content
    answer = lookup(text, content.rda, content.supplements.upper_limits)
    if isinstance(answer, IntakeError):
        await reply(message_of(update), error_text(content, answer, text))
    else:
        await reply(message_of(update), person(context, answer))


def register(app: BotApp) -> None:
    """Register /intake and its alias /rda."""
    app.add_handler(CommandHandler(["intake", "rda"], intake_command))
