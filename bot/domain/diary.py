"""The magnesium diary: parse "/log almonds 50g" and "/log supplement 200 mg", doses in reminder
labels, and the sums and shares /today shows.

Pure logic, no telegram and no database. Food names and amounts are parsed exactly as `/food`
parses them (`bot.domain.foods`); what is added here is the supplement side ("200 mg", a form
name such as "glycinate"), the "yesterday" prefix and the limits of one entry.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.content import round_half_up
from bot.domain.foods import FoodQuery, parse_food_query


class EntryKind(StrEnum):
    """What a diary entry holds. Only supplements count toward the supplement upper limit."""

    FOOD = "food"
    SUPPLEMENT = "supplement"


MAX_SUPPLEMENT_MG = 2000.0
"""The largest supplement dose one entry may hold (a laxative dose is about this much)."""

MAX_ENTRIES_PER_DAY = 30
"""Entries one person may keep for one day: plenty for a diary, a bound for a flood."""

MAX_LABEL = 60
"""Characters of a supplement label that are kept."""

BAR_WIDTH = 10
"""Cells in a text progress bar."""

YESTERDAY_WORDS = frozenset({"yesterday", "yday"})
# A first word that says "this is a supplement", besides the names of magnesium forms.
SUPPLEMENT_WORDS = frozenset(
    {
        "supplement",
        "supplements",
        "supp",
        "supps",
        "pill",
        "pills",
        "tablet",
        "tablets",
        "capsule",
        "capsules",
        "magnesium",
        "mag",
    }
)
# Forms sold that the supplement table does not list; the listed ones come from the content.
EXTRA_FORM_WORDS = frozenset({"bisglycinate", "malate", "taurate", "orotate", "threonate"})

_MG = re.compile(
    r"(?<![\w.,])(?P<sign>[-−]?)(?P<n>\d+(?:[.,]\d+)?|[.,]\d+)\s*(?:mg|milligrams?)\b\.?",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z]+")


# --------------------------------------------------------------------------------------------
# /log requests


@dataclass(frozen=True)
class FoodLog:
    """`/log almonds 50g`: a food, parsed like `/food`; `days_back` is 1 for yesterday."""

    query: FoodQuery
    days_back: int = 0


@dataclass(frozen=True)
class SupplementLog:
    """`/log supplement 200 mg citrate`: a dose in mg and an optional label."""

    mg: float
    label: str = ""
    days_back: int = 0


class LogProblem(StrEnum):
    """Why a /log request cannot be stored."""

    EMPTY = "empty"  # nothing after /log (or after "yesterday")
    NO_MG = "no_mg"  # a supplement without its mg
    BAD_MG = "bad_mg"  # zero, negative or above MAX_SUPPLEMENT_MG
    MG_FOR_FOOD = "mg_for_food"  # "/log almonds 50mg": foods take grams or servings


@dataclass(frozen=True)
class LogError:
    """A request that cannot be stored, with the words to quote back."""

    problem: LogProblem
    value: str = ""
    days_back: int = 0


LogRequest = FoodLog | SupplementLog | LogError


def form_words(form_ids: Iterable[str]) -> frozenset[str]:
    """Return the words that name a magnesium form: the supplement table's ids and a few more."""
    return frozenset(f.lower() for f in form_ids) | EXTRA_FORM_WORDS


def parse_mg(text: str) -> tuple[float, str] | None:
    """Return (value, matched text) of the one "200 mg" in `text`; None for none or several.

    A minus sign is kept, so "-200 mg" is read (and then refused) instead of ignored.
    """
    found = list(_MG.finditer(text))
    if len(found) != 1:
        return None
    match = found[0]
    value = float(match["n"].replace(",", "."))
    return (-value if match["sign"] else value), match[0]


def parse_log(text: str, forms: Collection[str]) -> LogRequest:
    """Parse what follows /log.

    Supplements start with a supplement word or a form name ("supplement 200 mg",
    "glycinate 200mg", "magnesium citrate 200 mg"), or are nothing but a dose ("200 mg").
    Everything else is a food, parsed like `/food` (name, then an optional amount).
    """
    words = _SPACE.sub(" ", text.strip()).split(" ") if text.strip() else []
    days_back = 0
    if words and words[0].lower() in YESTERDAY_WORDS:
        days_back = 1
        words = words[1:]
    if not words:
        return LogError(LogProblem.EMPTY, days_back=days_back)
    rest = " ".join(words)
    first = words[0].lower()
    dose = parse_mg(rest)
    only_dose = dose is not None and not rest.replace(dose[1], "").strip()
    many_doses = len(_MG.findall(rest)) > 1
    if first in SUPPLEMENT_WORDS or first in forms or only_dose:
        if dose is None:
            value = rest if many_doses else ""
            return LogError(LogProblem.NO_MG, value, days_back)
        mg, matched = dose
        if not math.isfinite(mg) or mg <= 0 or mg > MAX_SUPPLEMENT_MG:
            return LogError(LogProblem.BAD_MG, matched.strip(), days_back)
        return SupplementLog(mg, supplement_label(rest.replace(matched, " ")), days_back)
    if dose is not None or many_doses:
        return LogError(LogProblem.MG_FOR_FOOD, rest, days_back)
    return FoodLog(parse_food_query(rest), days_back)


def supplement_label(text: str) -> str:
    """Return the label of a supplement entry: its words without a leading "supplement"."""
    words = _SPACE.sub(" ", text.strip()).split(" ") if text.strip() else []
    if words and words[0].lower() in SUPPLEMENT_WORDS - {"magnesium", "mag"}:
        words = words[1:]
    return " ".join(words)[:MAX_LABEL].strip()


def dose_in_label(label: str, forms: Collection[str]) -> float | None:
    """Return the magnesium dose a reminder label names ("magnesium citrate 200 mg" -> 200).

    Only a label with exactly one mg amount counts, and only when it is about magnesium: it
    names magnesium or a magnesium form, or holds nothing but the dose (a reminder's default
    label is magnesium). "zinc 15 mg" and "magnesium 200 mg, B6 10 mg" give None.
    """
    dose = parse_mg(label)
    if dose is None:
        return None
    mg, matched = dose
    if not math.isfinite(mg) or mg <= 0 or mg > MAX_SUPPLEMENT_MG:
        return None
    words = set(_WORD.findall(label.replace(matched, " ").lower()))
    if not words or words & (SUPPLEMENT_WORDS | set(forms)):
        return mg
    return None


def entry_day(today: date, days_back: int) -> date:
    """Return the local date an entry is for: today, or yesterday."""
    return today - timedelta(days=days_back)


# --------------------------------------------------------------------------------------------
# Sums and shares


@dataclass(frozen=True)
class Logged:
    """One diary entry as the sums see it."""

    day: date
    kind: EntryKind
    mg: float


@dataclass(frozen=True)
class DayTotal:
    """Magnesium logged on one day: from food, from supplements, and both together."""

    food_mg: float = 0.0
    supplement_mg: float = 0.0

    @property
    def total_mg(self) -> float:
        """Return food and supplements together (the RDA counts both)."""
        return self.food_mg + self.supplement_mg


def day_total(entries: Iterable[Logged]) -> DayTotal:
    """Add up entries (of one day) by kind."""
    food = supplement = 0.0
    for entry in entries:
        if entry.kind is EntryKind.SUPPLEMENT:
            supplement += entry.mg
        else:
            food += entry.mg
    return DayTotal(food, supplement)


def percent_of(value: float, target: float) -> int:
    """Return `value` as a whole percentage of `target` (half rounds up); 0 without a target."""
    if target <= 0:
        return 0
    return round_half_up(value * 100 / target)


def bar_cells(value: float, target: float, width: int = BAR_WIDTH) -> int:
    """Return how many of `width` cells a progress bar fills: full at the target, never more.

    Any amount above zero shows at least one cell, so a small entry is never invisible.
    """
    if target <= 0 or value <= 0:
        return 0
    return max(1, min(width, round_half_up(value * width / target)))


def above_limit(supplement_mg: float, limit_mg: int | None) -> bool:
    """Return True when supplements exceed the upper limit (reaching it is still within it)."""
    return limit_mg is not None and supplement_mg > limit_mg + 1e-9
