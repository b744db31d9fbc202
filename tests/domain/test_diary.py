from __future__ import annotations

from datetime import date

import pytest

from bot.domain.diary import (
    MAX_SUPPLEMENT_MG,
    DayTotal,
    EntryKind,
    FoodLog,
    LogError,
    Logged,
    LogProblem,
    SupplementLog,
    above_limit,
    bar_cells,
    day_total,
    dose_in_label,
    entry_day,
    form_words,
    parse_log,
    parse_mg,
    percent_of,
)
from bot.domain.foods import Amount

FORMS = form_words(["citrate", "glycinate", "oxide", "chloride"])


@pytest.mark.parametrize(
    ("text", "name", "amount"),
    [
        ("almonds 50g", "almonds", Amount("grams", 50)),
        ("banana 2", "banana", Amount("servings", 2)),
        ("spinach", "spinach", None),
        ("pumpkin seeds 1.5", "pumpkin seeds", Amount("servings", 1.5)),
        ("black beans 100 g", "black beans", Amount("grams", 100)),
    ],
)
def test_foods_parse_like_food(text: str, name: str, amount: Amount | None) -> None:
    request = parse_log(text, FORMS)
    assert isinstance(request, FoodLog)
    assert (request.query.name, request.query.amount, request.days_back) == (name, amount, 0)


@pytest.mark.parametrize(
    ("text", "mg", "label"),
    [
        ("supplement 200 mg", 200, ""),
        ("supplement 200mg citrate", 200, "citrate"),
        ("glycinate 200mg", 200, "glycinate"),
        ("magnesium citrate 150 mg", 150, "magnesium citrate"),
        ("200 mg", 200, ""),
        ("pill 100 milligrams", 100, ""),
        ("supp 12,5 mg", 12.5, ""),
    ],
)
def test_supplements_need_a_word_or_only_a_dose(text: str, mg: float, label: str) -> None:
    request = parse_log(text, FORMS)
    assert request == SupplementLog(mg, label)


def test_yesterday_moves_any_entry_one_day_back() -> None:
    today = parse_log("spinach", FORMS)
    assert isinstance(today, FoodLog)
    assert parse_log("yesterday spinach", FORMS) == FoodLog(today.query, days_back=1)
    assert parse_log("Yesterday supplement 200 mg", FORMS) == SupplementLog(200, "", 1)
    assert parse_log("yesterday", FORMS) == LogError(LogProblem.EMPTY, days_back=1)
    assert entry_day(date(2026, 3, 1), 1) == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("text", "problem", "value"),
    [
        ("", LogProblem.EMPTY, ""),
        ("supplement", LogProblem.NO_MG, ""),
        ("glycinate", LogProblem.NO_MG, ""),
        ("supplement 100 mg 200 mg", LogProblem.NO_MG, "supplement 100 mg 200 mg"),
        ("supplement 0 mg", LogProblem.BAD_MG, "0 mg"),
        ("supplement -200 mg", LogProblem.BAD_MG, "-200 mg"),
        ("supplement 2001 mg", LogProblem.BAD_MG, "2001 mg"),
        ("almonds 50mg", LogProblem.MG_FOR_FOOD, "almonds 50mg"),
    ],
)
def test_requests_that_cannot_be_stored(text: str, problem: LogProblem, value: str) -> None:
    assert parse_log(text, FORMS) == LogError(problem, value)


def test_the_largest_dose_is_allowed_and_one_more_is_not() -> None:
    assert parse_log(f"supplement {MAX_SUPPLEMENT_MG:g} mg", FORMS) == SupplementLog(2000)
    assert isinstance(parse_log("supplement 2000.1 mg", FORMS), LogError)


def test_a_bad_food_amount_is_reported_not_guessed() -> None:
    for text in ("almonds -5", "almonds 0g", "almonds 6000g", "banana 51"):
        request = parse_log(text, FORMS)
        assert isinstance(request, FoodLog), text
        assert request.query.amount is None, text
        assert request.query.bad_amount, text


def test_parse_mg_wants_exactly_one_amount() -> None:
    assert parse_mg("citrate 200 mg") == (200, "200 mg")
    assert parse_mg("−50mg") == (-50, "−50mg")
    assert parse_mg("no dose") is None
    assert parse_mg("100 mg and 200 mg") is None
    assert parse_mg("v2.200mg") is None  # part of a word


@pytest.mark.parametrize(
    ("label", "mg"),
    [
        ("magnesium citrate 200 mg", 200),
        ("glycinate 150mg", 150),
        ("200 mg", 200),
        ("Mag 300 mg with dinner", 300),
        ("bisglycinate 100 mg", 100),
        ("magnesium", None),
        ("zinc 15 mg", None),
        ("magnesium 200 mg, B6 10 mg", None),
        ("magnesium 0 mg", None),
        ("magnesium 9000 mg", None),
        ("", None),
    ],
)
def test_a_reminder_label_names_a_magnesium_dose(label: str, mg: float | None) -> None:
    assert dose_in_label(label, FORMS) == mg


def test_sums_keep_food_and_supplements_apart() -> None:
    day = date(2026, 3, 2)
    total = day_total(
        [
            Logged(day, EntryKind.FOOD, 141.1),
            Logged(day, EntryKind.SUPPLEMENT, 200),
            Logged(day, EntryKind.FOOD, 32),
        ]
    )
    assert total.food_mg == pytest.approx(173.1)
    assert total.supplement_mg == 200
    assert total.total_mg == pytest.approx(373.1)
    assert day_total([]) == DayTotal(0, 0)


def test_percentages_and_bars() -> None:
    assert percent_of(141.1, 320) == 44
    assert percent_of(400, 350) == 114
    assert percent_of(5, 0) == 0
    assert bar_cells(141.1, 320) == 4
    assert bar_cells(0, 320) == 0
    assert bar_cells(1, 320) == 1  # something logged always shows
    assert bar_cells(400, 350) == 10  # full, never more
    assert bar_cells(320, 320) == 10


def test_only_more_than_the_limit_is_above_it() -> None:
    assert not above_limit(350, 350)
    assert above_limit(350.1, 350)
    assert not above_limit(5000, None)
