from __future__ import annotations

import pytest

from bot.content import DAILY_VALUE_MG, Content
from bot.domain.profile import (
    NeedsSex,
    Profile,
    TooYoung,
    age_bands,
    columns_of,
    parse_profile,
    profile_from_columns,
    sex_matters,
    status_possible,
    targets_for,
)
from bot.domain.rda import IntakeError


def parse(text: str, content: Content) -> object:
    return parse_profile(text, content.rda, content.supplements.upper_limits)


@pytest.mark.parametrize(
    ("text", "profile"),
    [
        ("35 f", Profile(35, "female")),
        ("30 f pregnant", Profile(30, "female", "pregnant")),
        ("pregnant 30", Profile(30, "female", "pregnant")),
        ("25 f breastfeeding", Profile(25, "female", "lactating")),
        ("16 m", Profile(16, "male")),
        ("6", Profile(6)),
        ("1", Profile(1)),
    ],
)
def test_one_line_profiles(content: Content, text: str, profile: Profile) -> None:
    assert parse(text, content) == profile


def test_what_a_profile_cannot_be(content: Content) -> None:
    assert parse("35", content) == NeedsSex(35)
    assert parse("5 months", content) == TooYoung()
    assert parse("0", content) == TooYoung()
    assert parse("200 f", content) is IntakeError.BAD_AGE
    assert parse("pregnant 60", content) is IntakeError.NO_PREGNANCY_VALUE
    assert parse("30 m pregnant", content) is IntakeError.MALE_STATUS
    assert parse("30 x", content) is IntakeError.UNKNOWN_WORD


@pytest.mark.parametrize(
    ("profile", "need", "limit"),
    [
        (Profile(35, "female"), 320, 350),
        (Profile(35, "male"), 420, 350),
        (Profile(16, "male"), 410, 350),
        (Profile(30, "female", "pregnant"), 350, 350),
        (Profile(25, "female", "lactating"), 310, 350),
        (Profile(2), 80, 65),
        (Profile(6), 130, 110),
    ],
)
def test_targets_come_from_the_intake_tables(
    content: Content, profile: Profile, need: int, limit: int
) -> None:
    targets = targets_for(profile, content.rda, content.supplements.upper_limits)
    assert (targets.need_mg, targets.limit_mg, targets.personal) == (need, limit, True)
    assert not targets.daily_value
    assert len(targets.cited) == 2  # the RDA row and the UL row, for the source line


def test_without_a_profile_the_adult_daily_value_and_limit(content: Content) -> None:
    for profile in (None, Profile(35)):  # an adult without a sex has no single figure
        targets = targets_for(profile, content.rda, content.supplements.upper_limits)
        assert (targets.need_mg, targets.limit_mg) == (DAILY_VALUE_MG, 350)
        assert (targets.personal, targets.daily_value) == (False, True)


def test_age_groups_for_buttons_start_at_one_year(content: Content) -> None:
    bands = age_bands(content.rda)
    assert [years for years, _ in bands] == [1, 4, 9, 14, 19, 31, 51]
    assert bands[-1][1] == "51 years and older"
    assert not sex_matters(content.rda, 9)
    assert sex_matters(content.rda, 14)
    assert status_possible(content.rda, 31)
    assert not status_possible(content.rda, 51)


def test_profiles_round_trip_through_the_user_columns() -> None:
    for profile in (Profile(35, "female", "pregnant"), Profile(16, "male"), Profile(6)):
        assert profile_from_columns(*columns_of(profile)) == profile
    assert columns_of(Profile(35, "female")) == (35, "f", None)
    assert profile_from_columns(None, "f", None) is None
    assert profile_from_columns(40, "f", "something else") == Profile(40, "female")
