"""Find the medicine `/interactions <name>` asks about: generic or brand name, misspelt or not.

Pure logic over the `Interaction` entries (no telegram import). Each entry is found by its
short name, its drug class and its aliases (generic and brand names), scored like food names
(`bot.domain.foods.score`), so "fosamax", "levothyroxin" and "water pills" all find theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.content import Interaction
from bot.domain.foods import AMBIGUOUS_GAP, CLOSE_MATCH, EXACT_MATCH, GOOD_MATCH, normalize, score

MAX_SUGGESTIONS = 4


@dataclass(frozen=True)
class MedicineSearch:
    """The outcome of a medicine search.

    `found` is set for a clear match. Otherwise `suggestions` lists the entries the name may
    mean: several good matches (`ambiguous`: the name fits each), or merely close ones (the
    name may be a medicine not listed at all). Both empty means nothing is like it.
    """

    found: Interaction | None
    suggestions: tuple[Interaction, ...] = ()
    ambiguous: bool = False


def names_of(item: Interaction) -> tuple[str, ...]:
    """Return every normalized name an entry can be found by."""
    found = [normalize(n) for n in (item.name, item.drug_class, *item.aliases)]
    return tuple(dict.fromkeys(n for n in found if n))


def find_medicine(query: str, items: Sequence[Interaction]) -> MedicineSearch:
    """Find the entry `query` names, or the few it may mean.

    An exact name wins. A good but inexact match with a rival just as good ("water pills":
    two kinds of diuretic) is a choice for the user, never a guess: with medicines a wrong
    answer is worse than a question.
    """
    wanted = normalize(query)
    if not wanted:
        return MedicineSearch(None)
    ranked = sorted(
        ((max(score(wanted, n) for n in names_of(item)), item) for item in items),
        key=lambda pair: -pair[0],  # stable: ties keep the file's order
    )
    best, top = ranked[0]
    if best >= GOOD_MATCH:
        # Exact: only other exact names compete. Good: anything good and nearly as close.
        floor = EXACT_MATCH if best >= EXACT_MATCH else max(GOOD_MATCH, best - AMBIGUOUS_GAP)
        rivals = [item for value, item in ranked[1:] if value >= floor]
        if not rivals:
            return MedicineSearch(top)
        return MedicineSearch(None, tuple([top, *rivals][:MAX_SUGGESTIONS]), ambiguous=True)
    close = [item for value, item in ranked if value >= CLOSE_MATCH]
    return MedicineSearch(None, tuple(close[:MAX_SUGGESTIONS]))
