"""/foods (per serving or per 100 g, by category, paged), /food X [amount], plain food names."""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.content import DAILY_VALUE_MG, Content, Food
from bot.context import BotApp, BotContext
from bot.domain.foods import (
    Amount,
    FoodQuery,
    amount_token,
    dv_percent,
    format_amount_mg,
    format_mg,
    format_mg_range,
    format_number,
    match_free_text,
    mg_range_for,
    paginate,
    parse_amount_token,
    parse_food_query,
    search,
    top_foods,
)
from bot.domain.profile import Targets
from bot.handlers.common import MENU, answer_query, message_of
from bot.handlers.diary_pieces import log_button, need_line, personal_targets
from bot.handlers.pieces import plain, sources_of
from bot.render import Button, edit, reply

FOODS_TOP = "foods:top:"  # + page (from 0)
FOODS_CAT = "foods:cat:"  # + category id + ":" + page
FOODS_TOP_100G = "foods:t100:"  # the same lists ranked per 100 g
FOODS_CAT_100G = "foods:c100:"
FOOD_SHOW = "food:show:"  # + food id, then ":" + amount token ("g50", "s2") when one was asked
MENU_FOODS = f"{MENU}foods"

PAGE_SIZE = 10
MAX_ECHO = 40  # characters of the user's words quoted back
CATEGORIES_PER_ROW = 2

Rows = list[list[Button]]


# --------------------------------------------------------------------------------------------
# Rendering


def food_sources(content: Content, foods: Sequence[Food]) -> str:
    """Return the names of every source behind these foods (per serving and per 100 g)."""
    return sources_of(content, foods, [s for f in foods for s in f.per_100g_source])


def foods_page(
    content: Content, category: str | None, page: int, *, per_100g: bool = False
) -> tuple[str, Rows]:
    """Render one page of the top-foods list (all foods, or one category) and its buttons.

    Ranked per serving, as the NIH ODS table is, or per 100 g (`per_100g`) so that servings
    of very different sizes can be compared. Dry, uncooked foods are marked either way.
    """
    texts = content.texts
    cat = content.category(category) if category else None
    ranked = top_foods(content.foods, cat.id if cat else None, per_100g=per_100g)
    page_of = paginate(ranked, page, PAGE_SIZE)
    if cat is None:
        title = texts.raw("foods.title_top_100g" if per_100g else "foods.title_top")
    else:
        title = texts.get("foods.title_category", emoji=cat.emoji, title=cat.title)
    page_key = "foods.page_100g" if per_100g else "foods.page"
    lines = [title, texts.get(page_key, page=page_of.index + 1, pages=page_of.count), ""]
    for rank, food in enumerate(page_of.items, start=page_of.first + 1):
        if per_100g:
            line = texts.get(
                "foods.line_100g", rank=rank, name=food.name, mg=format_amount_mg(food.mg_per_100g)
            )
        else:
            line = texts.get(
                "foods.line",
                rank=rank,
                name=food.name,
                mg=format_mg(food),
                serving=food.serving,
                dv=food.dv_percent,
            )
        if food.dry:
            line += texts.raw("foods.dry_mark")
        lines.append(line)
    footer = (
        texts.raw("foods.footer_100g")
        if per_100g
        else texts.get("foods.footer", dv_mg=DAILY_VALUE_MG)
    )
    lines += ["", footer, texts.get("common.source", source=food_sources(content, page_of.items))]

    def to_page(index: int, *, per_100g: bool = per_100g) -> str:
        if cat is not None:
            return f"{FOODS_CAT_100G if per_100g else FOODS_CAT}{cat.id}:{index}"
        return f"{FOODS_TOP_100G if per_100g else FOODS_TOP}{index}"

    rows: Rows = []
    nav: list[Button] = []
    if page_of.has_prev:
        nav.append((texts.raw("foods.button_prev"), to_page(page_of.index - 1)))
    if page_of.has_next:
        nav.append((texts.raw("foods.button_next"), to_page(page_of.index + 1)))
    if nav:
        rows.append(nav)
    switch = "foods.button_per_serving" if per_100g else "foods.button_per_100g"
    rows.append([(texts.raw(switch), to_page(0, per_100g=not per_100g))])
    others = [c for c in content.categories if cat is None or c.id != cat.id]
    prefix = FOODS_CAT_100G if per_100g else FOODS_CAT
    buttons = [
        (
            plain(texts.get("foods.button_category", emoji=c.emoji, title=c.title)),
            f"{prefix}{c.id}:0",
        )
        for c in others
        if any(f.category == c.id for f in top_foods(content.foods, c.id, per_100g=per_100g))
    ]
    rows += [
        buttons[i : i + CATEGORIES_PER_ROW] for i in range(0, len(buttons), CATEGORIES_PER_ROW)
    ]
    if cat is not None:
        top = FOODS_TOP_100G if per_100g else FOODS_TOP
        rows.append([(texts.raw("foods.button_top"), f"{top}0")])
    return "\n".join(lines), rows


def show_button(content: Content, food: Food, amount: Amount | None) -> Button:
    """Return a button that shows `food` (for the same amount, when one was asked)."""
    data = f"{FOOD_SHOW}{food.id}"
    if amount is not None:
        data += f":{amount_token(amount)}"
    return plain(content.texts.get("food.button_food", name=food.name)), data


def amount_lines(content: Content, food: Food, query: FoodQuery) -> list[str]:
    """Return the lines about the amount the user asked for (or why it can't be worked out)."""
    texts = content.texts
    amount = query.amount
    if query.bad_amount:
        return [texts.get("food.bad_amount", amount=query.bad_amount[:MAX_ECHO])]
    if amount is None:
        return []
    if amount.kind == "grams" and not food.grams_known:
        return [texts.get("food.no_grams", name=food.name)]
    low, high = mg_range_for(food, amount)
    mg, dv = format_mg_range(low, high), dv_percent(low)
    if amount.kind == "servings":
        count = format_number(amount.value)
        return [texts.get("food.amount_servings", count=count, serving=food.serving, mg=mg, dv=dv)]
    grams = format_number(amount.value)
    if food.per_100g_basis:
        return [
            texts.get(
                "food.amount_grams_basis", grams=grams, basis=food.per_100g_basis, mg=mg, dv=dv
            )
        ]
    return [texts.get("food.amount_grams", grams=grams, mg=mg, dv=dv)]


def food_answer(
    content: Content,
    food: Food,
    query: FoodQuery,
    others: tuple[Food, ...] = (),
    need: Targets | None = None,
) -> tuple[str, Rows]:
    """Render one food: per serving, per 100 g, the asked amount, its sources; and buttons.

    With `need` (the person's targets from their profile) it adds the share of their daily
    need; every answer has a "Log this" button for the amount asked (or one serving).
    """
    texts = content.texts
    lines = [
        texts.get("food.header", name=food.name),
        texts.get(
            "food.per_serving",
            mg=format_mg(food),
            serving=food.serving,
            dv=food.dv_percent,
            dv_mg=DAILY_VALUE_MG,
        ),
    ]
    per_100g = format_amount_mg(food.mg_per_100g)
    if not food.grams_known:
        lines.append(texts.raw("food.per_100g_unknown"))
    elif food.fdc_id is not None:
        lines.append(texts.get("food.per_100g_fdc", mg=per_100g, fdc_id=food.fdc_id))
    elif food.ndb:
        lines.append(texts.get("food.per_100g_sr", mg=per_100g, ndb=food.ndb))
    else:
        lines.append(texts.get("food.per_100g_computed", mg=per_100g))
    if food.grams_known and food.per_100g_basis:
        lines.append(texts.get("food.basis", basis=food.per_100g_basis))
    lines += amount_lines(content, food, query)
    amount = query.amount
    if amount is not None and amount.kind == "grams" and not food.grams_known:
        amount = None  # grams can't be worked out for it: measure and log one serving
    if need is not None:
        mg, _ = mg_range_for(food, amount or Amount("servings", 1.0))
        lines.append(need_line(texts, mg, need))
    if food.note:
        lines.append(texts.get("food.note", note=food.note))
    if food.warning:
        lines.append(texts.get("food.warning", warning=food.warning))
    lines += ["", texts.get("common.source", source=food_sources(content, [food]))]
    if food.warning:  # a health caution: end with the ask-a-doctor-or-pharmacist line
        lines.append(texts.raw("common.disclaimer"))
    rows: Rows = []
    if others:
        lines += ["", texts.raw("food.others")]
        rows += [[show_button(content, other, query.amount)] for other in others]
    rows.append([log_button(texts, food.id, amount)])
    rows.append([(texts.raw("food.button_browse"), f"{FOODS_TOP}0")])
    return "\n".join(lines), rows


def lookup_answer(content: Content, text: str, need: Targets | None = None) -> tuple[str, Rows]:
    """Answer `/food <text>`: the food, "did you mean", or what to try instead."""
    texts = content.texts
    query = parse_food_query(text)
    if not query.name:
        return texts.raw("food.usage"), []
    found = search(query.name, content.foods)
    if found.food is not None:
        return food_answer(content, found.food, query, found.others, need)
    if found.suggestions:
        rows = [[show_button(content, f, query.amount)] for f in found.suggestions]
        key = "food.which" if found.ambiguous else "food.did_you_mean"
        return texts.get(key, query=query.name[:MAX_ECHO]), rows
    return texts.get("food.not_found", query=query.name[:MAX_ECHO]), [
        [(texts.raw("food.button_browse"), f"{FOODS_TOP}0")]
    ]


# --------------------------------------------------------------------------------------------
# Handlers


async def foods_command(update: Update, context: BotContext) -> None:
    """Send the top foods by magnesium per serving, with browse buttons."""
    text, rows = foods_page(context.content, None, 0)
    await reply(message_of(update), text, rows)


async def on_foods_menu(update: Update, context: BotContext) -> None:
    """Answer the /start menu's Foods button with the top-foods list."""
    await answer_query(update)
    text, rows = foods_page(context.content, None, 0)
    await reply(message_of(update), text, rows)


async def on_foods_browse(update: Update, context: BotContext) -> None:
    """Show another page or category of the foods list, in place."""
    query = await answer_query(update)
    data = query.data or ""
    per_100g = data.startswith((FOODS_TOP_100G, FOODS_CAT_100G))
    if data.startswith((FOODS_CAT, FOODS_CAT_100G)):
        rest = data.removeprefix(FOODS_CAT_100G if per_100g else FOODS_CAT)
        category, _, page = rest.rpartition(":")
        text, rows = foods_page(context.content, category, int(page), per_100g=per_100g)
    else:
        page = data.removeprefix(FOODS_TOP_100G if per_100g else FOODS_TOP)
        text, rows = foods_page(context.content, None, int(page), per_100g=per_100g)
    await edit(query, text, rows)


async def food_command(update: Update, context: BotContext) -> None:
    """Answer /food X [amount] with the closest food, or suggest names."""
    need = await personal_targets(context, update)
    text, rows = lookup_answer(context.content, " ".join(context.args or []), need)
    await reply(message_of(update), text, rows)


async def on_food_show(update: Update, context: BotContext) -> None:
    """Show the food a suggestion button names, in place of the suggestions."""
    query = await answer_query(update)
    food_id, _, token = (query.data or "").removeprefix(FOOD_SHOW).partition(":")
    chosen = context.content.food(food_id)
    if chosen is None:  # an old button after the food was renamed
        text, rows = lookup_answer(context.content, "")
    else:
        amount = parse_amount_token(token) if token else None
        need = await personal_targets(context, update)
        text, rows = food_answer(context.content, chosen, FoodQuery(chosen.name, amount), (), need)
    await edit(query, text, rows)


async def food_from_text(update: Update, context: BotContext, text: str) -> bool:
    """Answer plain text that names a food (e.g. "pumpkin seeds 50g") as /food would."""
    matched = match_free_text(text, context.content.foods)
    if matched is None:
        return False
    chosen, query = matched
    need = await personal_targets(context, update)
    answer, rows = food_answer(context.content, chosen, query, (), need)
    await reply(message_of(update), answer, rows)
    return True


def register(app: BotApp) -> None:
    """Register /foods, /food, their buttons, and plain-text food lookups."""
    app.add_handler(CommandHandler("foods", foods_command))
    app.add_handler(CommandHandler("food", food_command))
    app.add_handler(CallbackQueryHandler(on_foods_menu, pattern=rf"^{re.escape(MENU_FOODS)}$"))
    app.add_handler(
        CallbackQueryHandler(
            on_foods_browse,
            pattern=(
                rf"^(?:(?:{FOODS_TOP}|{FOODS_TOP_100G})\d{{1,3}}"
                rf"|(?:{FOODS_CAT}|{FOODS_CAT_100G})\w{{1,40}}:\d{{1,3}})$"
            ),
        )
    )
    app.add_handler(
        CallbackQueryHandler(
            on_food_show, pattern=rf"^{FOOD_SHOW}\w{{1,40}}(?::[gs][\d.]{{1,7}})?$"
        )
    )
