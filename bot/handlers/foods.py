"""/foods (top foods, by category, paged) and /food X [amount]; plain food names too."""

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
from bot.handlers import fallback
from bot.handlers.common import MENU, answer_query, message_of
from bot.handlers.diary_pieces import log_button, need_line, personal_targets
from bot.handlers.pieces import plain, sources_of
from bot.render import Button, edit, reply

FOODS_TOP = "foods:top:"  # + page (from 0)
FOODS_CAT = "foods:cat:"  # + category id + ":" + page
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


def foods_page(content: Content, category: str | None, page: int) -> tuple[str, Rows]:
    """Render one page of the top-foods list (all foods, or one category) and its buttons."""
    texts = content.texts
    cat = content.category(category) if category else None
    page_of = paginate(top_foods(content.foods, cat.id if cat else None), page, PAGE_SIZE)
    if cat is None:
        title = texts.raw("foods.title_top")
    else:
        title = texts.get("foods.title_category", emoji=cat.emoji, title=cat.title)
    lines = [title, texts.get("foods.page", page=page_of.index + 1, pages=page_of.count), ""]
    for rank, food in enumerate(page_of.items, start=page_of.first + 1):
        lines.append(
            texts.get(
                "foods.line",
                rank=rank,
                name=food.name,
                mg=format_mg(food),
                serving=food.serving,
                dv=food.dv_percent,
            )
        )
    lines += [
        "",
        texts.get("foods.footer", dv_mg=DAILY_VALUE_MG),
        texts.get("common.source", source=food_sources(content, page_of.items)),
    ]

    def to_page(index: int) -> str:
        return f"{FOODS_CAT}{cat.id}:{index}" if cat else f"{FOODS_TOP}{index}"

    rows: Rows = []
    nav: list[Button] = []
    if page_of.has_prev:
        nav.append((texts.raw("foods.button_prev"), to_page(page_of.index - 1)))
    if page_of.has_next:
        nav.append((texts.raw("foods.button_next"), to_page(page_of.index + 1)))
    if nav:
        rows.append(nav)
    others = [c for c in content.categories if cat is None or c.id != cat.id]
    buttons = [
        (
            plain(texts.get("foods.button_category", emoji=c.emoji, title=c.title)),
            f"{FOODS_CAT}{c.id}:0",
        )
        for c in others
        if any(f.category == c.id for f in content.foods)
    ]
    rows += [
        buttons[i : i + CATEGORIES_PER_ROW] for i in range(0, len(buttons), CATEGORIES_PER_ROW)
    ]
    if cat is not None:
        rows.append([(texts.raw("foods.button_top"), f"{FOODS_TOP}0")])
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
    per_100g = format_number(food.mg_per_100g)
    if not food.grams_known:
        lines.append(texts.raw("food.per_100g_unknown"))
    elif food.fdc_id is not None:
        lines.append(texts.get("food.per_100g_fdc", mg=per_100g, fdc_id=food.fdc_id))
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
    lines += ["", texts.get("common.source", source=food_sources(content, [food]))]
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
        return texts.get("food.did_you_mean", query=query.name[:MAX_ECHO]), rows
    return texts.get("food.not_found", query=query.name[:MAX_ECHO]), [
        [(texts.raw("food.button_browse"), f"{FOODS_TOP}0")]
    ]


# --------------------------------------------------------------------------------------------
# Handlers


async def foods(update: Update, context: BotContext) -> None:
    """Send the top foods by magnesium per serving, with browse buttons."""
    text, rows = foods_page(context.content, None, 0)
    await reply(message_of(update), text, rows)


async def foods_menu(update: Update, context: BotContext) -> None:
    """Answer the /start menu's Foods button with the top-foods list."""
    await answer_query(update)
    text, rows = foods_page(context.content, None, 0)
    await reply(message_of(update), text, rows)


async def foods_browse(update: Update, context: BotContext) -> None:
    """Show another page or category of the foods list, in place."""
    query = await answer_query(update)
    data = query.data or ""
    if data.startswith(FOODS_CAT):
        category, _, page = data.removeprefix(FOODS_CAT).rpartition(":")
        text, rows = foods_page(context.content, category, int(page))
    else:
        text, rows = foods_page(context.content, None, int(data.removeprefix(FOODS_TOP)))
    await edit(query, text, rows)


async def food(update: Update, context: BotContext) -> None:
    """Answer /food X [amount] with the closest food, or suggest names."""
    need = await personal_targets(context, update)
    text, rows = lookup_answer(context.content, " ".join(context.args or []), need)
    await reply(message_of(update), text, rows)


async def food_show(update: Update, context: BotContext) -> None:
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
    app.add_handler(CommandHandler("foods", foods))
    app.add_handler(CommandHandler("food", food))
    app.add_handler(CallbackQueryHandler(foods_menu, pattern=rf"^{re.escape(MENU_FOODS)}$"))
    app.add_handler(
        CallbackQueryHandler(
            foods_browse, pattern=rf"^(?:{FOODS_TOP}\d{{1,3}}|{FOODS_CAT}\w{{1,40}}:\d{{1,3}})$"
        )
    )
    app.add_handler(
        CallbackQueryHandler(food_show, pattern=rf"^{FOOD_SHOW}\w{{1,40}}(?::[gs][\d.]{{1,7}})?$")
    )
    if food_from_text not in fallback.TEXT_HANDLERS:
        fallback.TEXT_HANDLERS.append(food_from_text)
