from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.tips import Rotation, new_round, next_tip, repair

TIPS = [f"tip{n}" for n in range(10)]


def show(count: int, tip_ids: list[str], seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    order, cursor, shown = "", 0, []
    for _ in range(count):
        tip_id, order, cursor = next_tip(order, cursor, tip_ids, rng)
        shown.append(tip_id)
    return shown


def test_first_tip_of_a_new_user() -> None:
    tip_id, order, cursor = next_tip("", 0, TIPS, random.Random(1))
    assert tip_id in TIPS
    assert sorted(order.split(",")) == sorted(TIPS)
    assert order.split(",")[0] == tip_id
    assert cursor == 1


def test_each_round_shows_every_tip_once() -> None:
    shown = show(5 * len(TIPS), TIPS)
    for start in range(0, len(shown), len(TIPS)):
        assert sorted(shown[start : start + len(TIPS)]) == sorted(TIPS)


def test_a_new_round_never_starts_with_the_last_tip() -> None:
    for seed in range(200):
        shown = show(2 * 3, ["a", "b", "c"], seed)
        assert shown[2] != shown[3]


def test_orders_differ_between_users() -> None:
    rounds = {tuple(show(len(TIPS), TIPS, seed)) for seed in range(20)}
    assert len(rounds) > 15


def test_first_tips_are_spread_out() -> None:
    counts = Counter(show(1, TIPS, seed)[0] for seed in range(1000))
    assert set(counts) == set(TIPS)
    assert max(counts.values()) < 200  # 100 expected for each


def test_a_single_tip_repeats() -> None:
    assert show(3, ["only"]) == ["only", "only", "only"]


def test_removed_tips_are_dropped() -> None:
    rng = random.Random(3)
    _tip, order, cursor = next_tip("", 0, TIPS, rng)
    remaining = [tip for tip in TIPS if tip not in order.split(",")[1:4]]
    shown = []
    for _ in range(len(remaining) - 1):
        tip_id, order, cursor = next_tip(order, cursor, remaining, rng)
        shown.append(tip_id)
    assert set(shown) == set(remaining) - {order.split(",")[0]}
    assert set(order.split(",")) == set(remaining)


def test_added_tips_come_before_the_round_ends() -> None:
    rng = random.Random(4)
    order, cursor = "", 0
    for _ in range(len(TIPS) - 1):
        _tip, order, cursor = next_tip(order, cursor, TIPS, rng)
    grown = [*TIPS, "new1", "new2"]
    next_three = []
    for _ in range(3):
        tip_id, order, cursor = next_tip(order, cursor, grown, rng)
        next_three.append(tip_id)
    assert {"new1", "new2"} <= set(next_three)
    assert cursor == len(grown)


def test_added_tips_after_a_finished_round_are_shown_first() -> None:
    rng = random.Random(5)
    order, cursor = "", 0
    for _ in range(3):
        _tip, order, cursor = next_tip(order, cursor, ["a", "b", "c"], rng)
    tip_id, order, cursor = next_tip(order, cursor, ["a", "b", "c", "d"], rng)
    assert tip_id == "d"
    assert cursor == 4


@pytest.mark.parametrize(
    ("order", "cursor"),
    [
        ("", 0),
        ("", 7),
        (",,,", 2),
        ("tip1,tip1,tip2", 1),
        ("gone,also-gone", 1),
        ("tip1, tip2 ,tip3", -5),
        ("tip1,tip2", 999),
        ("garbage text", 0),
    ],
)
def test_junk_state_is_repaired(order: str, cursor: int) -> None:
    tip_id, new_order, new_cursor = next_tip(order, cursor, TIPS, random.Random(0))
    assert tip_id in TIPS
    assert sorted(new_order.split(",")) == sorted(TIPS)
    assert 1 <= new_cursor <= len(TIPS)
    assert new_order.split(",")[new_cursor - 1] == tip_id


@pytest.mark.parametrize("bad", [[], [""], ["a,b"], [" a"]])
def test_bad_tip_ids_are_rejected(bad: list[str]) -> None:
    with pytest.raises(ValueError, match="tip"):
        next_tip("", 0, bad, random.Random(0))


def test_duplicate_tip_ids_count_once() -> None:
    _tip, order, _cursor = next_tip("", 0, ["a", "b", "a"], random.Random(0))
    assert sorted(order.split(",")) == ["a", "b"]


def test_rotation_helpers() -> None:
    rotation = Rotation.parse("a,b,c", 2)
    assert rotation == Rotation(("a", "b", "c"), 2)
    assert rotation.last_shown == "b"
    assert not rotation.exhausted
    assert rotation.serialize() == "a,b,c"
    assert Rotation.parse("", 0).last_shown is None
    assert Rotation.parse("a", 1).exhausted
    repaired = repair(Rotation(("a", "b", "c"), 2), ["b", "c", "d"], random.Random(0))
    assert repaired.order[:1] == ("b",)
    assert set(repaired.order[1:]) == {"c", "d"}
    assert repaired.cursor == 1
    assert new_round(["a", "b"], "a", random.Random(0)).order[0] == "b"


# --------------------------------------------------------------------------------------------
# Properties over random sequences of "show a tip" and "the content changed"

SHOW = st.just(("show", 0))
ADD = st.tuples(st.just("add"), st.integers(1, 3))
REMOVE = st.tuples(st.just("remove"), st.integers(0, 10_000))
STEPS = st.lists(st.one_of(SHOW, SHOW, SHOW, ADD, REMOVE), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(initial=st.integers(1, 8), steps=STEPS, seed=st.integers(0, 2**32))
def test_rotation_properties(initial: int, steps: list[tuple[str, int]], seed: int) -> None:
    rng = random.Random(seed)
    tips = [f"t{n}" for n in range(initial)]
    fresh = initial
    order, cursor = "", 0
    this_round: list[str] = []
    previous: str | None = None
    for action, number in steps:
        if action == "add":
            tips += [f"t{fresh + n}" for n in range(number)]
            fresh += number
            continue
        if action == "remove":
            if len(tips) > 1:
                tips.pop(number % len(tips))
            continue
        tip_id, order, cursor = next_tip(order, cursor, tips, rng)
        assert tip_id in tips
        assert sorted(order.split(",")) == sorted(tips)
        assert order.split(",")[cursor - 1] == tip_id
        if cursor == 1 and this_round:
            # Either a new round (the last one showed every current tip), or every tip shown
            # in this round has since been removed.
            shown_and_current = set(this_round) & set(tips)
            assert set(tips) <= set(this_round) or not shown_and_current
            this_round = []
        assert tip_id not in this_round  # no repeats within a round
        this_round.append(tip_id)
        if previous is not None and len(tips) > 1:
            assert tip_id != previous
        previous = tip_id
