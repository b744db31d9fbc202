from __future__ import annotations

import random

from bot.content import Content
from bot.domain.facts import pick_fact


def test_pick_fact_avoids_the_last_one(content: Content) -> None:
    rng = random.Random(7)
    last = content.facts[0]
    for _ in range(50):
        assert pick_fact(content.facts, last.id, rng).id != last.id
    only = content.facts[:1]
    assert pick_fact(only, only[0].id, rng) is only[0]
