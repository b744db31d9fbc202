"""Checks on content/: every file loads, every fact is sourced, figures match the fact base.

No network and nothing outside the repository: expected values from the fact base are literals
here, so a drifting data file is caught.
"""

from __future__ import annotations

import ast
import itertools
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from bot.content import (
    CONTENT_DIR,
    DAILY_VALUE_MG,
    FOOD_CATEGORIES,
    VERIFICATION_LEVELS,
    Content,
    ContentError,
    Sourced,
    Texts,
    load_content,
    round_half_up,
    template_fields,
)
from bot.render import TelegramHtmlError, check_html

REPO_DIR = Path(__file__).resolve().parent.parent
BOT_DIR = REPO_DIR / "bot"

# The data files these tests own (texts/ and commands.toml are checked through their users).
DATA_FILES = (
    "sources.toml",
    "foods.toml",
    "tips.toml",
    "facts.toml",
    "symptoms.toml",
    "supplements.toml",
    "interactions.toml",
    "rda.toml",
    "faq.toml",
)

# NIH ODS food table (DV 420 mg), rows 1-22: food id -> (mg per serving, % Daily Value).
ODS_TABLE = {
    "pumpkin_seeds": (156, 37),
    "chia_seeds": (111, 26),
    "almonds": (80, 19),
    "spinach": (78, 19),
    "cashews": (74, 18),
    "peanuts": (63, 15),
    "shredded_wheat": (61, 15),
    "soy_milk": (61, 15),
    "black_beans": (60, 14),
    "edamame": (50, 12),
    "peanut_butter": (49, 12),
    "potato": (43, 10),
    "brown_rice": (42, 10),
    "yogurt": (42, 10),
    "fortified_cereal": (42, 10),
    "instant_oatmeal": (36, 9),
    "kidney_beans": (35, 8),
    "banana": (32, 8),
    "salmon": (26, 6),
    "milk": (24, 6),  # 24-27 mg: 6% at both ends
    "halibut": (24, 6),
    "raisins": (23, 5),
}
# Older ODS table rows: mg as listed there, % Daily Value recomputed for 420 mg (fact base).
ODS_OLDER_TABLE = {
    "chicken_breast": (22, 5),
    "ground_beef": (20, 5),
    "broccoli": (12, 3),
    "white_rice": (10, 2),
    "apple": (9, 2),
    "carrot": (7, 2),
}

# Seed-article claims marked unverified (or details with no source): never in the content.
UNVERIFIED_WORDS = ("myelin", "eyelid", "restless leg", "tremor", "cortisol", "pins and needles")

# Mirror or proxy hosts the fact base read pages through; user-facing links use the originals.
MIRROR_HOSTS = (
    "easyfinder.store",
    "magnitop.in",
    "translate.google",
    "doczz.net",
    "abcdocz.com",
    "the-eye.eu",
    "pdfslide",
    "ouci.dntb.gov.ua",
    "cloudflarepoc.",
    "origin-www.",
    ".pages.dev",
    "piglix.com",
    "e-signaturehome.com",
)


def sourced_items(content: Content) -> Iterator[tuple[str, Sourced]]:
    """Yield every fact-bearing entry with a label naming its file and entry."""
    for food in content.foods:
        yield f"foods.toml {food.id}", food
    for tip in content.tips:
        yield f"tips.toml {tip.id}", tip
    for fact in content.facts:
        yield f"facts.toml {fact.id}", fact
    for section in content.symptoms:
        for index, item in enumerate(section.items):
            yield f"symptoms.toml {section.id} item {index}", item
    for form in content.supplements.forms:
        yield f"supplements.toml form {form.id}", form
    for index, limit in enumerate(content.supplements.upper_limits):
        yield f"supplements.toml upper_limit {index}", limit
    yield "supplements.toml ul_covers", content.supplements.ul_covers
    for inter in content.interactions:
        yield f"interactions.toml {inter.id}", inter
    for row in content.rda:
        yield f"rda.toml {row.label}", row
    for question in content.faq:
        yield f"faq.toml {question.id}", question


def data_texts(content: Content) -> Iterator[tuple[str, str]]:
    """Yield every user-visible text value of the data files (not the templates)."""
    for source in content.sources.values():
        yield f"source {source.id}", f"{source.name} {source.note}"
    for category in content.categories:
        yield f"category {category.id}", category.title
    for food in content.foods:
        values = (food.name, food.serving, food.note, food.per_100g_basis, *food.aliases)
        yield f"food {food.id}", " ".join((*values, food.warning))
    for tip in content.tips:
        yield f"tip {tip.id}", tip.text
    for fact in content.facts:
        yield f"fact {fact.id}", fact.text
    for section in content.symptoms:
        yield f"symptoms {section.id}", " ".join([section.title, section.intro])
        for item in section.items:
            yield f"symptoms {section.id}", item.text
    for form in content.supplements.forms:
        yield f"form {form.id}", " ".join([form.name, form.absorption, form.common_use, form.note])
    for limit in content.supplements.upper_limits:
        yield "upper_limit", limit.label
    yield "ul_covers", content.supplements.ul_covers.text
    for group in content.interaction_groups:
        yield f"interaction group {group.id}", group.title
    for inter in content.interactions:
        values = (inter.name, inter.drug_class, inter.examples, inter.effect, inter.timing)
        yield f"interaction {inter.id}", " ".join((*values, *inter.aliases))
    for row in content.rda:
        yield "rda", row.label
    for question in content.faq:
        yield f"faq {question.id}", f"{question.question} {question.answer}"


# --------------------------------------------------------------------------------------------
# Loading, sources and verification levels


def test_every_file_loads(content: Content) -> None:
    assert content.sources
    assert len(content.foods) >= len(ODS_TABLE) + len(ODS_OLDER_TABLE)
    assert len(content.tips) >= 60
    assert 20 <= len(content.facts) <= 30
    assert 10 <= len(content.faq) <= 15
    assert content.supplements.forms
    assert content.interactions
    assert content.rda


def test_every_item_has_a_known_source_and_a_shippable_level(content: Content) -> None:
    problems = []
    for label, item in sourced_items(content):
        if not item.source:
            problems.append(f"{label}: no source")
        problems += [
            f"{label}: unknown source {s!r}" for s in item.source if s not in content.sources
        ]
        if item.verification not in VERIFICATION_LEVELS or item.verification == "unverified":
            problems.append(f"{label}: verification {item.verification!r} is not shippable")
    for food in content.foods:
        for source_id in food.per_100g_source:
            if source_id not in content.sources:
                problems.append(f"foods.toml {food.id}: unknown per_100g_source {source_id!r}")
    assert not problems, "\n".join(problems)


def test_every_source_is_cited_and_has_a_canonical_link(content: Content) -> None:
    cited = {s for _, item in sourced_items(content) for s in item.source}
    cited |= {s for food in content.foods for s in food.per_100g_source}
    assert sorted(set(content.sources) - cited) == [], "sources nobody cites"
    for source in content.sources.values():
        assert re.match(r"https?://[\w.-]+\.[a-z]{2,}/", source.url), source.id
        assert not any(host in source.url for host in MIRROR_HOSTS), source.id
        assert len(source.name) <= 60, f"{source.id}: name too long to show after 'Source:'"


def test_ids_are_unique(content: Content) -> None:
    id_lists = {
        "foods": [f.id for f in content.foods],
        "tips": [t.id for t in content.tips],
        "facts": [f.id for f in content.facts],
        "faq": [q.id for q in content.faq],
        "forms": [f.id for f in content.supplements.forms],
        "interactions": [i.id for i in content.interactions],
        "symptoms": [s.id for s in content.symptoms],
        "categories": [c.id for c in content.categories],
    }
    for name, ids in id_lists.items():
        assert len(ids) == len(set(ids)), f"duplicate ids in {name}"


def test_data_values_are_plain_text_without_unverified_claims(content: Content) -> None:
    for label, text in data_texts(content):
        assert not re.search(r"</?[a-zA-Z]", text), f"{label}: HTML in a data value"
        assert not re.search(r"&(#\d+|[a-z]+);", text), f"{label}: HTML entity in a data value"
        lowered = text.lower()
        for word in UNVERIFIED_WORDS:
            assert word not in lowered, f"{label}: mentions unverified claim {word!r}"


def test_data_files_hold_no_machine_paths() -> None:
    for name in DATA_FILES:
        text = (CONTENT_DIR / name).read_text(encoding="utf-8")
        found = re.search(r"(?<![\w.:/])/(?:[a-z]+/){2,}|[A-Z]:\\", text)
        assert found is None, f"{name}: contains a machine path ({found and found.group()})"


# --------------------------------------------------------------------------------------------
# Foods


def test_round_half_up_rounds_like_a_label() -> None:
    assert round_half_up(0.5) == 1
    assert round_half_up(2.5) == 3
    assert round_half_up(37.14) == 37
    assert round_half_up(5.5) == 6
    assert round_half_up(5.49) == 5


@pytest.mark.parametrize("table", [ODS_TABLE, ODS_OLDER_TABLE], ids=["current", "older"])
def test_ods_table_values_and_daily_value(
    content: Content, table: dict[str, tuple[int, int]]
) -> None:
    assert DAILY_VALUE_MG == 420
    for food_id, (mg, dv) in table.items():
        food = content.food(food_id)
        assert food is not None, f"ODS row {food_id} is missing"
        assert food.mg_per_serving == mg, food_id
        assert round_half_up(mg * 100 / 420) == dv, f"{food_id}: table %DV is not mg/420"
        assert food.dv_percent == dv, food_id
        assert "ods_hp" in food.source, food_id
        assert food.verification == "ods_text_via_copy", food_id


def test_milk_range_and_excluded_rows(content: Content) -> None:
    milk = content.food("milk")
    assert milk is not None
    assert (milk.mg_per_serving, milk.serving_mg_max) == (24, 27)
    assert milk.serving_mg_max is not None
    assert round_half_up(milk.serving_mg_max * 100 / 420) == 6
    # Whole wheat bread is unverified in the fact base; avocado comes only from USDA FDC.
    for food in content.foods:
        assert "bread" not in food.name.lower(), food.id
    avocado = content.food("avocado")
    assert avocado is not None
    assert avocado.source == ("usda_fdc",)


def test_food_grams_and_per_100g_values_agree(content: Content) -> None:
    for food in content.foods:
        if not food.grams_known:
            # Placeholders only: nothing sourced to show.
            assert (food.serving_g, food.mg_per_100g) == (100, food.mg_per_serving), food.id
            assert not food.per_100g_source, food.id
            assert food.fdc_id is None, food.id
            assert not food.per_100g_basis, food.id
            continue
        assert food.per_100g_source, food.id
        assert food.per_100g_verification in VERIFICATION_LEVELS, food.id
        if food.fdc_id is not None or food.ndb:
            # A USDA record: FoodData Central (nutrimetrics) or Standard Reference (SR28) data.
            assert food.per_100g_source in (("usda_fdc",), ("usda_sr28",)), food.id
            assert food.per_100g_verification == "other_source", food.id
            assert food.per_100g_record, food.id
        else:
            assert food.per_100g_verification == "computed", food.id
        from_100g = food.mg_per_100g * food.serving_g / 100
        assert from_100g == pytest.approx(food.mg_per_serving, rel=0.01, abs=0.3), food.id


COOKED_WORDS = re.compile(r"\b(cooked|boiled|baked|broiled|roasted|fried)\b", re.IGNORECASE)
DRY_WORDS = re.compile(r"\b(dry|uncooked)\b(?! roasted)", re.IGNORECASE)  # not "dry roasted"


def test_per_100g_and_serving_describe_the_same_state(content: Content) -> None:
    """A cooked food never carries a raw or dry record's per-100 g figure, nor the reverse."""
    problems = []
    for food in content.foods:
        label = f"{food.id} ({food.state})"
        shown = " ".join([food.name, food.serving, food.per_100g_basis])
        says_cooked = re.search(r"\b(cooked|boiled|baked|broiled)\b", food.name, re.IGNORECASE)
        if says_cooked and food.state != "cooked":
            problems.append(f"{label}: its name says cooked")
        if food.state == "dry" and not (DRY_WORDS.search(food.name) and DRY_WORDS.search(shown)):
            problems.append(f"{label}: a dry food says 'dry' or 'uncooked' in name and serving")
        if DRY_WORDS.search(food.name) and food.state != "dry":
            problems.append(f"{label}: its name says dry")
        record = food.per_100g_record
        if not record:
            continue  # per 100 g worked out from the serving itself: the same state by design
        if food.state == "cooked" and not COOKED_WORDS.search(record):
            problems.append(f"{label}: a cooked serving with an uncooked record {record!r}")
        if food.state != "cooked" and COOKED_WORDS.search(record):
            problems.append(f"{label}: a {food.state} serving with a cooked record {record!r}")
        if food.state in ("raw", "dry") and not re.search(r"\b(raw|uncooked)\b", record, re.I):
            problems.append(f"{label}: the record {record!r} is not raw")
    assert not problems, "\n".join(problems)


def test_cooked_foods_use_the_cooked_usda_records(content: Content) -> None:
    # Fact base 10.8: food id -> (mg per 100 g, FDC id or None, SR number).
    cooked = {
        "black_beans": (70, 173735, "16015"),
        "brown_rice": (39, 169704, "20037"),
        "white_rice": (12, None, "20045"),
        "instant_oatmeal": (27, None, "08121"),
        "spinach": (87, 168463, "11458"),
        "broccoli": (21, None, "11091"),
        "lentils_cooked": (36, 172421, "16070"),
        "swiss_chard": (86, None, "11148"),
    }
    for food_id, (mg, fdc_id, ndb) in cooked.items():
        food = content.food(food_id)
        assert food is not None, food_id
        assert (food.mg_per_100g, food.fdc_id, food.ndb, food.state) == (mg, fdc_id, ndb, "cooked")
    apple = content.food("apple")
    assert apple is not None
    assert (apple.mg_per_100g, apple.fdc_id, apple.state) == (5, 171688, "raw")
    assert apple.serving_g == 182
    assert "182 g" in apple.serving
    chia = content.food("chia_seeds")
    assert chia is not None
    assert (chia.mg_per_100g, chia.fdc_id) == (335, 170554)  # the record, not 111 mg / 28.35 g
    lentils = content.food("lentils")
    assert lentils is not None
    assert (lentils.state, lentils.mg_per_100g) == ("dry", 47)


def test_brazil_nuts_are_a_small_serving_with_a_selenium_warning(content: Content) -> None:
    nuts = content.food("brazil_nuts")
    assert nuts is not None
    assert nuts.serving_g <= 10  # 1-2 nuts of 5 g: a 30 g handful holds ~575 micrograms
    assert "2 nuts" in nuts.serving
    assert "selenium" in nuts.warning
    assert "400 micrograms" in nuts.warning
    tip = next(t for t in content.tips if t.id == "t29")
    assert "selenium" in tip.text
    assert tip.health


def test_food_names_aliases_and_categories(content: Content) -> None:
    assert tuple(c.id for c in content.categories) == FOOD_CATEGORIES
    for category in content.categories:
        assert category.title, category.id
        assert category.emoji, category.id
        assert any(f.category == category.id for f in content.foods), f"{category.id} is empty"
    seen: dict[str, str] = {}
    for food in content.foods:
        assert 2 <= len(food.aliases) <= 6, food.id
        for alias in food.aliases:
            assert alias == alias.lower().strip(), f"{food.id}: alias {alias!r}"
            assert alias not in seen, f"alias {alias!r} used by {seen.get(alias)} and {food.id}"
            seen[alias] = food.id
    names = {food.name.lower(): food.id for food in content.foods}
    for alias, food_id in seen.items():
        assert names.get(alias, food_id) == food_id, f"alias {alias!r} is another food's name"


# --------------------------------------------------------------------------------------------
# Tips, facts, symptoms, supplements, interactions, RDA, FAQ


def test_tips(content: Content) -> None:
    assert len(content.tips) >= 60
    for tip in content.tips:
        assert re.fullmatch(r"t\d{2,3}", tip.id), tip.id
        assert len(tip.text) <= 220, f"{tip.id}: keep tips to one or two short sentences"
        assert tip.text.count(". ") <= 2, f"{tip.id}: more than two sentences"


def test_symptom_sections(content: Content) -> None:
    ids = [section.id for section in content.symptoms]
    for required in ("early", "later", "urgent", "at_risk"):
        assert required in ids
    for section in content.symptoms:
        assert section.title, section.id
        assert section.items, section.id


def test_upper_limits(content: Content) -> None:
    limits = content.supplements.upper_limits
    by_age = {}
    for limit in limits:
        last = limit.age_to if limit.age_to is not None else 120
        for age in range(limit.age_from, last + 1):
            assert age not in by_age, f"age {age} is in two UL rows"
            by_age[age] = limit.mg
    assert sorted(by_age) == list(range(121)), "UL rows must cover every age"
    assert by_age[0] is None  # infants: not established
    assert (by_age[1], by_age[3], by_age[4], by_age[8]) == (65, 65, 110, 110)
    assert all(by_age[age] == 350 for age in range(9, 121))
    assert limits[-1].age_to is None
    assert content.supplements.ul_covers.text


def test_rda_rows(content: Content) -> None:
    rows = content.rda
    assert rows[0].age_from_months == 0
    for before, after in itertools.pairwise(rows):
        assert before.age_to_months == after.age_from_months, before.label
    assert rows[-1].age_to_months is None
    expected = [
        ("AI", 30, 30, None, None),
        ("AI", 75, 75, None, None),
        ("RDA", 80, 80, None, None),
        ("RDA", 130, 130, None, None),
        ("RDA", 240, 240, None, None),
        ("RDA", 410, 360, 400, 360),
        ("RDA", 400, 310, 350, 310),
        ("RDA", 420, 320, 360, 320),
        ("RDA", 420, 320, None, None),
    ]
    got = [(r.kind, r.male, r.female, r.pregnancy, r.lactation) for r in rows]
    assert got == expected
    assert [r.age_from_months for r in rows] == [0, 7, 12, 48, 108, 168, 228, 372, 612]
    # Rows up to 14-18 years are the verified ODS consumer table; adult splits are FNB.
    assert {r.verification for r in rows[:6]} == {"ods_verified"}
    assert {r.verification for r in rows[6:]} == {"other_source"}


def test_interactions_name_their_medicines(content: Content) -> None:
    ids = {inter.id for inter in content.interactions}
    for required in ("bisphosphonates", "antibiotics", "loop_thiazide_diuretics", "ppis"):
        assert required in ids
    for inter in content.interactions:
        assert inter.examples, inter.id
        assert inter.effect, inter.id
        assert inter.timing, inter.id


# Lifestyle and shop pages: never the source of medicine advice where the fact base has a label,
# an SmPC or the ODS sheet. GoodRx stays only for high-dose zinc (nothing stronger exists).
WEAK_MEDICINE_SOURCES = {"heartysoul", "recipiq", "newsmax_rxlist", "goodrx"}


def test_medicines_a_pharmacist_expects_each_with_its_own_rule(content: Content) -> None:
    ids = {inter.id for inter in content.interactions}
    expected = {
        "dolutegravir",
        "bictegravir",
        "raltegravir",
        "cabotegravir",
        "levothyroxine",
        "gabapentin",
        "azole_antifungals",
        "digoxin",
        "penicillamine",
        "mycophenolate",
        "eltrombopag",
        "polystyrene_sulfonate",
        "potassium_sparing_diuretics",
    }
    assert expected <= ids
    by_id = {inter.id: inter for inter in content.interactions}
    assert "4 hours" in by_id["levothyroxine"].timing
    assert "2 hours after" in by_id["gabapentin"].timing
    assert "Avoid" in by_id["raltegravir"].timing
    assert "2 hours before or 6 hours after" in by_id["dolutegravir"].timing
    assert "2 hours before or 4 hours after" in by_id["cabotegravir"].timing
    assert "amiloride" in by_id["potassium_sparing_diuretics"].examples
    assert "spironolactone" in by_id["potassium_sparing_diuretics"].examples
    assert "kidney disease" in by_id["potassium_sparing_diuretics"].timing
    for inter in content.interactions:
        weak = WEAK_MEDICINE_SOURCES & set(inter.source)
        assert not weak or inter.id == "zinc", f"{inter.id}: weak source {sorted(weak)}"
    medicine_tips = [t for t in content.tips if set(t.source) & WEAK_MEDICINE_SOURCES]
    assert [t.id for t in medicine_tips] == ["t62"]  # the zinc tip


def test_wording_the_review_asked_for(content: Content) -> None:
    for label, text in data_texts(content):
        assert "there is no evidence" not in text.lower(), label
    tips = {t.id: t.text for t in content.tips}
    assert "upper limit" in tips["t57"]  # EFSA's 250 mg is a maximum, not a minimum
    assert "beans vary" not in tips["t33"]  # lentils are not beans
    assert "30 minutes to 4 hours" not in tips["t58"]
    facts = {f.id: f.text for f in content.facts}
    assert not facts["f06"].startswith("The NMDA plug")  # each fact stands alone


def test_faq_questions_fit_on_a_button(content: Content) -> None:
    for question in content.faq:
        assert len(question.question) < 60, question.id
        assert question.question.endswith("?"), question.id
        assert question.answer, question.id


# --------------------------------------------------------------------------------------------
# A malformed content directory stops start-up with a message naming the file


def _break(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not found in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("sources.toml", '[[source]]\nid = "ods_consumer"', '[[source]]\nid = "ods_consumer'),
        ("foods.toml", 'source = "ods_hp"', 'source = "nowhere"'),
        ("foods.toml", 'category = "nuts_seeds"', 'category = "sweets"'),
        ("foods.toml", "mg_per_serving = 156", 'mg_per_serving = "lots"'),
        ("tips.toml", 'verification = "ods_text_via_copy"', 'verification = "unverified"'),
        ("facts.toml", 'id = "f02"', 'id = "f01"'),
        ("symptoms.toml", 'text = "Loss of appetite"\n', 'text = "Loss of appetite"\nextra = 1\n'),
        ("supplements.toml", "[ul_covers]\n", "[ul_covers]\nlabel = 1\n"),
        ("interactions.toml", 'drug_class = "Bisphosphonates', 'drug_klass = "Bisphosphonates'),
        ("rda.toml", "male = 30", 'male = "thirty"'),
        ("faq.toml", 'source = "ods_hp"', "source = []"),
    ],
)
def test_a_malformed_file_raises_content_error_naming_it(
    tmp_path: Path, name: str, old: str, new: str
) -> None:
    broken = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, broken)
    _break(broken, name, old, new)
    with pytest.raises(ContentError, match=re.escape(name)):
        load_content(broken)


def test_a_missing_file_raises_content_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, broken)
    (broken / "tips.toml").unlink()
    with pytest.raises(ContentError, match=r"tips\.toml"):
        load_content(broken)


# --------------------------------------------------------------------------------------------
# Text templates: valid Telegram HTML, and every key used in code exists with its placeholders

# Characters that must be escaped in text. No double quote: templates may put a placeholder in
# an href="..." attribute, and Texts.get leaves quotes alone (values there are our own URLs).
SAMPLE_VALUE = "Sample <b>&amp; 'value' 42</b> & <"


def test_every_template_is_valid_telegram_html(content: Content) -> None:
    texts = content.texts
    problems = []
    for key, template in sorted(texts.templates.items()):
        fields = template_fields(template)
        odd = sorted(f for f in fields if not f.isidentifier())
        if odd:
            problems.append(f"{key}: use plain {{name}} placeholders, not {odd}")
            continue
        try:
            filled = texts.get(key, **dict.fromkeys(fields, SAMPLE_VALUE))
            check_html(filled)
        except (TelegramHtmlError, ValueError, KeyError, IndexError) as exc:
            problems.append(f"{key}: {exc}")
    assert not problems, "\n".join(problems)


@dataclass(frozen=True)
class TextUse:
    """One `<...>texts.get("key", ...)` or `<...>texts.raw("key")` call found in the code."""

    where: str
    method: str  # "get" or "raw"
    key: str
    keywords: frozenset[str]
    open_keywords: bool  # a **mapping was passed: only the key and named ones can be checked
    extra_positional: bool


def _receiver_name(node: ast.expr) -> str:
    """Return the name a call is made on: `texts`, `self.texts`, `ctx.content.texts`, ..."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _receiver_name(node.func)
    if isinstance(node, ast.Subscript):
        return _receiver_name(node.value)
    return ""


def find_text_uses(source: str, where: str) -> list[TextUse]:
    """Find texts.get / texts.raw calls whose first argument is a dotted string literal."""
    uses = []
    for node in ast.walk(ast.parse(source, filename=where)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method not in ("get", "raw"):
            continue
        if not _receiver_name(node.func.value).lower().endswith("texts"):
            continue
        if not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue  # a key held in a variable can't be checked here
        if "." not in first.value:
            continue
        uses.append(
            TextUse(
                where=f"{where}:{node.lineno}",
                method=method,
                key=first.value,
                keywords=frozenset(kw.arg for kw in node.keywords if kw.arg is not None),
                open_keywords=any(kw.arg is None for kw in node.keywords),
                extra_positional=len(node.args) > 1,
            )
        )
    return uses


def text_uses_in_bot() -> list[TextUse]:
    uses = []
    for path in sorted(BOT_DIR.rglob("*.py")):
        relative = path.relative_to(REPO_DIR).as_posix()
        uses += find_text_uses(path.read_text(encoding="utf-8"), relative)
    return uses


def check_text_uses(uses: list[TextUse], texts: Texts) -> list[str]:
    """Return one line per call whose key is unknown or whose placeholders don't match."""
    problems = []
    for use in uses:
        if use.key not in texts:
            problems.append(f"{use.where}: texts key {use.key!r} does not exist")
            continue
        wanted = texts.placeholders(use.key)
        if use.extra_positional:
            problems.append(f"{use.where}: {use.method}({use.key!r}) takes only the key")
        if use.method == "raw":
            if wanted:
                problems.append(
                    f"{use.where}: raw({use.key!r}) but the template needs {sorted(wanted)}"
                )
        elif use.open_keywords:
            if not use.keywords <= wanted:
                unknown = sorted(use.keywords - wanted)
                problems.append(f"{use.where}: get({use.key!r}) passes unknown {unknown}")
        elif use.keywords != wanted:
            problems.append(
                f"{use.where}: get({use.key!r}) passes {sorted(use.keywords)}, "
                f"the template needs {sorted(wanted)}"
            )
    return problems


def test_scanner_finds_and_checks_text_calls() -> None:
    sample = (
        "def f(texts, ctx, settings, key):\n"
        "    texts.get('a.one', name='x')\n"
        "    ctx.content.texts.raw('a.two')\n"
        "    self_texts = texts\n"
        "    self_texts.get('a.one', **{'name': 'x'})\n"
        "    get_texts().get('a.one')\n"
        "    texts.raw(key)\n"
        "    settings.get('a.one')\n"
        "    texts.get('nodot')\n"
        "    texts.raw('a.one', 'extra')\n"
    )
    uses = find_text_uses(sample, "sample.py")
    assert [(u.method, u.key, u.where) for u in uses] == [
        ("get", "a.one", "sample.py:2"),
        ("raw", "a.two", "sample.py:3"),
        ("get", "a.one", "sample.py:5"),
        ("get", "a.one", "sample.py:6"),
        ("raw", "a.one", "sample.py:10"),
    ]
    texts = Texts({"a.one": "Hi {name}", "a.two": "Plain"})
    problems = check_text_uses(uses, texts)
    assert problems == [
        "sample.py:6: get('a.one') passes [], the template needs ['name']",
        "sample.py:10: raw('a.one') takes only the key",
        "sample.py:10: raw('a.one') but the template needs ['name']",
    ]
    assert check_text_uses(find_text_uses("texts.get('b.x')", "s.py"), texts) == [
        "s.py:1: texts key 'b.x' does not exist"
    ]


def test_every_text_key_used_in_code_exists_with_matching_placeholders(content: Content) -> None:
    uses = text_uses_in_bot()
    assert uses, "the scanner found no texts.get/texts.raw calls in bot/"
    problems = check_text_uses(uses, content.texts)
    assert not problems, "\n".join(problems)


# Supplement forms the bot itself says have unbacked claims (supplements.toml): never used as
# the example in /help, the command menu or a usage text.
UNBACKED_FORMS = ("glycinate", "bisglycinate", "threonate")


def test_examples_use_a_neutral_label(content: Content) -> None:
    shown = [f"command {c.name}: {c.description}" for c in content.commands]
    shown += [f"texts {key}: {template}" for key, template in content.texts.templates.items()]
    for line in shown:
        for form in UNBACKED_FORMS:
            assert form not in line.lower(), line


# --------------------------------------------------------------------------------------------
# No tip repeats a fact, an FAQ answer, a /symptoms line or another tip

NEAR_SORT = 70  # rapidfuzz token_sort_ratio: the same words, more or less in the same order
NEAR_SET = 85  # token_set_ratio: one text is (nearly) the other plus a few words
MIN_WORDS_FOR_SET = 6  # short lines ("Seizures") are subsets of many texts


def near_duplicates(texts: list[tuple[str, str]]) -> list[str]:
    """Return one line per pair of texts that nearly repeat each other."""
    found = []
    for (label_a, a), (label_b, b) in itertools.combinations(texts, 2):
        if label_a.startswith("symptoms") and label_b.startswith("symptoms"):
            continue  # /symptoms lists a sign and, later, when it needs help: one message
        by_sort = fuzz.token_sort_ratio(a, b)
        long_enough = min(len(a.split()), len(b.split())) >= MIN_WORDS_FOR_SET
        by_set = fuzz.token_set_ratio(a, b) if long_enough else 0.0
        if by_sort >= NEAR_SORT or by_set >= NEAR_SET:
            found.append(f"{label_a} ~ {label_b} (sort {by_sort:.0f}, set {by_set:.0f})")
    return found


def test_the_near_duplicate_check_catches_a_reworded_copy() -> None:
    texts = [
        ("tip a", "Your gut takes up only about 30 to 40% of the magnesium in food, on average."),
        ("fact b", "On average, the gut absorbs only about 30 to 40% of the magnesium in food."),
        ("tip c", "Pumpkin seeds lead the food list with about 156 mg per ounce."),
    ]
    assert near_duplicates(texts) == ["tip a ~ fact b (sort 81, set 82)"]


def test_no_near_duplicates_across_tips_facts_faq_and_symptoms(content: Content) -> None:
    texts = [(f"tip {t.id}", t.text) for t in content.tips]
    texts += [(f"fact {f.id}", f.text) for f in content.facts]
    texts += [(f"faq {q.id}", q.answer) for q in content.faq]
    texts += [
        (f"symptoms {s.id} {i}", item.text)
        for s in content.symptoms
        for i, item in enumerate(s.items)
    ]
    assert not near_duplicates(texts), "\n".join(near_duplicates(texts))
    assert len(content.tips) >= 60
