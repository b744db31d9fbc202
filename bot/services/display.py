"""How times and reminder rules are shown to people: in their own zone, in plain words."""

from __future__ import annotations

import html
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.content import Texts
from bot.domain.rules import WEEKENDS, WORKDAYS, Rule, RuleKind
from bot.domain.timeparse import format_local_time


def local_when(texts: Texts, moment: datetime, zone: ZoneInfo) -> str:
    """Return e.g. "Tue 25 Nov, 09:00 Europe/Berlin" as plain text.

    Plain, not HTML: it is meant to be a value inside another template, which escapes it.

    Raises:
        ValueError: If `moment` is naive.
    """
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    local = moment.astimezone(zone)
    weekdays = texts.raw("timezone.weekdays").split()
    months = texts.raw("timezone.months").split()
    return html.unescape(
        texts.get(
            "timezone.when",
            weekday=weekdays[local.weekday()],
            day=local.day,
            month=months[local.month - 1],
            time=f"{local.hour:02d}:{local.minute:02d}",
            zone=zone.key,
        )
    )


def _local_date(texts: Texts, day: date, today: date, *, weekday: bool) -> str:
    """Return "Thu 3 Dec" / "3 Dec" (with the year when it is not this year's)."""
    months = texts.raw("timezone.months").split()
    month = months[day.month - 1]
    if weekday:
        name = texts.raw("timezone.weekdays").split()[day.weekday()]
        if day.year == today.year:
            return texts.get("rules.date", weekday=name, day=day.day, month=month)
        return texts.get("rules.date_year", weekday=name, day=day.day, month=month, year=day.year)
    if day.year == today.year:
        return texts.get("rules.until_date", day=day.day, month=month)
    return texts.get("rules.until_date_year", day=day.day, month=month, year=day.year)


def listing(texts: Texts, items: list[str]) -> str:
    """Join items as a sentence does: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    separator = texts.raw("rules.list_separator")
    return separator.join(items[:-1]) + texts.raw("rules.last_separator") + items[-1]


def times_words(texts: Texts, rule: Rule) -> str:
    """Return a rule's times of day: "08:00", "08:00 and 20:00"."""
    return listing(texts, [format_local_time(at) for at in rule.times])


def days_words(texts: Texts, weekdays: int) -> str:
    """Return days of the week: "Mon, Wed, Fri", "weekdays", "weekends"."""
    if weekdays == WORKDAYS:
        return texts.raw("rules.workdays")
    if weekdays == WEEKENDS:
        return texts.raw("rules.weekends")
    names = texts.raw("timezone.weekdays").split()
    return texts.raw("rules.list_separator").join(
        name for day, name in enumerate(names) if weekdays & (1 << day)
    )


def until_words(texts: Texts, until: date, today: date) -> str:
    """Return the last day of a course as shown: "31 Jan", "31 Jan 2027"."""
    return html.unescape(_local_date(texts, until, today, weekday=False))


def rule_words(texts: Texts, rule: Rule, today: date) -> str:
    """Return a rule as plain text: "Mon, Wed, Fri at 08:00", "every 2 days at 21:00, until 3 Dec".

    Plain, not HTML, like `local_when`: it is meant to be a value inside another template.

    Args:
        texts: The loaded texts.
        rule: The rule.
        today: The user's local date (a date of this year is shown without the year).
    """
    times = times_words(texts, rule)
    if rule.kind is RuleKind.ONE_OFF:
        assert rule.anchor is not None
        day = _local_date(texts, rule.anchor, today, weekday=True)
        words = texts.get("rules.once", date=html.unescape(day), times=times)
    elif rule.kind is RuleKind.INTERVAL:
        words = texts.get("rules.every", n=rule.every, times=times)
    elif rule.kind is RuleKind.WEEKDAYS:
        words = texts.get("rules.weekdays", days=days_words(texts, rule.weekdays), times=times)
    else:
        words = texts.get("rules.daily", times=times)
    if rule.until is not None:
        until = until_words(texts, rule.until, today)
        words = texts.get("rules.until", rule=html.unescape(words), date=until)
    return html.unescape(words)
