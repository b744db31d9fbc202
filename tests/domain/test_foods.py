from __future__ import annotations

import pytest

from bot.content import Content, Food
from bot.domain.foods import (
    MAX_GRAMS,
    Amount,
    FoodQuery,
    Page,
    amount_token,
    dv_percent,
    format_amount_mg,
    format_mg,
    format_mg_range,
    format_number,
    match_free_text,
    mg_for,
    mg_range_for,
    normalize,
    paginate,
    parse_amount,
    parse_amount_token,
    parse_food_query,
    search,
    top_foods,
)


def make_food(food_id: str, name: str, mg: float, **kwargs: object) -> Food:
    values: dict[str, object] = {
        "source": ("ods_hp",),
        "verification": "ods_verified",
        "id": food_id,
        "name": name,
        "category": "other",
        "serving": "1 cup",
        "serving_g": 100.0,
        "mg_per_serving": mg,
        "mg_per_100g": mg,
    }
    values.update(kwargs)
    return Food(**values)  # type: ignore[arg-type]


# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50g", Amount("grams", 50)),
        ("50 g", Amount("grams", 50)),
        ("100 grams", Amount("grams", 100)),
        ("0.5kg", Amount("grams", 500)),
        ("2", Amount("servings", 2)),
        ("2x", Amount("servings", 2)),
        ("x2", Amount("servings", 2)),
        ("2 X", Amount("servings", 2)),
        ("1.5", Amount("servings", 1.5)),
        ("1,5", Amount("servings", 1.5)),
        ("3 servings", Amount("servings", 3)),
    ],
)
def test_parse_amount_understands_grams_and_servings(text: str, expected: Amount) -> None:
    assert parse_amount(text) == expected


def test_parse_amount_converts_ounces() -> None:
    amount = parse_amount("1 oz")
    assert amount is not None
    assert amount.kind == "grams"
    assert amount.value == pytest.approx(28.35, abs=0.01)


@pytest.mark.parametrize(
    "text", ["", "0g", "0", "-2", "abc", "5 bananas", "2..5", "9999999g", "1e9"]
)
def test_parse_amount_rejects_nonsense(text: str) -> None:
    assert parse_amount(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("almonds", FoodQuery("almonds")),
        ("almonds 50g", FoodQuery("almonds", Amount("grams", 50))),
        ("pumpkin seeds 100 g", FoodQuery("pumpkin seeds", Amount("grams", 100))),
        ("banana 2", FoodQuery("banana", Amount("servings", 2))),
        ("banana 2x", FoodQuery("banana", Amount("servings", 2))),
        ("black beans 1.5", FoodQuery("black beans", Amount("servings", 1.5))),
        ("  almonds   50g ", FoodQuery("almonds", Amount("grams", 50))),
        ("almonds 5..5", FoodQuery("almonds", bad_amount="5..5")),
        ("almonds 0g", FoodQuery("almonds", bad_amount="0g")),
        ("almonds 12 34kg", FoodQuery("almonds", bad_amount="12 34kg")),
        ("50g", FoodQuery("", Amount("grams", 50))),
        ("2", FoodQuery("", Amount("servings", 2))),
        ("", FoodQuery("")),
    ],
)
def test_parse_food_query_splits_name_and_amount(text: str, expected: FoodQuery) -> None:
    assert parse_food_query(text) == expected


def test_amounts_use_per_100g_for_grams_and_servings_otherwise() -> None:
    food = make_food("a", "Almonds", 80, mg_per_100g=282.2, serving_g=28.35)
    assert mg_for(food, Amount("grams", 50)) == pytest.approx(141.1)
    assert mg_for(food, Amount("servings", 2)) == 160
    assert dv_percent(141.1) == 34
    assert format_amount_mg(141.1) == "141"
    assert format_amount_mg(7.25) == "7"  # users see whole milligrams
    assert format_amount_mg(117.6) == "118"
    assert format_amount_mg(0.5) == "1"
    assert format_amount_mg(0.4) == "<1"


def test_a_range_per_serving_stays_a_range_for_servings_only() -> None:
    milk = make_food("milk", "Milk", 24, serving_mg_max=27, mg_per_100g=10)
    assert mg_range_for(milk, Amount("servings", 2)) == (48, 54)
    assert mg_range_for(milk, Amount("grams", 100)) == (10, None)
    assert format_mg_range(48, 54) == "48–54"
    assert format_mg(milk) == "24–27"


def test_numbers_are_shown_without_needless_decimals() -> None:
    assert format_number(80.0) == "80"
    assert format_number(282.2) == "282.2"
    assert format_number(1.5) == "1.5"


def test_amount_tokens_round_trip_and_reject_forgeries() -> None:
    for amount in (Amount("grams", 50), Amount("servings", 2), Amount("servings", 1.5)):
        assert parse_amount_token(amount_token(amount)) == amount
    assert amount_token(Amount("grams", 50)) == "g50"
    for token in ("", "x5", "g", "g0", "s999", f"g{int(MAX_GRAMS) + 1}", "g1e9", "s-1"):
        assert parse_amount_token(token) is None


# --- matching --------------------------------------------------------------------------------


def test_normalize_drops_case_punctuation_and_plurals() -> None:
    assert normalize("Pumpkin SEEDS, roasted!") == "pumpkin seed roasted"
    assert normalize("Cherries") == "cherry"
    assert normalize("Potatoes") == "potato"
    assert normalize("Swiss") == "swiss"


@pytest.mark.parametrize(
    ("query", "food_id"),
    [
        ("almond", "almonds"),
        ("almonds", "almonds"),
        ("ALMONDS", "almonds"),
        ("pumpkin seed", "pumpkin_seeds"),
        ("pumpkin seeds", "pumpkin_seeds"),
        ("pepitas", "pumpkin_seeds"),
        ("spinnach", "spinach"),
        ("brocoli", "broccoli"),
        ("salmn", "salmon"),
        ("chia", "chia_seeds"),
        ("black beans", "black_beans"),
        ("brown rice", "brown_rice"),
        ("oats", "instant_oatmeal"),
        ("soymilk", "soy_milk"),
    ],
)
def test_search_finds_the_food_meant(content: Content, query: str, food_id: str) -> None:
    found = search(query, content.foods)
    assert found.food is not None, found
    assert found.food.id == food_id


def test_search_offers_other_good_matches_next_to_the_answer(content: Content) -> None:
    found = search("almond", content.foods)
    assert found.food is not None
    assert found.food.id == "almonds"
    assert [f.id for f in found.others] == ["almond_butter"]


def test_an_ambiguous_name_is_a_choice_not_a_guess(content: Content) -> None:
    found = search("beans", content.foods)
    assert found.food is None
    ids = {f.id for f in found.suggestions}
    assert len(ids) == 3
    assert ids <= {"black_beans", "kidney_beans", "pinto_beans", "edamame"}


def test_a_near_miss_is_suggested_and_nonsense_is_not(content: Content) -> None:
    near = search("almonds lots", content.foods)
    assert near.food is None
    assert "almonds" in [f.id for f in near.suggestions]
    assert len(near.suggestions) <= 3
    assert search("zzzz", content.foods) == search("qqqqqqqq", content.foods)
    assert search("zzzz", content.foods).suggestions == ()
    assert search("", content.foods).food is None


@pytest.mark.parametrize(
    ("text", "food_id"),
    [
        ("almonds", "almonds"),
        ("Pumpkin seeds", "pumpkin_seeds"),
        ("spinnach", "spinach"),
        ("almonds 50g", "almonds"),
        ("banana 2", "banana"),
        ("dark chocolate", "dark_chocolate"),
    ],
)
def test_free_text_that_names_a_food_is_a_food(content: Content, text: str, food_id: str) -> None:
    matched = match_free_text(text, content.foods)
    assert matched is not None
    assert matched[0].id == food_id


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "hi",
        "thanks",
        "thank you",
        "ok",
        "yes",
        "what",
        "bee",
        "nice",
        "help",
        "good morning",
        "I like almonds a lot, do you?",
        "beans?",
        "beans",
        "nuts",
        "magnesium",
        "almonds 5..5",
        "how much magnesium is in almonds and pumpkin seeds",
    ],
)
def test_free_text_chatter_is_not_a_food(content: Content, text: str) -> None:
    assert match_free_text(text, content.foods) is None


# --- lists -----------------------------------------------------------------------------------


def test_top_foods_are_richest_first_and_filter_by_category(content: Content) -> None:
    ranked = top_foods(content.foods)
    mgs = [f.mg_per_serving for f in ranked]
    assert mgs == sorted(mgs, reverse=True)
    assert len(ranked) == len(content.foods)
    nuts = top_foods(content.foods, "nuts_seeds")
    assert nuts
    assert all(f.category == "nuts_seeds" for f in nuts)
    assert top_foods(content.foods, "no_such_category") == []


def test_paginate_clamps_to_existing_pages() -> None:
    items = list(range(23))
    first = paginate(items, 0, 10)
    assert first.items == tuple(range(10))
    assert (first.index, first.count, first.first) == (0, 3, 0)
    assert not first.has_prev
    assert first.has_next
    last = paginate(items, 99, 10)
    assert last.items == (20, 21, 22)
    assert last.index == 2
    assert last.has_prev
    assert not last.has_next
    assert paginate(items, -5, 10).index == 0
    empty: Page[int] = paginate([], 3, 10)
    assert empty.items == ()
    assert empty.count == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("chocolate", {"dark_chocolate", "milk_chocolate"}),
        ("cereal", {"fortified_cereal", "shredded_wheat"}),
    ],
)
def test_a_name_with_two_meanings_asks(content: Content, query: str, expected: set[str]) -> None:
    found = search(query, content.foods)
    assert found.food is None
    assert expected <= {f.id for f in found.suggestions}


def test_top_foods_per_100g_leave_out_foods_without_weights(content: Content) -> None:
    ranked = top_foods(content.foods, per_100g=True)
    assert all(f.grams_known for f in ranked)
    assert [f.mg_per_100g for f in ranked] == sorted((f.mg_per_100g for f in ranked), reverse=True)
    assert len(ranked) == sum(f.grams_known for f in content.foods)
