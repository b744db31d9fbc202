"""Food search and amounts: parse "/food almonds 50g", match names fuzzily, page food lists.

Pure logic over the `Food` dataclasses (no telegram import). Matching uses rapidfuzz over each
food's name, the part of the name before its first comma ("Almonds" in "Almonds, dry
roasted") and its aliases, after lower-casing and dropping plural endings, so "almond",
"pumpkin seed" and "spinnach" all find their food.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from rapidfuzz import fuzz

from bot.content import DAILY_VALUE_MG, Food, round_half_up

GOOD_MATCH = 86.0
"""A score at or above this answers the food directly."""

CLOSE_MATCH = 60.0
"""Scores from here up to GOOD_MATCH are offered as "did you mean"."""

TEXT_MATCH = 90.0
"""Free text (not a command) must score at least this to be taken as a food."""

MAX_TEXT_WORDS = 5
"""Free text longer than this is a sentence, not a food name."""

EXACT_MATCH = 97.0
"""A score at or above this is the food the user meant, even when others match well too."""

AMBIGUOUS_GAP = 3.0
"""An inexact best match with a rival this close is ambiguous: the user chooses."""

OTHERS_GAP = 10.0
"""Other good matches this close to the best one are offered next to the answer."""

MAX_SUGGESTIONS = 3

MAX_GRAMS = 5000.0
MAX_SERVINGS = 50.0
GRAMS_PER_OUNCE = 28.349523125
GRAMS_PER_UNIT = {
    "g": 1.0,
    "gr": 1.0,
    "gram": 1.0,
    "grams": 1.0,
    "gm": 1.0,
    "gms": 1.0,
    "kg": 1000.0,
    "kgs": 1000.0,
    "oz": GRAMS_PER_OUNCE,
    "ounce": GRAMS_PER_OUNCE,
    "ounces": GRAMS_PER_OUNCE,
}
SERVING_UNITS = frozenset({"x", "serving", "servings", "portion", "portions", "times"})

_NUMBER = r"\d+(?:[.,]\d+)?|[.,]\d+"
_AMOUNT = re.compile(
    rf"^(?:(?P<pre_x>x)\s*(?P<pre_n>{_NUMBER})|(?P<n>{_NUMBER})\s*(?P<unit>[a-z]*)\.?)$"
)
_SPACE = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w\s]", re.UNICODE)


# --------------------------------------------------------------------------------------------
# Amounts


@dataclass(frozen=True)
class Amount:
    """How much of a food the user asked about: grams, or a number of servings."""

    kind: Literal["grams", "servings"]
    value: float


@dataclass(frozen=True)
class FoodQuery:
    """A parsed `/food` request: the name to look up and the optional amount.

    `bad_amount` holds the amount text when one was given but could not be understood.
    """

    name: str
    amount: Amount | None = None
    bad_amount: str = ""


def parse_amount(text: str) -> Amount | None:
    """Parse "50g", "50 g", "100 grams", "2", "2x", "x2", "1.5", "2 servings"; else None."""
    cleaned = _SPACE.sub(" ", text.strip().lower())
    match = _AMOUNT.match(cleaned)
    if match is None:
        return None
    number = match.group("pre_n") or match.group("n")
    value = float(number.replace(",", "."))
    unit = match.group("unit") or ""
    if not math.isfinite(value) or value <= 0:
        return None
    if unit in GRAMS_PER_UNIT:
        grams = value * GRAMS_PER_UNIT[unit]
        return Amount("grams", grams) if grams <= MAX_GRAMS else None
    if match.group("pre_x") or unit in SERVING_UNITS or not unit:
        return Amount("servings", value) if value <= MAX_SERVINGS else None
    return None


def _looks_like_amount(word: str) -> bool:
    """Return True for a word that was meant as an amount (it holds a digit)."""
    return any(ch.isdigit() for ch in word)


def parse_food_query(text: str) -> FoodQuery:
    """Split "almonds 50g" / "banana 2 x" / "pumpkin seeds 1.5" into name and amount.

    The amount is taken from the end: the last word, or the last two ("50 g", "2 servings").
    A trailing word with a digit that is not an amount ("almonds 5kgs!") is reported as bad.
    """
    words = _SPACE.sub(" ", text.strip()).split(" ") if text.strip() else []
    if len(words) <= 2 and parse_amount(" ".join(words)) is not None:
        return FoodQuery("", parse_amount(" ".join(words)))  # an amount without a food
    for size in (2, 1):
        if len(words) > size:
            tail = " ".join(words[-size:])
            amount = parse_amount(tail)
            if amount is not None:
                return FoodQuery(" ".join(words[:-size]), amount)
    if len(words) > 1 and _looks_like_amount(words[-1]):
        start = -2 if len(words) > 2 and _looks_like_amount(words[-2]) else -1
        return FoodQuery(" ".join(words[:start]), bad_amount=" ".join(words[start:]))
    return FoodQuery(" ".join(words))


def amount_token(amount: Amount) -> str:
    """Encode an amount for callback data: "g50" (grams) or "s2" (servings)."""
    return ("g" if amount.kind == "grams" else "s") + format_number(amount.value)


def parse_amount_token(token: str) -> Amount | None:
    """Decode `amount_token` output; None for anything else."""
    match = re.fullmatch(r"([gs])(\d{1,5}(?:\.\d)?)", token)
    if match is None:
        return None
    value = float(match.group(2))
    if match.group(1) == "g":
        return Amount("grams", value) if 0 < value <= MAX_GRAMS else None
    return Amount("servings", value) if 0 < value <= MAX_SERVINGS else None


def mg_for(food: Food, amount: Amount) -> float:
    """Return the magnesium in `amount` of `food` (grams use the per-100 g value)."""
    if amount.kind == "grams":
        return food.mg_per_100g * amount.value / 100
    return food.mg_per_serving * amount.value


def mg_range_for(food: Food, amount: Amount) -> tuple[float, float | None]:
    """Return the mg in `amount`, and the top of the range when the source gives a range."""
    low = mg_for(food, amount)
    if amount.kind == "servings" and food.serving_mg_max is not None:
        high = food.serving_mg_max * amount.value
        return low, high if high > low else None
    return low, None


def dv_percent(mg: float) -> int:
    """Return `mg` as a share of the 420 mg Daily Value, rounded like a label."""
    return round_half_up(mg * 100 / DAILY_VALUE_MG)


def format_number(value: float) -> str:
    """Format a quantity for display: whole numbers bare, others with one decimal."""
    if abs(value - round(value)) < 0.05:
        return str(round(value))
    return f"{value:.1f}"


def format_amount_mg(value: float) -> str:
    """Format an amount of magnesium as users see it: whole mg ("118"), "<1" below half a mg.

    Data files keep decimals (117.6 mg in 30 g of flaxseed); people are shown whole milligrams.
    """
    whole = round_half_up(value)
    return str(whole) if whole > 0 else "<1"


def format_mg_range(low: float, high: float | None) -> str:
    """Format a computed amount, or a range of two ("48–54")."""
    if high is None:
        return format_amount_mg(low)
    return f"{format_amount_mg(low)}–{format_amount_mg(high)}"


def format_mg(food: Food) -> str:
    """Return the whole mg in one serving, as a range when the source gives one ("24–27")."""
    if food.serving_mg_max is not None and food.serving_mg_max > food.mg_per_serving:
        return format_mg_range(food.mg_per_serving, food.serving_mg_max)
    return format_amount_mg(food.mg_per_serving)


# --------------------------------------------------------------------------------------------
# Matching


def normalize(text: str) -> str:
    """Lower-case, drop punctuation and plural endings: "Pumpkin seeds," -> "pumpkin seed"."""
    words = _NOT_WORD.sub(" ", text.lower()).split()
    return " ".join(_singular(w) for w in words)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("oes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def names_of(food: Food) -> tuple[str, ...]:
    """Return every normalized name a food can be found by."""
    head = food.name.split(",", 1)[0]
    found = [normalize(n) for n in (food.name, head, *food.aliases)]
    return tuple(dict.fromkeys(n for n in found if n))


def score(query: str, name: str) -> float:
    """Score a normalized query against one normalized name (0-100).

    Whole-string similarity, plus word-set matches ("seed pumpkin"), plus a prefix bonus so
    "chia" finds "chia seed". Partial matching alone is avoided: it lets "hello" match
    "shelled".
    """
    best = max(fuzz.ratio(query, name), fuzz.token_sort_ratio(query, name))
    if len(query) >= 3:
        query_words = query.split()
        name_words = name.split()
        if all(any(fuzz.ratio(q, n) >= 85 for n in name_words) for q in query_words):
            # every word of the query is (nearly) a word of the name: "pumpkin" -> pumpkin seed
            covered = sum(len(q) for q in query_words) / max(len(name.replace(" ", "")), 1)
            best = max(best, 86 + 14 * min(covered, 1.0) - (0 if covered > 0.3 else 6))
    return float(best)


@dataclass(frozen=True)
class Match:
    """One food with how well it matched the query."""

    food: Food
    score: float


def rank(query: str, foods: Sequence[Food]) -> list[Match]:
    """Return every food with its best score for `query`, best first (ties: more mg first)."""
    wanted = normalize(query)
    if not wanted:
        return []
    matches = [Match(f, max(score(wanted, n) for n in names_of(f))) for f in foods]
    return sorted(matches, key=lambda m: (-m.score, -m.food.mg_per_serving, m.food.name))


@dataclass(frozen=True)
class Search:
    """The outcome of a food search.

    `food` is set for a good match; `others` then lists other good matches (ambiguous names
    like "rice"). Without a good match, `suggestions` lists close ones (maybe none), or the
    foods an ambiguous name fits equally well ("beans", "chocolate": `ambiguous`).
    """

    food: Food | None
    others: tuple[Food, ...] = ()
    suggestions: tuple[Food, ...] = ()
    ambiguous: bool = False


def search(query: str, foods: Sequence[Food]) -> Search:
    """Find the food `query` names, or the closest few.

    A near-exact match wins outright. A good but inexact match with a rival just as good
    ("bean": black, kidney, pinto) is ambiguous, so the user picks among them.
    """
    ranked = rank(query, foods)
    if not ranked:
        return Search(None)
    top = ranked[0]
    good = [m for m in ranked[1:] if m.score >= GOOD_MATCH]
    if top.score >= GOOD_MATCH:
        rivals = [m for m in good if m.score >= top.score - AMBIGUOUS_GAP]
        if top.score < EXACT_MATCH and rivals:
            picks = [top.food, *(m.food for m in rivals)]
            return Search(None, suggestions=tuple(picks[:MAX_SUGGESTIONS]), ambiguous=True)
        others = [m.food for m in good if m.score >= top.score - OTHERS_GAP]
        return Search(top.food, others=tuple(others[:MAX_SUGGESTIONS]))
    close = [m.food for m in ranked if m.score >= CLOSE_MATCH]
    return Search(None, suggestions=tuple(close[:MAX_SUGGESTIONS]))


def match_free_text(text: str, foods: Sequence[Food]) -> tuple[Food, FoodQuery] | None:
    """Return the food plain text names, strictly: chatter like "hello" matches nothing.

    Plain text is taken as a food only when it is short, names one food unambiguously, and
    either spells a whole name nearly right ("spinnach") or uses only words of that food's
    names ("pumpkin seeds"); one close word ("what" ~ "wheat") is not enough.
    """
    query = parse_food_query(text)
    wanted = normalize(query.name)
    if query.bad_amount or len(wanted) < 3 or "?" in text:
        return None
    if len(wanted.split()) > MAX_TEXT_WORDS:
        return None
    found = search(query.name, foods).food
    if found is None:
        return None
    names = names_of(found)
    spelled = max(fuzz.ratio(wanted, n) for n in names) >= TEXT_MATCH
    words = {w for n in names for w in n.split()}
    if spelled or all(w in words for w in wanted.split()):
        return found, query
    return None


# --------------------------------------------------------------------------------------------
# Lists and pages

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, its index (from 0) and how many pages there are."""

    items: tuple[T, ...]
    index: int
    count: int
    first: int  # position of the first item in the whole list (from 0)

    @property
    def has_prev(self) -> bool:
        """Return True when there is a page before this one."""
        return self.index > 0

    @property
    def has_next(self) -> bool:
        """Return True when there is a page after this one."""
        return self.index < self.count - 1


def paginate(items: Sequence[T], index: int, size: int) -> Page[T]:
    """Return page `index` of `items` (clamped to the pages that exist)."""
    count = max(1, math.ceil(len(items) / size))
    index = min(max(index, 0), count - 1)
    first = index * size
    return Page(tuple(items[first : first + size]), index, count, first)


def top_foods(
    foods: Sequence[Food], category: str | None = None, *, per_100g: bool = False
) -> list[Food]:
    """Return the foods (of one category, or all) by mg per serving, richest first.

    With `per_100g`, rank by mg per 100 g instead, leaving out foods whose serving has no
    known weight (their per-100 g figure is a placeholder).
    """
    chosen = [f for f in foods if category is None or f.category == category]
    if per_100g:
        return sorted((f for f in chosen if f.grams_known), key=lambda f: (-f.mg_per_100g, f.name))
    return sorted(chosen, key=lambda f: (-f.mg_per_serving, f.name))
