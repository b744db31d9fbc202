"""A person's profile (age, sex, pregnancy or breastfeeding) and the targets it gives them.

The figures come from the same tables as /intake (`content.rda`, the supplement upper limits),
through `bot.domain.rda`. Without a profile the diary measures food against the adult Daily
Value and supplements against the adult upper limit, and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.content import DAILY_VALUE_MG, RdaRow, Sourced, UpperLimit
from bot.domain.rda import (
    Intake,
    IntakeError,
    IntakeQuery,
    Sex,
    Status,
    adult_upper_limit,
    intake_for,
    parse_intake,
    row_for,
)

MIN_AGE_YEARS = 1
"""Profiles start at one year: below it the tables give an Adequate Intake by month only."""

DAILY_VALUE_SOURCE = "ods_hp"
"""The source of the 420 mg adult Daily Value (the one /food uses)."""

SEX_CODES: dict[Sex, str] = {"male": "m", "female": "f"}  # users.sex holds "m" / "f"
SEX_OF_CODE: dict[str, Sex] = {code: sex for sex, code in SEX_CODES.items()}
STATUS_CODES: dict[Status, str] = {"pregnant": "p", "lactating": "l"}  # in button data
STATUS_OF_CODE: dict[str, Status] = {code: status for status, code in STATUS_CODES.items()}


@dataclass(frozen=True)
class Profile:
    """What the diary needs to know about a person: age in years, sex, pregnancy or lactation."""

    age_years: int
    sex: Sex | None = None
    status: Status | None = None

    @property
    def query(self) -> IntakeQuery:
        """Return the /intake question this profile asks."""
        return IntakeQuery(self.age_years * 12, self.sex, self.status)


@dataclass(frozen=True)
class TooYoung:
    """An age under MIN_AGE_YEARS: profiles are for ages one and up."""


@dataclass(frozen=True)
class NeedsSex:
    """An age where the figures differ by sex, given without one: ask for it."""

    age_years: int


ProfileAnswer = Profile | IntakeError | TooYoung | NeedsSex


def parse_profile(
    text: str, rows: Sequence[RdaRow], limits: Sequence[UpperLimit]
) -> ProfileAnswer:
    """Parse "/profile 35 f", "/profile 30 f pregnant", "/profile 16 m" the way /intake does.

    The profile is only returned when the tables have one figure for it; an adult without a
    sex gives NeedsSex, so the bot can ask with buttons.
    """
    query = parse_intake(text)
    if isinstance(query, IntakeError):
        return query
    if query.age_months < MIN_AGE_YEARS * 12:
        return TooYoung()
    profile = Profile(query.age_months // 12, query.sex, query.status)
    answer = intake_of(profile, rows, limits)
    if isinstance(answer, IntakeError):
        return answer
    if answer.mg is None:
        return NeedsSex(profile.age_years)
    return profile


def intake_of(
    profile: Profile, rows: Sequence[RdaRow], limits: Sequence[UpperLimit]
) -> Intake | IntakeError:
    """Return the /intake answer for a profile."""
    return intake_for(profile.query, rows, limits)


def sex_matters(rows: Sequence[RdaRow], age_years: int) -> bool:
    """Return True when the table gives different figures by sex at this age."""
    row = row_for(rows, age_years * 12)
    return row is not None and row.male != row.female


def status_possible(rows: Sequence[RdaRow], age_years: int) -> bool:
    """Return True when the table has pregnancy or breastfeeding figures at this age."""
    row = row_for(rows, age_years * 12)
    return row is not None and (row.pregnancy is not None or row.lactation is not None)


def age_bands(rows: Sequence[RdaRow]) -> list[tuple[int, str]]:
    """Return the table's age groups from one year on, as (first year, label), for buttons."""
    return [
        (row.age_from_months // 12, row.label)
        for row in rows
        if row.age_from_months >= MIN_AGE_YEARS * 12 and row.age_from_months % 12 == 0
    ]


@dataclass(frozen=True)
class Targets:
    """What the diary measures against.

    `need_mg` is the person's RDA (or the adult Daily Value without a profile); `limit_mg` the
    upper limit for supplements (None where none is set). `cited` holds the table rows behind
    both, for the source line; `daily_value` says the need is the Daily Value.
    """

    need_mg: int
    limit_mg: int | None
    personal: bool
    cited: tuple[Sourced, ...] = ()
    daily_value: bool = False


def targets_for(
    profile: Profile | None, rows: Sequence[RdaRow], limits: Sequence[UpperLimit]
) -> Targets:
    """Return the person's targets, or the adult ones without a (usable) profile."""
    if profile is not None:
        answer = intake_of(profile, rows, limits)
        if isinstance(answer, Intake) and answer.mg is not None:
            cited: list[Sourced] = [answer.row]
            limit = answer.upper_limit
            if limit is not None:
                cited.append(limit)
            return Targets(
                need_mg=answer.mg,
                limit_mg=None if limit is None else limit.mg,
                personal=True,
                cited=tuple(cited),
            )
    adult = adult_upper_limit(limits)
    return Targets(
        need_mg=DAILY_VALUE_MG,
        limit_mg=None if adult is None else adult.mg,
        personal=False,
        cited=() if adult is None else (adult,),
        daily_value=True,
    )


def profile_from_columns(age: int | None, sex: str | None, status: str | None) -> Profile | None:
    """Rebuild a profile from the users row (None when no profile is stored)."""
    if age is None:
        return None
    stored_status: Status | None = (
        status if status in ("pregnant", "lactating") else None  # type: ignore[assignment]
    )
    return Profile(age, SEX_OF_CODE.get(sex or ""), stored_status)


def columns_of(profile: Profile) -> tuple[int, str | None, str | None]:
    """Return the users-row columns (age, sex, life_stage) that store a profile."""
    sex = SEX_CODES[profile.sex] if profile.sex is not None else None
    return profile.age_years, sex, profile.status
