"""Each user's own shuffled order of daily tips.

The state is stored as a comma-separated string of tip ids (the user's current shuffle) and a
cursor: how many of them have been shown. No tip repeats until every tip has been shown; then a
new shuffle starts, and it never starts with the tip that was shown last. When the content's
tip list changes, the stored order is repaired: removed tips are dropped and new tips are mixed
into the part not yet shown.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

SEPARATOR = ","


@dataclass(frozen=True)
class Rotation:
    """One user's place in their tip order.

    Attributes:
        order: Tip ids in the order they are shown in this round.
        cursor: How many of `order` have been shown (0 to len(order)).
    """

    order: tuple[str, ...]
    cursor: int

    @classmethod
    def parse(cls, order: str, cursor: int) -> Rotation:
        """Read stored state, tolerating junk: empty or repeated ids, an out-of-range cursor."""
        ids = tuple(dict.fromkeys(part.strip() for part in order.split(SEPARATOR)))
        ids = tuple(tip_id for tip_id in ids if tip_id)
        return cls(ids, min(max(cursor, 0), len(ids)))

    def serialize(self) -> str:
        """Return the order as stored: tip ids joined by commas."""
        return SEPARATOR.join(self.order)

    @property
    def last_shown(self) -> str | None:
        """The tip shown most recently in this round, if any."""
        return self.order[self.cursor - 1] if self.cursor > 0 else None

    @property
    def exhausted(self) -> bool:
        """True when every tip in the order has been shown."""
        return self.cursor >= len(self.order)


def _check_tip_ids(tip_ids: Sequence[str]) -> tuple[str, ...]:
    """Return the tip ids without repeats; reject an empty list and unstorable ids."""
    unique = tuple(dict.fromkeys(tip_ids))
    if not unique:
        raise ValueError("there are no tips to choose from")
    for tip_id in unique:
        if not tip_id or tip_id != tip_id.strip() or SEPARATOR in tip_id:
            raise ValueError(f"tip id {tip_id!r} cannot be stored in a rotation")
    return unique


def repair(rotation: Rotation, tip_ids: Sequence[str], rng: random.Random) -> Rotation:
    """Bring a rotation up to date with the current tip list.

    Tips no longer in `tip_ids` are dropped; tips not in the order yet are inserted at random
    places in the part that has not been shown.

    Args:
        rotation: The stored rotation.
        tip_ids: The current tip ids.
        rng: The source of randomness.

    Returns:
        A rotation whose order is a permutation of `tip_ids`.
    """
    current = set(tip_ids)
    seen = [tip_id for tip_id in rotation.order[: rotation.cursor] if tip_id in current]
    unseen = [tip_id for tip_id in rotation.order[rotation.cursor :] if tip_id in current]
    known = set(rotation.order)
    for tip_id in tip_ids:
        if tip_id not in known:
            unseen.insert(rng.randint(0, len(unseen)), tip_id)
    return Rotation((*seen, *unseen), len(seen))


def new_round(tip_ids: Sequence[str], last_shown: str | None, rng: random.Random) -> Rotation:
    """Start a new shuffled round that does not begin with `last_shown`."""
    order = list(tip_ids)
    rng.shuffle(order)
    if len(order) > 1 and order[0] == last_shown:
        swap = rng.randrange(1, len(order))
        order[0], order[swap] = order[swap], order[0]
    return Rotation(tuple(order), 0)


def next_tip(
    order: str, cursor: int, tip_ids: Sequence[str], rng: random.Random
) -> tuple[str, str, int]:
    """Choose a user's next tip and advance their rotation.

    Args:
        order: The stored order (comma-separated tip ids; "" for a new user).
        cursor: The stored cursor (how many tips of `order` have been shown).
        tip_ids: The ids of the tips that exist now.
        rng: The source of randomness (seed it in tests).

    Returns:
        (tip_id, new_order, new_cursor): the tip to show, and the state to store.

    Raises:
        ValueError: If `tip_ids` is empty or has an id that is empty, padded with spaces or
            contains a comma.
    """
    ids = _check_tip_ids(tip_ids)
    stored = Rotation.parse(order, cursor)
    rotation = repair(stored, ids, rng)
    if rotation.exhausted:
        rotation = new_round(ids, stored.last_shown, rng)
    tip_id = rotation.order[rotation.cursor]
    return tip_id, rotation.serialize(), rotation.cursor + 1
