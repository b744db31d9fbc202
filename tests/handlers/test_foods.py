from __future__ import annotations

import math
import re

import pytest

from bot.console.fake_api import strip_html
from bot.content import Content
from bot.domain.foods import MAX_GRAMS, Amount, format_mg
from bot.handlers import TEXT_ANSWERS
from bot.handlers.foods import PAGE_SIZE, food_from_text, foods_page, show_button
from tests.support.chat import Chat
from tests.support.fake_request import FakeRequest

ERROR = "something went wrong"


def shown(chat: Chat, message_id: int) -> str:
    """The text of one of the bot's messages as a person sees it now (after edits)."""
    return strip_html(chat.fake.api.messages[(chat.user_id, message_id)].text)


def callback_data_fits(chat: Chat) -> None:
    for _, data in chat.buttons():
        assert 0 < len(data.encode()) <= 64


async def test_foods_lists_the_richest_first_with_dv_and_browse_buttons(
    chat: Chat, content: Content
) -> None:
    reply = await chat.send("/foods")
    assert "Foods richest in magnesium" in reply
    assert f"Page 1 of {math.ceil(len(content.foods) / PAGE_SIZE)}" in reply
    richest = max(content.foods, key=lambda f: f.mg_per_serving)
    assert f"1. {richest.name}: {format_mg(richest)} mg in {richest.serving}" in reply
    assert f"({richest.dv_percent}% DV)" in reply
    assert "2. Pumpkin seeds, roasted: 156 mg in 1 ounce (28 g) (37% DV)" in reply
    assert "Daily Value of 420 mg" in reply
    assert "Source: " in reply
    data = [d for _, d in chat.buttons()]
    assert "foods:top:1" in data
    assert "foods:cat:nuts_seeds:0" in data
    assert not any(d.startswith("foods:top:0") for d in data)  # no "previous" on page 1
    labels = [label for label, _ in chat.buttons()]
    assert "🥛 Milk, yogurt and soy milk" in labels
    callback_data_fits(chat)


def test_every_button_fits_in_64_bytes(content: Content) -> None:
    for food in content.foods:
        for amount in (None, Amount("grams", MAX_GRAMS), Amount("servings", 1.5)):
            _, data = show_button(content, food, amount)
            assert len(data.encode()) <= 64
    for category in (None, *(c.id for c in content.categories)):
        for page in range(3):
            _, rows = foods_page(content, category, page)
            assert all(len(d.encode()) <= 64 for row in rows for _, d in row)


async def test_paging_edits_the_message_in_place(chat: Chat, fake: FakeRequest) -> None:
    await chat.send("/foods")
    sent_before = len(fake.sent())
    message_id = chat.last_message_id()

    await chat.press("foods:top:1", message_id)
    assert len(fake.sent()) == sent_before  # edited, not sent again
    edit = fake.edits()[-1]
    assert int(edit["message_id"]) == message_id
    text = shown(chat, message_id)
    assert "Page 2 of " in text
    assert "11. " in text
    data = [d for _, d in chat.buttons()]
    assert {"foods:top:0", "foods:top:2"} <= set(data)
    assert fake.of("answerCallbackQuery"), "the press was not answered"

    await chat.press("foods:top:99", message_id)  # an out-of-range page shows the last one
    assert re.search(r"Page (\d+) of \1\.", shown(chat, message_id))


async def test_category_pages_show_only_that_category(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    await chat.send("/foods")
    message_id = chat.last_message_id()
    await chat.press("foods:cat:nuts_seeds:0", message_id)
    text = shown(chat, message_id)
    assert "Nuts and seeds" in text
    assert "Page 1 of 2" in text
    nut_names = {f.name for f in content.foods if f.category == "nuts_seeds"}
    other_names = {f.name for f in content.foods if f.category != "nuts_seeds"}
    assert any(name in text for name in nut_names)
    assert not any(f"{name}:" in text for name in other_names)
    data = [d for _, d in chat.buttons()]
    assert "foods:cat:nuts_seeds:1" in data
    assert "foods:top:0" in data  # back to all foods
    assert "foods:cat:nuts_seeds:0" not in data

    await chat.press("foods:cat:nuts_seeds:1", message_id)
    text = shown(chat, message_id)
    assert "Page 2 of 2" in text
    assert "11. " in text

    await chat.press("foods:cat:fruit:0", message_id)
    assert "Fruit" in shown(chat, message_id)
    assert len(fake.sent()) == 1


async def test_the_start_menu_button_sends_the_foods_list(chat: Chat, fake: FakeRequest) -> None:
    await chat.send("/start")
    assert ("🥜 Foods", "menu:foods") in chat.buttons()
    await chat.press("menu:foods")
    assert "Foods richest in magnesium" in fake.last_text()
    assert "foods:top:1" in [d for _, d in chat.buttons()]


async def test_food_shows_mg_dv_per_100g_and_source(chat: Chat) -> None:
    reply = await chat.send("/food almonds")
    assert "Almonds, dry roasted" in reply
    assert "80 mg in 1 ounce (28 g)" in reply
    assert "19% of the Daily Value (420 mg)" in reply
    assert "282 mg per 100 g" in reply  # whole milligrams (the data keeps 282.2)
    assert "Source: NIH ODS health professional fact sheet" in reply
    assert ("🔎 Almond butter, no salt added", "food:show:almond_butter") in chat.buttons()


async def test_food_links_the_fooddata_central_record(chat: Chat, fake: FakeRequest) -> None:
    reply = await chat.send("/food spinach")
    assert "87 mg per 100 g" in reply  # the boiled-spinach record, as the entry is boiled
    assert "FoodData Central record 168463" in reply
    assert "raw spinach" not in reply
    assert "USDA Standard Reference data" in reply
    assert 'href="https://fdc.nal.usda.gov/fdc-app.html#/food-details/168463/nutrients"' in (
        fake.last_html()
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/food almonds 50g", "In 50 g: about 141 mg, 34% of the Daily Value"),
        ("/food almonds 100 g", "In 100 g: about 282 mg, 67% of the Daily Value"),
        ("/food banana 2", "In 2 × 1 medium: about 64 mg, 15% of the Daily Value"),
        ("/food banana 2x", "In 2 × 1 medium: about 64 mg"),
        ("/food almonds 1.5", "In 1.5 × 1 ounce (28 g): about 120 mg, 29%"),
        ("/food spinach 50g", "In 50 g: about 44 mg"),
        ("/food black beans 100g", "In 100 g: about 70 mg"),
        ("/food brown rice 100g", "In 100 g: about 39 mg"),
        ("/food white rice 200g", "In 200 g: about 24 mg"),
        ("/food oatmeal 250g", "In 250 g of regular or quick oats cooked with water: about 68 mg"),
        ("/food broccoli 100g", "In 100 g: about 21 mg"),
        ("/food apple", "9 mg in 1 medium (about 182 g)"),
        ("/food apple 100g", "In 100 g: about 5 mg"),
        ("/food lentils 100g", "In 100 g: about 36 mg"),
        ("/food dry lentils 100g", "In 100 g: about 47 mg"),
        ("/food chia 100g", "In 100 g: about 335 mg"),
        ("/food flaxseed", "118 mg in 30 g"),
        ("/food flaxseed 2", "In 2 × 30 g: about 235 mg"),
        ("/food cocoa 1g", "In 1 g: about 5 mg"),
        ("/food banana 1g", "In 1 g: about <1 mg"),
        ("/food milk 2", "In 2 × 1 cup: about 48–54 mg"),
    ],
)
async def test_food_with_an_amount(chat: Chat, command: str, expected: str) -> None:
    reply = await chat.send(command)
    assert expected in reply
    assert ERROR not in reply.lower()


async def test_an_amount_is_kept_when_a_suggestion_is_pressed(
    chat: Chat, fake: FakeRequest
) -> None:
    await chat.send("/food almond 50g")
    assert ("🔎 Almond butter, no salt added", "food:show:almond_butter:g50") in chat.buttons()
    message_id = chat.last_message_id()
    await chat.press("food:show:almond_butter:g50", message_id)
    text = shown(chat, message_id)
    assert "Almond butter" in text
    assert "In 50 g: about" in text


async def test_grams_are_refused_when_the_serving_has_no_weight(chat: Chat) -> None:
    reply = await chat.send("/food peanuts 50g")
    assert "63 mg in ¼ cup" in reply
    assert "can't work out grams" in reply
    assert "mg per 100 g" not in reply


async def test_an_unreadable_amount_gets_a_note_with_examples(chat: Chat) -> None:
    reply = await chat.send("/food almonds 5..5")
    assert "80 mg in 1 ounce" in reply
    assert "couldn't read “5..5” as an amount" in reply
    assert "50g" in reply
    assert "2x" in reply


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("/food almond", "Almonds, dry roasted"),
        ("/food pumpkin seed", "Pumpkin seeds, roasted"),
        ("/food spinnach", "Spinach, boiled"),
        ("/food pepitas", "Pumpkin seeds, roasted"),
        ("/food Black Beans", "Black beans, cooked"),
    ],
)
async def test_food_matches_loosely(chat: Chat, command: str, name: str) -> None:
    reply = await chat.send(command)
    assert reply.startswith(name)


async def test_an_ambiguous_name_offers_choices_that_open_in_place(
    chat: Chat, fake: FakeRequest
) -> None:
    reply = await chat.send("/food beans")
    assert "Did you mean" in reply
    buttons = chat.buttons()
    assert 1 <= len(buttons) <= 3
    assert all(data.startswith("food:show:") for _, data in buttons)
    message_id = chat.last_message_id()
    label, data = buttons[0]
    await chat.press(data, message_id)
    text = shown(chat, message_id)
    assert label.removeprefix("🔎 ") in text
    assert "mg in ½ cup" in text or "mg in 50 g" in text
    assert len(fake.sent()) == 1


async def test_nothing_close_says_so_with_examples(chat: Chat) -> None:
    reply = await chat.send("/food zzzz")
    assert "couldn't find a food like “zzzz”" in reply
    assert "/food almonds" in reply
    assert ("🥜 Browse all foods", "foods:top:0") in chat.buttons()


async def test_food_without_a_name_explains_usage(chat: Chat) -> None:
    for command in ("/food", "/food 50g"):
        reply = await chat.send(command)
        assert "Which food?" in reply
        assert "/food almonds 50g" in reply


async def test_user_input_is_escaped(chat: Chat, fake: FakeRequest) -> None:
    reply = await chat.send("/food <b>zz&zz</b>")
    assert "<b>zz&zz</b>" in reply
    assert "&lt;b&gt;" in fake.last_html()


async def test_a_very_long_name_gets_a_short_answer(chat: Chat) -> None:
    reply = await chat.send("/food " + "zq" * 2000)
    assert "couldn't find a food like" in reply
    assert len(reply) < 400


async def test_a_stale_suggestion_button_still_answers(chat: Chat) -> None:
    await chat.send("/food beans")
    message_id = chat.last_message_id()
    await chat.press("food:show:no_such_food", message_id)
    assert "Which food?" in shown(chat, message_id)


async def test_plain_text_food_names_are_answered(chat: Chat) -> None:
    assert food_from_text in TEXT_ANSWERS
    reply = await chat.send("pumpkin seeds")
    assert reply.startswith("Pumpkin seeds, roasted")
    assert "156 mg" in reply
    reply = await chat.send("almonds 50g")
    assert "about 141 mg" in reply
    reply = await chat.send("spinnach")
    assert reply.startswith("Spinach, boiled")


@pytest.mark.parametrize("text", ["hello", "thanks", "ok", "what?", "good morning", "beans"])
async def test_plain_chatter_is_not_taken_as_a_food(chat: Chat, text: str) -> None:
    reply = await chat.send(text)
    assert "I didn't catch that" in reply


async def test_registering_twice_adds_the_text_handler_once(chat: Chat) -> None:
    assert TEXT_ANSWERS.count(food_from_text) == 1


# --- Review of December 2026: misleading names, Brazil nuts, dry rows, per-100 g ranking ----


async def test_chocolate_asks_dark_or_milk(chat: Chat, fake: FakeRequest) -> None:
    reply = await chat.send("/food chocolate")
    assert "There is more than one “chocolate”. Did you mean" in reply
    data = {d for _, d in chat.buttons()}
    assert {"food:show:dark_chocolate", "food:show:milk_chocolate"} <= data
    await chat.press("food:show:milk_chocolate")
    text = shown(chat, chat.last_message_id())
    assert "Milk chocolate" in text
    assert "19 mg in 30 g" in text
    assert "63 mg per 100 g (USDA Standard Reference record 19120)" in text


async def test_cereal_is_not_silently_fortified_cereal(chat: Chat) -> None:
    reply = await chat.send("/food cereal")
    assert "Did you mean" in reply
    data = {d for _, d in chat.buttons()}
    assert {"food:show:fortified_cereal", "food:show:shredded_wheat"} <= data
    assert (await chat.send("/food fortified cereal")).startswith("Breakfast cereal, fortified")


async def test_swiss_chard_is_found(chat: Chat) -> None:
    for command in ("/food swiss chard", "/food chard", "swiss chard"):
        reply = await chat.send(command)
        assert reply.startswith("Swiss chard, boiled"), command
        assert "86 mg in 100 g, cooked" in reply


async def test_lentils_answer_cooked_and_offer_dry(chat: Chat) -> None:
    reply = await chat.send("/food lentils")
    assert reply.startswith("Lentils, cooked")
    assert ("🔎 Lentils, dry (uncooked)", "food:show:lentils") in chat.buttons()


async def test_brazil_nuts_are_one_or_two_nuts_with_the_selenium_reason(chat: Chat) -> None:
    reply = await chat.send("/food brazil nuts")
    assert "38 mg in 2 nuts (10 g)" in reply
    assert "Keep to 1 or 2 Brazil nuts a day" in reply
    assert "575" in reply
    assert "400 micrograms" in reply
    assert reply.rstrip().endswith("Ask a doctor or pharmacist about your own situation.")
    plain_answer = await chat.send("/food almonds")
    assert "medical advice" not in plain_answer  # foods without a caution carry no disclaimer


async def test_dry_rows_are_marked_in_the_foods_list(chat: Chat, content: Content) -> None:
    dry = [f for f in content.foods if f.state == "dry"]
    assert {f.id for f in dry} >= {"quinoa", "wild_rice", "lentils", "chickpeas", "pinto_beans"}
    seen = ""
    await chat.send("/foods")
    message_id = chat.last_message_id()
    for page in range(math.ceil(len(content.foods) / PAGE_SIZE)):
        await chat.press(f"foods:top:{page}", message_id)
        seen += shown(chat, message_id) + "\n"
    for line in seen.splitlines():
        food = next(
            (f for f in content.foods if re.match(rf"\d+\. {re.escape(f.name)}:", line)), None
        )
        if food is not None:
            assert ("weighed dry, before cooking" in line) == (food.state == "dry"), line


async def test_foods_can_be_ranked_per_100g(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    await chat.send("/foods")
    message_id = chat.last_message_id()
    assert ("⚖️ Rank per 100 g", "foods:t100:0") in chat.buttons()
    await chat.press("foods:t100:0", message_id)
    text = shown(chat, message_id)
    assert "per 100 g" in text
    ranked = sorted(
        (f for f in content.foods if f.grams_known), key=lambda f: (-f.mg_per_100g, f.name)
    )
    assert f"1. {ranked[0].name}: {round(ranked[0].mg_per_100g)} mg per 100 g" in text
    assert "Peanuts" not in text  # no weight for its serving: no per-100 g figure
    assert ("🍽 Rank per serving", "foods:top:0") in chat.buttons()
    assert "foods:t100:1" in [d for _, d in chat.buttons()]
    await chat.press("foods:c100:legumes:0", message_id)
    text = shown(chat, message_id)
    legumes = [f for f in ranked if f.category == "legumes"]
    assert f"1. {legumes[0].name}: " in text
    assert ("🏆 All foods", "foods:t100:0") in chat.buttons()
    assert ("🍽 Rank per serving", "foods:cat:legumes:0") in chat.buttons()
    assert len(fake.sent()) == 1
    callback_data_fits(chat)
