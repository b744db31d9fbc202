"""Reference answers: /symptoms, /fact, /supplements, /interactions, /faq and /sources.

Every health answer ends with the disclaimer, in every message it is split into.
"""

from __future__ import annotations

import re

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.content import Content, Fact, Interaction, InteractionGroup
from bot.context import BotApp, BotContext
from bot.domain.facts import pick_fact
from bot.domain.medicines import find_medicine
from bot.domain.rda import adult_upper_limit
from bot.handlers.common import MENU, answer_query, health_footer, message_of
from bot.handlers.pieces import plain, send_blocks, sources_of, unique
from bot.render import Button, edit, reply

FACT_NEXT = "fact:next"
FAQ = "faq:"  # + question id
FAQ_LIST = "faq:list"  # the back button (no question has the id "list": see faq_answer)
MENU_SYMPTOMS = f"{MENU}symptoms"
MENU_FACT = f"{MENU}fact"
MENU_SUPPLEMENTS = f"{MENU}supplements"
INTER_INDEX = "int:index"  # the groups of medicines
INTER_GROUP = "int:group:"  # + group id
INTER_SHOW = "int:show:"  # + medicine id
GROUPS_PER_ROW = 2
MAX_ECHO = 40  # characters of the user's words quoted back

Rows = list[list[Button]]


# --------------------------------------------------------------------------------------------
# /symptoms


def symptoms_blocks(context: BotContext) -> tuple[list[str], str]:
    """Render the symptom sections, each a block, and the footer that ends every message.

    The items carry no source line of their own, so the footer (their sources and the
    disclaimer) closes each message the answer is split into.
    """
    content = context.content
    texts = content.texts
    blocks = [texts.raw("symptoms.title")]
    for section in content.symptoms:
        lines = [texts.get("symptoms.section", title=section.title)]
        if section.intro:
            lines.append(texts.get("symptoms.section_intro", intro=section.intro))
        lines += [texts.get("symptoms.item", text=item.text) for item in section.items]
        blocks.append("\n".join(lines))
    items = [item for section in content.symptoms for item in section.items]
    return blocks, health_footer(context, sources_of(content, items))


async def symptoms_command(update: Update, context: BotContext) -> None:
    """Send the signs of low magnesium, who is at risk and when to get help."""
    if update.callback_query is not None:
        await answer_query(update)
    blocks, footer = symptoms_blocks(context)
    await send_blocks(message_of(update), blocks, footer=footer)


# --------------------------------------------------------------------------------------------
# /fact


def fact_text(context: BotContext, shown: str = "") -> tuple[str, Rows]:
    """Pick a fact other than the one in `shown` (the message's text) and render it.

    The fact on screen is read back from the message itself, so nothing is kept per user.
    """
    content = context.content
    texts = content.texts
    last = next((f.id for f in content.facts if f.text in shown), None) if shown else None
    chosen = pick_fact(content.facts, last, context.deps.rng)
    return fact_message(content, chosen), [[(texts.raw("fact.button_next"), FACT_NEXT)]]


def fact_message(content: Content, chosen: Fact) -> str:
    """Render one fact with its source, and the disclaimer when it is about health."""
    texts = content.texts
    text = "\n".join(
        [
            texts.raw("fact.title"),
            "",
            texts.get("fact.text", text=chosen.text),
            "",
            texts.get("common.source", source=content.source_names(chosen)),
        ]
    )
    return content.with_disclaimer(text, chosen)


async def fact_command(update: Update, context: BotContext) -> None:
    """Send a random fact with its source and an "another fact" button."""
    if update.callback_query is not None:
        await answer_query(update)
    text, rows = fact_text(context)
    await reply(message_of(update), text, rows)


async def on_fact_next(update: Update, context: BotContext) -> None:
    """Replace the fact on the message with another one."""
    query = await answer_query(update)
    message = query.message
    shown = message.text or "" if isinstance(message, Message) else ""
    text, rows = fact_text(context, shown)
    await edit(query, text, rows)


# --------------------------------------------------------------------------------------------
# /supplements


def supplements_blocks(context: BotContext) -> list[str]:
    """Render the forms compared, then the upper limit and what counts toward it.

    Each block names its own sources; the disclaimer is added to every message when sent.
    """
    content = context.content
    texts = content.texts
    supplements = content.supplements
    blocks = [texts.raw("supplements.title")]
    for form in supplements.forms:
        lines = [
            texts.get("supplements.form", name=form.name),
            texts.get("supplements.absorption", absorption=form.absorption),
            texts.get("supplements.common_use", common_use=form.common_use),
        ]
        if form.note:
            lines.append(texts.get("supplements.note", note=form.note))
        lines.append(texts.get("common.source", source=content.source_names(form)))
        blocks.append("\n".join(lines))
    limit_lines = [texts.raw("supplements.ul_title")]
    adult = adult_upper_limit(supplements.upper_limits)
    if adult is not None:
        limit_lines.append(texts.get("supplements.ul_adult", label=adult.label, mg=adult.mg))
    limit_lines += [
        texts.get("supplements.ul_covers", text=supplements.ul_covers.text),
        "",
        texts.raw("supplements.ul_by_age"),
    ]
    for limit in supplements.upper_limits:
        if limit.mg is None:
            limit_lines.append(texts.get("supplements.ul_line_not_set", label=limit.label))
        else:
            limit_lines.append(texts.get("supplements.ul_line", label=limit.label, mg=limit.mg))
    cited = [*supplements.upper_limits, supplements.ul_covers]
    limit_lines += ["", texts.get("common.source", source=sources_of(content, cited))]
    blocks.append("\n".join(limit_lines))
    return blocks


async def supplements_command(update: Update, context: BotContext) -> None:
    """Send the supplement forms compared and the upper limit for supplements."""
    if update.callback_query is not None:
        await answer_query(update)
    footer = context.content.texts.raw("common.disclaimer")
    await send_blocks(message_of(update), supplements_blocks(context), footer=footer)


# --------------------------------------------------------------------------------------------
# /interactions: an index of groups, a page per group, and `/interactions <medicine>`


def medicine_block(content: Content, item: Interaction, closing: str) -> str:
    """Render one medicine: what it is, what happens, the timing, then `closing` (its sources)."""
    texts = content.texts
    return "\n".join(
        [
            texts.get("interactions.drug_class", drug_class=item.drug_class),
            texts.get("interactions.examples", examples=item.examples),
            texts.get("interactions.effect", effect=item.effect),
            texts.get("interactions.timing", timing=item.timing),
            closing,
        ]
    )


def group_button(content: Content, group: InteractionGroup) -> Button:
    """Return the button that opens a group's page."""
    label = content.texts.get("interactions.button_group", emoji=group.emoji, title=group.title)
    return plain(label), f"{INTER_GROUP}{group.id}"


def medicine_button(content: Content, item: Interaction) -> Button:
    """Return the button that opens one medicine's page."""
    label = content.texts.get("interactions.button_medicine", name=item.name)
    return plain(label), f"{INTER_SHOW}{item.id}"


def group_rows(content: Content) -> Rows:
    """Return one button per group, two to a row."""
    buttons = [group_button(content, g) for g in content.interaction_groups]
    return [buttons[i : i + GROUPS_PER_ROW] for i in range(0, len(buttons), GROUPS_PER_ROW)]


def index_rows(content: Content) -> Rows:
    """Return the single "all medicines" button under a page."""
    return [[(content.texts.raw("interactions.button_index"), INTER_INDEX)]]


def interactions_index(content: Content) -> tuple[str, Rows]:
    """Render the groups with the medicines in each, and a button per group."""
    texts = content.texts
    lines = [texts.raw("interactions.title"), texts.raw("interactions.intro"), ""]
    for group in content.interaction_groups:
        names = ", ".join(i.name for i in content.interactions if i.group == group.id)
        lines.append(
            texts.get("interactions.index_line", emoji=group.emoji, title=group.title, names=names)
        )
    lines += [
        "",
        texts.raw("interactions.index_hint"),
        "",
        texts.raw("interactions.index_sources"),
        texts.raw("common.disclaimer"),
    ]
    return "\n".join(lines), group_rows(content)


def group_page(content: Content, group_id: str) -> tuple[str, Rows]:
    """Render every medicine of one group, each with its sources; unknown ids show the index."""
    texts = content.texts
    group = next((g for g in content.interaction_groups if g.id == group_id), None)
    if group is None:  # an old button after the groups changed
        return interactions_index(content)
    blocks = [texts.get("interactions.group_title", emoji=group.emoji, title=group.title)]
    for item in content.interactions:
        if item.group == group.id:
            source = texts.get("common.source", source=content.source_names(item))
            blocks.append(medicine_block(content, item, source))
    blocks.append(texts.raw("common.disclaimer"))
    return "\n\n".join(blocks), index_rows(content)


def medicine_page(content: Content, item: Interaction) -> tuple[str, Rows]:
    """Render one medicine with its sources and the disclaimer, and a way to its group."""
    footer = "\n".join(
        [
            content.texts.get("common.source", source=content.source_names(item)),
            content.texts.raw("common.disclaimer"),
        ]
    )
    rows: Rows = []
    group = next((g for g in content.interaction_groups if g.id == item.group), None)
    if group is not None and sum(i.group == group.id for i in content.interactions) > 1:
        rows.append([group_button(content, group)])
    return medicine_block(content, item, footer), [*rows, *index_rows(content)]


def medicine_answer(content: Content, query: str) -> tuple[str, Rows]:
    """Answer `/interactions <medicine>`: that medicine, a choice, or what to do instead."""
    texts = content.texts
    found = find_medicine(query, content.interactions)
    if found.found is not None:
        return medicine_page(content, found.found)
    echo = query[:MAX_ECHO]
    disclaimer = texts.raw("common.disclaimer")
    if found.suggestions:
        key = "interactions.which" if found.ambiguous else "interactions.maybe"
        rows: Rows = [[medicine_button(content, item)] for item in found.suggestions]
        return f"{texts.get(key, query=echo)}\n\n{disclaimer}", [*rows, *index_rows(content)]
    return f"{texts.get('interactions.not_found', query=echo)}\n\n{disclaimer}", group_rows(
        content
    )


async def interactions_command(update: Update, context: BotContext) -> None:
    """Send the medicine groups, or the timing for the medicine named after the command."""
    query = " ".join(context.args or []).strip()
    if query:
        text, rows = medicine_answer(context.content, query)
    else:
        text, rows = interactions_index(context.content)
    await reply(message_of(update), text, rows)


async def on_interactions_button(update: Update, context: BotContext) -> None:
    """Show a group, one medicine or the index again, in place of the message pressed."""
    query = await answer_query(update)
    data = query.data or ""
    content = context.content
    if data.startswith(INTER_GROUP):
        text, rows = group_page(content, data.removeprefix(INTER_GROUP))
    elif data.startswith(INTER_SHOW):
        wanted = data.removeprefix(INTER_SHOW)
        item = next((i for i in content.interactions if i.id == wanted), None)
        text, rows = medicine_page(content, item) if item else interactions_index(content)
    else:
        text, rows = interactions_index(content)
    await edit(query, text, rows)


# --------------------------------------------------------------------------------------------
# /faq


def faq_list(content: Content, *, missing: bool = False) -> tuple[str, Rows]:
    """Render the questions as buttons (saying so first when a pressed one is gone)."""
    texts = content.texts
    intro = texts.raw("faq.missing") if missing else texts.raw("faq.intro")
    rows = [[(q.question, f"{FAQ}{q.id}")] for q in content.faq if q.id != "list"]
    return texts.raw("faq.title") + "\n" + intro, rows


def faq_answer(context: BotContext, question_id: str) -> tuple[str, Rows]:
    """Render one answer with its sources, the health footer and a back button."""
    content = context.content
    texts = content.texts
    item = next((q for q in content.faq if q.id == question_id), None)
    if item is None:
        return faq_list(content, missing=True)
    text = "\n".join(
        [
            texts.get("faq.question", question=item.question),
            "",
            texts.get("faq.answer", answer=item.answer),
            "",
            # Every question here is about health, doses or medicines: all get the footer.
            health_footer(context, content.source_names(item)),
        ]
    )
    return text, [[(texts.raw("faq.button_back"), FAQ_LIST)]]


async def faq_command(update: Update, context: BotContext) -> None:
    """Send the common questions as buttons."""
    text, rows = faq_list(context.content)
    await reply(message_of(update), text, rows)


async def on_faq_button(update: Update, context: BotContext) -> None:
    """Show the answer to the question pressed, or the list again (back button), in place."""
    query = await answer_query(update)
    data = query.data or ""
    if data == FAQ_LIST:
        text, rows = faq_list(context.content)
    else:
        text, rows = faq_answer(context, data.removeprefix(FAQ))
    await edit(query, text, rows)


# --------------------------------------------------------------------------------------------
# /sources

SOURCE_GROUPS = (
    "sources.group_main",
    "sources.group_foods",
    "sources.group_intake",
    "sources.group_supplements",
    "sources.group_interactions",
    "sources.group_symptoms",
    "sources.group_facts",
)
MAIN_SOURCE_FEATURES = 4  # a source cited by this many features is a main reference


def cited_by_group(content: Content) -> list[tuple[str, list[str]]]:
    """Group source ids: main references first, then by the feature that cites them.

    Each source is listed once: sources most features rely on (the NIH ODS sheets) come first,
    every other one under the first feature (in SOURCE_GROUPS order) that cites it, and
    sources nothing cites go last.
    """
    supplements = content.supplements
    by_feature = [
        [s for f in content.foods for s in (*f.source, *f.per_100g_source)],
        [s for item in (*content.rda, *supplements.upper_limits) for s in item.source],
        [s for item in (*supplements.forms, supplements.ul_covers) for s in item.source],
        [s for item in content.interactions for s in item.source],
        [s for section in content.symptoms for item in section.items for s in item.source],
        [s for item in (*content.facts, *content.tips, *content.faq) for s in item.source],
    ]
    main = [
        s
        for s in unique([s for ids in by_feature for s in ids])
        if sum(s in ids for ids in by_feature) >= MAIN_SOURCE_FEATURES
    ]
    seen: set[str] = set()
    out: list[tuple[str, list[str]]] = []
    for key, ids in zip(SOURCE_GROUPS, [main, *by_feature], strict=True):
        fresh = [s for s in unique(ids) if s not in seen]
        seen.update(fresh)
        if fresh:
            out.append((key, fresh))
    rest = [s for s in content.sources if s not in seen]
    if rest:
        out.append(("sources.group_other", rest))
    return out


def safe_url(url: str) -> str:
    """Keep a URL from closing the href attribute it is placed in."""
    return url.replace('"', "%22")


def sources_blocks(content: Content) -> list[str]:
    """Render every source as a link, grouped by what it is used for."""
    texts = content.texts
    blocks = [texts.raw("sources.title") + "\n" + texts.raw("sources.intro")]
    for key, ids in cited_by_group(content):
        lines = [texts.raw(key)]
        for source_id in ids:
            source = content.sources[source_id]
            lines.append(texts.get("sources.line", url=safe_url(source.url), name=source.name))
        blocks.append("\n".join(lines))
    return blocks


async def sources_command(update: Update, context: BotContext) -> None:
    """Send where the facts come from, with links."""
    await send_blocks(message_of(update), sources_blocks(context.content))


def register(app: BotApp) -> None:
    """Register the reference commands and their buttons."""
    app.add_handler(CommandHandler("symptoms", symptoms_command))
    app.add_handler(CommandHandler("fact", fact_command))
    app.add_handler(CommandHandler("supplements", supplements_command))
    app.add_handler(CommandHandler("interactions", interactions_command))
    app.add_handler(CommandHandler("faq", faq_command))
    app.add_handler(CommandHandler("sources", sources_command))
    app.add_handler(
        CallbackQueryHandler(symptoms_command, pattern=rf"^{re.escape(MENU_SYMPTOMS)}$")
    )
    app.add_handler(CallbackQueryHandler(fact_command, pattern=rf"^{re.escape(MENU_FACT)}$"))
    app.add_handler(
        CallbackQueryHandler(supplements_command, pattern=rf"^{re.escape(MENU_SUPPLEMENTS)}$")
    )
    app.add_handler(CallbackQueryHandler(on_fact_next, pattern=rf"^{re.escape(FACT_NEXT)}$"))
    app.add_handler(CallbackQueryHandler(on_faq_button, pattern=rf"^{FAQ}\w{{1,60}}$"))
    app.add_handler(
        CallbackQueryHandler(
            on_interactions_button,
            pattern=rf"^(?:{INTER_INDEX}|{INTER_GROUP}\w{{1,40}}|{INTER_SHOW}\w{{1,40}})$",
        )
    )
