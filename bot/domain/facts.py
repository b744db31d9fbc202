"""Which fact to show next: any but the one shown last."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol, TypeVar


class HasId(Protocol):
    """Anything with a string id (a fact, a tip)."""

    @property
    def id(self) -> str:
        """The item's id."""
        ...


T = TypeVar("T", bound=HasId)


def pick_fact(facts: Sequence[T], last_id: str | None, rng: random.Random) -> T:
    """Pick a random fact, never the one shown last (when there is another)."""
    choices = [f for f in facts if f.id != last_id] or list(facts)
    return rng.choice(choices)
