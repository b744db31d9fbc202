from __future__ import annotations

import pytest

from bot.content import Content
from bot.domain.medicines import find_medicine


@pytest.mark.parametrize(
    ("query", "medicine_id"),
    [
        ("levothyroxine", "levothyroxine"),
        ("Levothyroxin", "levothyroxine"),  # a typo
        ("synthroid", "levothyroxine"),  # a brand
        ("FOSAMAX", "bisphosphonates"),
        ("alendronate", "bisphosphonates"),
        ("tivicay", "dolutegravir"),
        ("triumeq", "dolutegravir"),
        ("biktarvy", "bictegravir"),
        ("isentress", "raltegravir"),
        ("vocabria", "cabotegravir"),
        ("neurontin", "gabapentin"),
        ("doxycycline", "antibiotics"),
        ("cipro", "antibiotics"),
        ("ketoconazole", "azole_antifungals"),
        ("cellcept", "mycophenolate"),
        ("promacta", "eltrombopag"),
        ("penicillamine", "penicillamine"),
        ("sodium polystyrene sulfonate", "polystyrene_sulfonate"),
        ("amiloride", "potassium_sparing_diuretics"),
        ("furosemide", "loop_thiazide_diuretics"),
        ("omeprazole", "ppis"),
        ("milk of magnesia", "laxatives_antacids"),
    ],
)
def test_find_medicine_by_generic_or_brand_name(
    content: Content, query: str, medicine_id: str
) -> None:
    found = find_medicine(query, content.interactions)
    assert found.found is not None, found
    assert found.found.id == medicine_id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("diuretic", {"loop_thiazide_diuretics", "potassium_sparing_diuretics"}),
        ("water pills", {"loop_thiazide_diuretics", "potassium_sparing_diuretics"}),
        ("hiv", {"dolutegravir", "bictegravir", "raltegravir", "cabotegravir"}),
    ],
)
def test_a_name_that_fits_several_entries_is_a_choice(
    content: Content, query: str, expected: set[str]
) -> None:
    found = find_medicine(query, content.interactions)
    assert found.found is None
    assert {item.id for item in found.suggestions} == expected


def test_nothing_like_the_name_finds_nothing(content: Content) -> None:
    for query in ("", "   ", "zzzzzz", "lisinopril", "warfarin"):
        found = find_medicine(query, content.interactions)
        assert found.found is None, query
        assert found.suggestions == (), query
