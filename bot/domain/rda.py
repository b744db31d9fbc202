"""Daily magnesium needs: parse "/intake 35 f", find the RDA (or AI) row and the supplement UL.

Pure logic over `content.rda` (age bands in months) and `content.supplements.upper_limits`
(age bands in whole years). The figures themselves always come from the content files.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.content import RdaRow, UpperLimit

Sex = Literal["male", "female"]
Status = Literal["pregnant", "lactating"]

MAX_AGE_YEARS = 120

SEX_WORDS: dict[str, Sex] = {
    "m": "male",
    "male": "male",
    "man": "male",
    "men": "male",
    "boy": "male",
    "f": "female",
    "female": "female",
    "woman": "female",
    "women": "female",
    "girl": "female",
    "w": "female",
}
STATUS_WORDS: dict[str, Status] = {
    "pregnant": "pregnant",
    "pregnancy": "pregnant",
    "expecting": "pregnant",
    "lactating": "lactating",
    "lactation": "lactating",
    "breastfeeding": "lactating",
    "nursing": "lactating",
}
MONTH_WORDS = frozenset({"mo", "mos", "month", "months", "mth", "mths"})
YEAR_WORDS = frozenset({"y", "yo", "yr", "yrs", "year", "years", "old", "age", "aged"})

_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[a-z]+")
# A minus sign (ASCII, or U+2212) right before a number: "-1", "- 5". Hyphens between words
# ("35-year-old") are separators and stay allowed.
_NEGATIVE = re.compile(r"(?<![\w.,])[-\u2212]\s*\d")


class IntakeError(enum.Enum):
    """Why an /intake request could not be answered."""

    UNKNOWN_WORD = "unknown_word"  # a word that is neither an age, a sex nor a status
    NO_AGE = "no_age"  # e.g. "/intake f": the needs depend on age
    BAD_AGE = "bad_age"  # not a sensible age, or two ages
    NOT_COVERED = "not_covered"  # no table row for this age
    NO_PREGNANCY_VALUE = "no_pregnancy_value"  # e.g. "pregnant 8": no figure for that age
    NO_LACTATION_VALUE = "no_lactation_value"  # e.g. "lactating 60"
    MALE_STATUS = "male_status"  # "pregnant m"


@dataclass(frozen=True)
class IntakeQuery:
    """One person: age in months, and sex and pregnancy/lactation when given."""

    age_months: int
    sex: Sex | None = None
    status: Status | None = None


@dataclass(frozen=True)
class Intake:
    """The answer for one person.

    `mg` is their recommended intake; when their sex is unknown and it matters, `mg` is None
    and `male_mg`/`female_mg` hold both. `upper_limit` is the supplement UL row for their age.
    """

    query: IntakeQuery
    row: RdaRow
    mg: int | None
    male_mg: int
    female_mg: int
    upper_limit: UpperLimit | None


def parse_intake(text: str) -> IntakeQuery | IntakeError:
    """Parse "35 f", "f 35", "16 m", "pregnant 30", "lactating 25", "2", "5 months", "35f"."""
    if _NEGATIVE.search(text):
        return IntakeError.BAD_AGE  # "-1" is not an age; never read it as 1
    tokens = _TOKEN.findall(text.lower().replace("-", " "))
    numbers: list[float] = []
    months = False
    sex: Sex | None = None
    status: Status | None = None
    unknown = re.sub(r"[\d.,\sa-z-]", "", text.lower())
    if unknown:
        return IntakeError.UNKNOWN_WORD
    for token in tokens:
        if token[0].isdigit():
            numbers.append(float(token.replace(",", ".")))
        elif token in MONTH_WORDS:
            months = True
        elif token in YEAR_WORDS:
            continue
        elif token in SEX_WORDS:
            sex = SEX_WORDS[token]
        elif token in STATUS_WORDS:
            status = STATUS_WORDS[token]
        else:
            return IntakeError.UNKNOWN_WORD
    if status is not None and sex == "male":
        return IntakeError.MALE_STATUS
    if not numbers:
        return IntakeError.NO_AGE
    if len(numbers) > 1:
        return IntakeError.BAD_AGE
    value = numbers[0]
    age_months = int(value) if months else int(value * 12 + 1e-9)
    if value < 0 or age_months > MAX_AGE_YEARS * 12 or (months and value != int(value)):
        return IntakeError.BAD_AGE
    if status is not None:
        sex = "female"
    return IntakeQuery(age_months, sex, status)


def row_for(rows: Sequence[RdaRow], age_months: int) -> RdaRow | None:
    """Return the table row whose age band holds `age_months`."""
    for row in rows:
        if row.age_from_months <= age_months and (
            row.age_to_months is None or age_months < row.age_to_months
        ):
            return row
    return None


def upper_limit_for(limits: Sequence[UpperLimit], age_months: int) -> UpperLimit | None:
    """Return the supplement UL row for an age (bands in whole years, both ends inclusive)."""
    years = age_months // 12
    fitting = [
        limit
        for limit in limits
        if limit.age_from <= years and (limit.age_to is None or years <= limit.age_to)
    ]
    # The narrowest band is the most specific one.
    return min(fitting, key=lambda u: (u.age_to or 10**6) - u.age_from, default=None)


def adult_upper_limit(limits: Sequence[UpperLimit]) -> UpperLimit | None:
    """Return the UL row for adults (the open-ended band)."""
    return next((u for u in limits if u.age_to is None and u.mg is not None), None)


def intake_for(
    query: IntakeQuery, rows: Sequence[RdaRow], limits: Sequence[UpperLimit]
) -> Intake | IntakeError:
    """Return one person's recommended intake and their supplement UL."""
    row = row_for(rows, query.age_months)
    if row is None:
        return IntakeError.NOT_COVERED
    if query.status == "pregnant":
        mg = row.pregnancy
    elif query.status == "lactating":
        mg = row.lactation
    elif query.sex == "male":
        mg = row.male
    elif query.sex == "female" or row.male == row.female:
        mg = row.female
    else:
        mg = None
    if query.status == "pregnant" and mg is None:
        return IntakeError.NO_PREGNANCY_VALUE
    if query.status == "lactating" and mg is None:
        return IntakeError.NO_LACTATION_VALUE
    return Intake(
        query=query,
        row=row,
        mg=mg,
        male_mg=row.male,
        female_mg=row.female,
        upper_limit=upper_limit_for(limits, query.age_months),
    )


def lookup(
    text: str, rows: Sequence[RdaRow], limits: Sequence[UpperLimit]
) -> Intake | IntakeError:
    """Parse an /intake request and answer it."""
    query = parse_intake(text)
    if isinstance(query, IntakeError):
        return query
    return intake_for(query, rows, limits)


def status_ages(rows: Sequence[RdaRow], status: Status) -> tuple[int, int] | None:
    """Return the first and last age in years that have a pregnancy (or lactation) figure."""
    covered = [
        r for r in rows if (r.pregnancy if status == "pregnant" else r.lactation) is not None
    ]
    if not covered:
        return None
    first = min(r.age_from_months for r in covered) // 12
    ends = [r.age_to_months for r in covered]
    last = MAX_AGE_YEARS if None in ends else (max(e for e in ends if e is not None) - 1) // 12
    return first, last


def age_parts(age_months: int) -> tuple[Literal["years", "months"], int]:
    """Return how to say an age: months for babies and odd months under two, else years."""
    if age_months < 12 or (age_months < 24 and age_months % 12):
        return "months", age_months
    return "years", age_months // 12
