from __future__ import annotations

import pytest

from bot.content import Content, RdaRow, UpperLimit
from bot.domain.rda import (
    Intake,
    IntakeError,
    IntakeQuery,
    adult_upper_limit,
    age_parts,
    intake_for,
    lookup,
    parse_intake,
    row_for,
    status_ages,
    upper_limit_for,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("35 f", IntakeQuery(420, "female")),
        ("f 35", IntakeQuery(420, "female")),
        ("35f", IntakeQuery(420, "female")),
        ("35 female", IntakeQuery(420, "female")),
        ("woman 35 years", IntakeQuery(420, "female")),
        ("16 m", IntakeQuery(192, "male")),
        ("M 16", IntakeQuery(192, "male")),
        ("male 16 y", IntakeQuery(192, "male")),
        ("pregnant 30", IntakeQuery(360, "female", "pregnant")),
        ("30 pregnant f", IntakeQuery(360, "female", "pregnant")),
        ("lactating 25", IntakeQuery(300, "female", "lactating")),
        ("breastfeeding 25", IntakeQuery(300, "female", "lactating")),
        ("2", IntakeQuery(24)),
        ("1.5", IntakeQuery(18)),
        ("5 months", IntakeQuery(5)),
        ("5 mo", IntakeQuery(5)),
        ("0", IntakeQuery(0)),
    ],
)
def test_parse_intake_reads_age_sex_and_status(text: str, expected: IntakeQuery) -> None:
    assert parse_intake(text) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("200 x", IntakeError.UNKNOWN_WORD),
        ("35 q", IntakeError.UNKNOWN_WORD),
        ("35 f!", IntakeError.UNKNOWN_WORD),
        ("f", IntakeError.NO_AGE),
        ("pregnant", IntakeError.NO_AGE),
        ("200", IntakeError.BAD_AGE),
        ("35 40", IntakeError.BAD_AGE),
        ("2.5 months", IntakeError.BAD_AGE),
        ("pregnant m 30", IntakeError.MALE_STATUS),
        ("-1", IntakeError.BAD_AGE),
        ("-5 f", IntakeError.BAD_AGE),
        ("f -5", IntakeError.BAD_AGE),
        ("- 5", IntakeError.BAD_AGE),
        ("\u22123", IntakeError.BAD_AGE),
        ("-0.5", IntakeError.BAD_AGE),
        ("pregnant -30", IntakeError.BAD_AGE),
        ("-2 months", IntakeError.BAD_AGE),
    ],
)
def test_parse_intake_explains_bad_input(text: str, error: IntakeError) -> None:
    assert parse_intake(text) is error


def answer(content: Content, text: str) -> Intake:
    result = lookup(text, content.rda, content.supplements.upper_limits)
    assert isinstance(result, Intake), result
    return result


@pytest.mark.parametrize(
    ("text", "mg", "ul"),
    [
        ("35 f", 320, 350),
        ("35 m", 420, 350),
        ("25 f", 310, 350),
        ("16 m", 410, 350),
        ("16 f", 360, 350),
        ("pregnant 30", 350, 350),
        ("pregnant 35", 360, 350),
        ("pregnant 17", 400, 350),
        ("lactating 25", 310, 350),
        ("2", 80, 65),
        ("6", 130, 110),
        ("10", 240, 350),
        ("70 m", 420, 350),
    ],
)
def test_lookup_gives_the_rda_and_the_upper_limit(
    content: Content, text: str, mg: int, ul: int
) -> None:
    result = answer(content, text)
    assert result.mg == mg
    assert result.upper_limit is not None
    assert result.upper_limit.mg == ul


def test_babies_get_an_adequate_intake_and_no_upper_limit(content: Content) -> None:
    result = answer(content, "5 months")
    assert result.mg == 30
    assert result.row.kind == "AI"
    assert result.upper_limit is not None
    assert result.upper_limit.mg is None
    assert answer(content, "8 months").mg == 75


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("0 months", "Birth to 6 months"),
        ("0", "Birth to 6 months"),
        ("6 months", "Birth to 6 months"),
        ("0.5", "Birth to 6 months"),
        ("7 months", "7-12 months"),
        ("11 months", "7-12 months"),
        ("12 months", "1-3 years"),
        ("1", "1-3 years"),
        ("47 months", "1-3 years"),
        ("3", "1-3 years"),
        ("4", "4-8 years"),
        ("8", "4-8 years"),
        ("9", "9-13 years"),
        ("13", "9-13 years"),
        ("14 f", "14-18 years"),
        ("18 f", "14-18 years"),
        ("19 f", "19-30 years"),
        ("30 f", "19-30 years"),
        ("31 f", "31-50 years"),
        ("50 f", "31-50 years"),
        ("51 f", "51 years and older"),
        ("120 f", "51 years and older"),
    ],
)
def test_every_age_band_boundary(content: Content, text: str, label: str) -> None:
    assert answer(content, text).row.label == label


def test_adults_without_a_sex_get_both_figures(content: Content) -> None:
    result = answer(content, "35")
    assert result.mg is None
    assert (result.male_mg, result.female_mg) == (420, 320)


def test_no_pregnancy_figure_for_children_or_after_fifty(content: Content) -> None:
    rows, limits = content.rda, content.supplements.upper_limits
    assert lookup("pregnant 8", rows, limits) is IntakeError.NO_PREGNANCY_VALUE
    assert lookup("lactating 60", rows, limits) is IntakeError.NO_LACTATION_VALUE
    assert status_ages(rows, "pregnant") == (14, 50)
    assert status_ages(rows, "lactating") == (14, 50)


def test_band_edges_follow_the_table(content: Content) -> None:
    rows = content.rda
    assert row_for(rows, 0) is rows[0]
    assert row_for(rows, 5) is rows[0]
    assert row_for(rows, 6) is rows[0]  # "Birth to 6 months" includes 6 months
    assert row_for(rows, 7) is rows[1]
    last = row_for(rows, 120 * 12)
    assert last is not None
    assert last.age_to_months is None
    limits = content.supplements.upper_limits
    one = upper_limit_for(limits, 12)
    assert one is not None
    assert one.mg == 65
    adult = adult_upper_limit(limits)
    assert adult is not None
    assert adult.mg == 350


def test_uncovered_ages_are_reported() -> None:
    row = RdaRow(
        source=("x",),
        verification="computed",
        label="adults",
        age_from_months=228,
        age_to_months=None,
        male=1,
        female=2,
    )
    limit = UpperLimit(source=("x",), verification="computed", age_from=19, age_to=None, mg=3)
    assert intake_for(IntakeQuery(24), [row], [limit]) is IntakeError.NOT_COVERED
    assert status_ages([row], "pregnant") is None


def test_age_parts_say_babies_in_months() -> None:
    assert age_parts(5) == ("months", 5)
    assert age_parts(18) == ("months", 18)
    assert age_parts(12) == ("years", 1)
    assert age_parts(35 * 12) == ("years", 35)
